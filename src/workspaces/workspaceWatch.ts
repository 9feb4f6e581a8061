// The "workspace changed" notice on a session's live stream (GET /v1/sessions/:id/events/live):
// while a run is active in the session's worktree, a watch of the worktree says that it
// changed, at most once per interval, so a page can fetch the diff again.
//
// A live notice, not a stored event: it says nothing the record does not already hold
// (each run's changes are recorded by WorkspaceCommitted at its end), a notice per second
// of a busy run would swell the stream many times over, and replaying one later would tell
// nothing true (the worktree it pointed at has moved on). It carries no `id:`, so a
// resume by Last-Event-ID neither expects nor repeats it.
import { type FSWatcher, watch } from "node:fs"
import { readdir, stat } from "node:fs/promises"
import { join } from "node:path"
import { Effect, Queue, Stream } from "effect"

/** At most one notice per this many milliseconds. */
export const workspaceNoticeMs = 1_000

/** Starts watching `path` (recursively) and calls `onChange` on each change; returns the stop. */
export type Watcher = (path: string, onChange: () => void) => () => void

/**
 * One non-recursive watch per directory, found by an asynchronous walk (and a new directory
 * added when it appears). Node's `recursive: true` on Linux watches every file and sets
 * them all up synchronously: about a second of a blocked event loop for a worktree of
 * 10,000 files, per stream.
 */
export const fsWatcher: Watcher = (root, onChange) => {
  const watchers = new Map<string, FSWatcher>()
  let closed = false
  const add = async (dir: string): Promise<void> => {
    if (closed || watchers.has(dir)) return
    let w: FSWatcher
    try {
      w = watch(dir, (kind, name) => {
        // git's own files of the worktree live in the repository's .git; the `.git` here only links to them.
        if (name === null || (dir === root && String(name) === ".git")) return
        onChange()
        if (kind === "rename") {
          const p = join(dir, String(name))
          void stat(p).then((s) => (s.isDirectory() ? add(p) : undefined), () => undefined)
        }
      })
    } catch {
      // Gone (archived, discarded) or not on this machine: nothing to watch.
      return
    }
    w.on("error", () => {
      w.close()
      watchers.delete(dir)
    })
    watchers.set(dir, w)
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => [])
    for (const e of entries) if (e.isDirectory() && !(dir === root && e.name === ".git")) await add(join(dir, e.name))
  }
  void add(root)
  return () => {
    closed = true
    for (const w of watchers.values()) w.close()
    watchers.clear()
  }
}

/** What the stream already told when the watch starts: the session as loaded at `revision`. */
export interface WatchStart {
  readonly path: string | undefined
  readonly active: boolean
  readonly revision: bigint
}

export interface WorkspaceWatch {
  /** Each event the live stream delivers: a run starts or ends, the worktree is made or discarded. */
  readonly observe: (e: { readonly type: string; readonly revision: bigint; readonly data: unknown }) => void
  /** One element per notice: the first change after a quiet spell opens an interval, whose end brings one notice for every change within it. */
  readonly notices: Stream.Stream<void>
}

const runEnds = new Set(["RunCompleted", "RunFailed", "RunInterrupted", "RunAbandoned"])

export const makeWorkspaceWatch = (start: WatchStart, intervalMs = workspaceNoticeMs, watcher: Watcher = fsWatcher): Effect.Effect<WorkspaceWatch> =>
  Effect.gen(function* () {
    // Changes coalesce: one waiting is as good as a thousand.
    const changes = yield* Queue.sliding<void>(1)
    let { path, active } = start
    let watching: string | undefined
    let stop: (() => void) | undefined
    let closed = false
    const apply = () => {
      const want = active && !closed ? path : undefined
      if (want === watching) return
      stop?.()
      stop = undefined
      watching = want
      if (want !== undefined) stop = watcher(want, () => void Queue.offerUnsafe(changes, undefined))
    }
    const observe: WorkspaceWatch["observe"] = (e) => {
      // Replayed events the loaded session already accounts for.
      if (e.revision <= start.revision) return
      if (e.type === "RunStarted") active = true
      else if (runEnds.has(e.type)) active = false
      else if (e.type === "WorkspaceCreated") path = (e.data as { path: string }).path
      else if (e.type === "WorkspaceDiscarded") path = undefined
      else return
      apply()
    }
    const notices = Stream.fromEffectRepeat(
      Queue.take(changes).pipe(
        Effect.andThen(Effect.sleep(intervalMs)),
        Effect.andThen(Queue.clear(changes)),
        Effect.asVoid
      )
    ).pipe(
      Stream.onStart(Effect.sync(apply)),
      Stream.ensuring(
        Effect.sync(() => {
          closed = true
          apply()
        })
      )
    )
    return { observe, notices }
  })
