// The supervisor's side of workspaces: the worktree is made after the run is claimed and
// before Claude starts in it, and whatever a run left there is committed before its end is
// recorded (completed, failed, interrupted; abandoned by the recovery that abandons it).
//
// Made at the claim, not as a reaction to the launch: only the instance that won the claim
// touches the repository, and a crash at any step leaves something the next start can
// account for: a worktree made but not recorded is ours by its path (<root>/<session id>)
// and is removed before the next attempt makes it again; a recorded one is used as it is.
import { readdir, rm, stat } from "node:fs/promises"
import { dirname, join } from "node:path"
import { Effect, Result } from "effect"
import type { SessionCommand } from "../domain/sessionDecider.ts"
import type { Session, WorkspaceState } from "../domain/sessionState.ts"
import { errorText, type Logger } from "../log.ts"
import { git, gitRaw } from "./git.ts"
import { applyReset, commitRun, createWorkspace, discardWorkspace, listWorktrees, repositoryOf } from "./worktree.ts"

export type RunEnd = "completed" | "failed" | "interrupted" | "abandoned"

export interface WorkspaceProcess {
  /** After the claim: where Claude works (undefined: the session has no workspace), or why the run cannot start. */
  readonly prepare: (s: Session) => Promise<{ readonly cwd: string | undefined } | { readonly error: string }>
  /** Before the run's end is recorded: commits what the run left in its worktree and records it. */
  readonly settle: (sessionId: string, runId: string, end: RunEnd) => Promise<void>
  /**
   * At start, once recovery is done: the worktrees on disk against the record. A worktree
   * no session recorded is removed (a crash between making and recording it); a discarded
   * or archived session's worktree is removed; a recorded worktree that is gone is reported.
   */
  readonly reconcile: () => Promise<ReconcileReport>
  /** An archived session's worktree goes (its branch stays: a continue checks it out again). */
  readonly archived: (sessionId: string) => Promise<void>
}

export interface ReconcileReport {
  readonly removed: ReadonlyArray<string>
  readonly missing: ReadonlyArray<string>
}

export interface WorkspaceProcessDeps {
  readonly root: string
  readonly logger: Logger
  /** The session as the store has it now. */
  readonly load: (sessionId: string) => Promise<Session | null>
  /** Appends a workspace command for the run (retried while the store is unavailable). */
  readonly record: (sessionId: string, runId: string, command: SessionCommand) => Promise<Result.Result<unknown, { readonly _tag: string }>>
  /** The sessions whose streams record a WorkspaceCreated. */
  readonly recorded: () => Promise<ReadonlyArray<string>>
}

/** The branch a session's worktree is on unless the launch names one. */
export const defaultBranch = (sessionId: string): string => `agentlog/${sessionId.slice(0, 8)}`

/** Where a session's worktree lives: one per session, so a leftover is known by its path. */
export const workspacePath = (root: string, sessionId: string): string => join(root, sessionId)

const exists = (p: string) => stat(p).then(() => true, () => false)
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const runPromise = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(Effect.result(e))

/** Files kept in the event; the counts cover all of them. */
const maxFilesRecorded = 1000

