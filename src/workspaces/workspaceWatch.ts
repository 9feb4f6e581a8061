// The "workspace changed" notice on a session's live stream (GET /v1/sessions/:id/events/live):
// while a run is active in the session's worktree, a watch of the worktree says that it
// changed, at most once per interval, so a page can fetch the diff again.
//
// A live notice, not a stored event: it says nothing the record does not already hold
// (each run's changes are recorded by WorkspaceCommitted at its end), a notice per second
// of a busy run would swell the stream many times over, and replaying one later would tell
// nothing true (the worktree it pointed at has moved on). It carries no `id:`, so a
// resume by Last-Event-ID neither expects nor repeats it.
import { watch } from "node:fs"
import { Effect, Queue, Stream } from "effect"

/** At most one notice per this many milliseconds. */
export const workspaceNoticeMs = 1_000

/** Starts watching `path` (recursively) and calls `onChange` on each change; returns the stop. */
export type Watcher = (path: string, onChange: () => void) => () => void

export const fsWatcher: Watcher = (path, onChange) => {
  try {
    const w = watch(path, { recursive: true }, (_, file) => {
      // git's own files of the worktree live in the repository's .git, not here; a `.git` entry is the link to them.
      if (file !== null && /^\.git(\/|$)/.test(String(file))) return
      onChange()
    })
    w.on("error", () => w.close())
    return () => w.close()
  } catch {
    // Gone (archived, discarded) or not on this machine: nothing to watch.
    return () => {}
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