export const makeWorkspaceProcess = (deps: WorkspaceProcessDeps): WorkspaceProcess => {
  const { root, logger } = deps

  /** A worktree left at our path by an attempt that crashed before recording it. */
  const removeLeftover = async (cwd: string, path: string) => {
    if (!(await exists(path))) return
    const repo = await runPromise(repositoryOf(cwd))
    if (Result.isFailure(repo)) return
    const listed = await runPromise(listWorktrees(repo.success))
    const mine = Result.isSuccess(listed) ? listed.success.find((w) => w.path === path) : undefined
    if (!mine?.branch) return
    logger.log("warn", "removing a worktree made by an attempt that was never recorded", { path, branch: mine.branch })
    await runPromise(discardWorkspace(repo.success, path, mine.branch))
  }

  /** A recorded worktree whose directory went (cleaned up after an archive): checked out again from its branch. */
  const restore = async (repo: string, path: string, branch: string) => {
    if (await exists(path)) return
    await runPromise(gitRaw(repo, ["worktree", "prune"]))
    const r = await runPromise(git(repo, ["worktree", "add", "--quiet", path, branch]))
    if (Result.isFailure(r)) throw r.failure
  }

  /**
   * A reset recorded since the last commit (the record's head is the reset's sha) is carried
   * out here, by the instance that runs the session's next run, before Claude starts in it.
   */
  const pendingReset = async (sessionId: string, w: WorkspaceState) => {
    const last = w.resets?.at(-1)
    if (!last || w.head !== last.sha) return
    const r = await runPromise(applyReset(w.path, w.resets ?? []))
    if (Result.isFailure(r)) throw r.failure
    if (r.success) logger.log("info", "workspace reset to an earlier run", { sessionId, runId: last.runId, sha: last.sha, keptAs: last.keptAs })
  }

  const prepare: WorkspaceProcess["prepare"] = async (s) => {
    const runId = s.runId
    const w = s.workspace
    if (w) {
      if (w.status === "discarded") return { error: "the session's workspace was discarded; launch a new session to work on the repository" }
      try {
        await restore(w.repo, w.path, w.branch)
      } catch (e) {
        return { error: `the workspace ${w.path} cannot be checked out again: ${errorText(e)}` }
      }
      try {
        await pendingReset(s.sessionId, w)
      } catch (e) {
        return { error: `the workspace ${w.path} cannot be reset: ${errorText(e)}` }
      }
      return { cwd: w.cwd }
    }
    const option = s.runOptions.workspace
    if (option?.kind !== "worktree") return { cwd: undefined }
    const path = workspacePath(root, s.sessionId)
    const cwd = s.runOptions.cwd ?? process.cwd()
    await removeLeftover(cwd, path)
    const made = await runPromise(
      createWorkspace({ cwd, baseRef: option.baseRef, startAt: option.startAt, branch: option.branch ?? defaultBranch(s.sessionId), path })
    )
    if (Result.isFailure(made)) return { error: `workspace: ${made.failure.message}` }
    const ws = made.success
    const recorded = await deps.record(s.sessionId, runId, {
      kind: "RecordWorkspaceCreated",
      sessionId: s.sessionId,
      data: { runId, repo: ws.repo, baseRef: ws.baseRef, baseSha: ws.baseSha, branch: ws.branch, path: ws.path, cwd: ws.cwd }
    })
    if (Result.isFailure(recorded)) {
      // Not in the record: not left on disk either.
      await runPromise(discardWorkspace(ws.repo, ws.path, ws.branch))
      return { error: `the workspace could not be recorded: ${recorded.failure._tag}` }
    }
    logger.log("info", "workspace created", { sessionId: s.sessionId, runId, path: ws.path, branch: ws.branch, baseSha: ws.baseSha })
    return { cwd: ws.cwd }
  }

  const settle: WorkspaceProcess["settle"] = async (sessionId, runId, end) => {
    const s = await deps.load(sessionId)
    const w = s?.workspace
    // Only a run that was started (so may have worked in the worktree) has anything to commit.
    if (!s || !w || w.status !== "active" || s.runId !== runId || !["running", "waiting_approval"].includes(s.status)) return
    if (!(await exists(w.path))) {
      logger.log("warn", "a run's workspace is gone; nothing to commit", { sessionId, runId, path: w.path })
      return
    }
    // A crash between the claim and the reset: what the run would have started from is what it leaves.
    await pendingReset(sessionId, w).catch((e: unknown) =>
      logger.log("error", "could not carry out a recorded reset", { sessionId, runId, error: errorText(e) })
    )
    const title = (s.title ?? s.runQuery).split("\n")[0]!.slice(0, 72)
    const message = `${title}\n\nagentlog session ${sessionId}, run ${runId} (${end})\n\n${s.runQuery}`
    const committed = await runPromise(commitRun(w.path, message, w.head))
    if (Result.isFailure(committed)) {
      logger.log("error", "could not commit a run's workspace; its changes stay uncommitted in the worktree", {
        sessionId,
        runId,
        error: errorText(committed.failure)
      })
      return
    }
    const { sha, files } = committed.success
    const r = await deps.record(sessionId, runId, {
      kind: "RecordWorkspaceCommitted",
      sessionId,
      data: {
        runId,
        sha,
        parentSha: w.head,
        changed: sha !== w.head,
        outcome: end,
        files: files.slice(0, maxFilesRecorded),
        fileCount: files.length,
        insertions: files.reduce((n, f) => n + f.insertions, 0),
        deletions: files.reduce((n, f) => n + f.deletions, 0)
      }
    })
    if (Result.isFailure(r)) logger.log("error", "could not record a run's commit", { sessionId, runId, sha, error: r.failure._tag })
  }

  /** Removes a worktree directory of ours, its branch too unless `keepBranch`; git's bookkeeping pruned. */
  const remove = async (path: string, keepBranch: boolean) => {
    const common = await runPromise(git(path, ["rev-parse", "--path-format=absolute", "--git-common-dir"]))
    const branch = await runPromise(git(path, ["symbolic-ref", "--quiet", "--short", "HEAD"]))
    if (Result.isFailure(common)) {
      // Not a worktree git knows (a half-made directory): only the directory is ours to remove.
      await rm(path, { recursive: true, force: true })
      return
    }
    const repo = dirname(common.success.trim())
    if (keepBranch || Result.isFailure(branch)) {
      await runPromise(gitRaw(repo, ["worktree", "remove", "--force", "--force", path]))
      await rm(path, { recursive: true, force: true })
      await runPromise(gitRaw(repo, ["worktree", "prune"]))
    } else await runPromise(discardWorkspace(repo, path, branch.success.trim()))
  }

  const quiet = (s: Session) => !["queued", "running", "waiting_approval"].includes(s.status)

  const archived: WorkspaceProcess["archived"] = async (sessionId) => {
    const s = await deps.load(sessionId)
    const w = s?.workspace
    if (!s || !w || !s.archived || !quiet(s) || !(await exists(w.path))) return
    // What a run left uncommitted (there is none after a settled run) is not thrown away.
    const dirty = await runPromise(git(w.path, ["status", "--porcelain"]))
    if (Result.isFailure(dirty) || dirty.success.trim() !== "") return
    await remove(w.path, true)
    logger.log("info", "removed an archived session's worktree (its branch stays)", { sessionId, path: w.path })
  }

  const reconcile: WorkspaceProcess["reconcile"] = async () => {
    const removed: Array<string> = []
    const missing: Array<string> = []
    const onDisk = await readdir(root).catch(() => [] as Array<string>)
    for (const name of onDisk) {
      if (!uuid.test(name)) continue
      const path = join(root, name)
      const s = await deps.load(name)
      const w = s?.workspace
      if (!w || w.path !== path) {
        logger.log("warn", "removing a worktree no session recorded (a crash between making and recording it)", { path })
        await remove(path, false)
        removed.push(path)
      } else if (w.status === "discarded") {
        await remove(path, false)
        removed.push(path)
      } else if (s.archived) await archived(name)
    }
    for (const sessionId of await deps.recorded()) {
      const s = await deps.load(sessionId)
      const w = s?.workspace
      if (!s || !w || w.status !== "active" || s.archived || (await exists(w.path))) continue
      const branch = await runPromise(gitRaw(w.repo, ["show-ref", "--verify", "--quiet", `refs/heads/${w.branch}`]))
      const kept = Result.isSuccess(branch) && branch.success.code === 0
      logger.log("warn", "a recorded workspace is missing from disk", {
        sessionId,
        path: w.path,
        branch: w.branch,
        branchKept: kept,
        what: kept ? "a continue checks the branch out again" : "its branch is gone too: its commits are named in the record"
      })
      missing.push(w.path)
    }
    return { removed, missing }
  }

  return { prepare, settle, reconcile, archived }
}
