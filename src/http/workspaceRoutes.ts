// A session's worktree at the edge: the checks a launch or fork with a workspace passes
// before anything is appended (so a bad repository, ref or branch is a 4xx, not a failed
// run), and the review and finish routes: the diff, the commits, merge, rebase, discard.
// Merge and rebase change the repository first and are recorded after (their answer is
// the result); discard is recorded first and done after, so a crash in between leaves a
// record that says what the start-up reconcile finishes.
import { randomUUID } from "node:crypto"
import { stat } from "node:fs/promises"
import type { Hono } from "hono"
import { Effect, Result, Stream } from "effect"
import { decide, type WorkspaceCommand } from "../domain/sessionDecider.ts"
import { SessionNotFound } from "../domain/sessionErrors.ts"
import type { SessionOptions, WorkspaceOption } from "../domain/sessionOptions.ts"
import type { Session, WorkspaceState } from "../domain/sessionState.ts"
import { streamOf } from "../domain/streamName.ts"
import { diffCommits, diffWorkingTree, parseUnifiedDiff } from "../workspaces/diff.ts"
import { git, gitRaw } from "../workspaces/git.ts"
import { defaultBranch } from "../workspaces/workspaceProcess.ts"
import { makeWorkspaceWatch } from "../workspaces/workspaceWatch.ts"
import {
  checkWorkspace,
  discardWorkspace,
  mergeWorkspace,
  rebaseWorkspace,
  type WorkspaceError,
  type WorkspaceRefusal,
  type WorkspaceRefused
} from "../workspaces/worktree.ts"
import type { HttpDeps } from "./deps.ts"
import type { HttpEnv } from "./env.ts"
import { badRequest, type HttpProblem, notFound, problem } from "./problem.ts"
import type { RecordedEvent } from "../eventstore/eventStore.ts"
import { accepted, acceptedBody, commandContext, router } from "./routeKit.ts"
import { routes } from "./routes.ts"

/** What the person asked of the repository is wrong (400), or the repository's state is in the way (409). */
const refusalStatus: Record<WorkspaceRefusal, 400 | 409> = {
  not_a_repository: 400,
  not_writable: 400,
  ref_not_found: 400,
  bad_branch_name: 400,
  dirty_base: 409,
  branch_exists: 409,
  path_exists: 409,
  conflict: 409
}

const refusedProblem = (e: WorkspaceRefused): HttpProblem =>
  problem(refusalStatus[e.reason], `workspace-${e.reason.replace(/_/g, "-")}`, "The workspace cannot be made or changed", e.detail, {
    reason: e.reason,
    ...(e.files ? { files: e.files } : {})
  })

/** Refusals become problems; git failing in a way no refusal explains is a defect (a logged 500). */
const atEdge = <A>(e: Effect.Effect<A, WorkspaceError>): Effect.Effect<A, HttpProblem> =>
  e.pipe(Effect.catchTag("WorkspaceRefused", (r) => Effect.fail(refusedProblem(r))), Effect.orDie)

/**
 * The workspace a launch gets (its own, or the service's default), checked against the
 * repository now: cwd inside a repository, the base ref a commit, the base clean, the branch
 * new. The supervisor checks again when it makes it (the repository may change meanwhile).
 */
export const workspaceAtLaunch = (
  deps: HttpDeps,
  sessionId: string,
  options: SessionOptions
): Effect.Effect<SessionOptions, HttpProblem> =>
  Effect.gen(function* () {
    const workspace: WorkspaceOption | undefined =
      options.workspace ?? (deps.config.workspaceDefault === "worktree" ? { kind: "worktree" } : undefined)
    if (workspace === undefined) return options
    if (workspace.kind === "worktree") {
      const { baseRef, startAt, branch } = workspace
      yield* atEdge(checkWorkspace({ cwd: options.cwd ?? process.cwd(), baseRef, startAt, branch: branch ?? defaultBranch(sessionId) }))
    }
    return { ...options, workspace }
  })

/**
 * A fork of a session with a worktree gets a worktree of its own, branched from the
 * parent's commit at the fork point (its head: the last run's commit), on its own branch.
 */
export const forkWorkspace = (parent: Session | null, options: SessionOptions, overrides: SessionOptions): SessionOptions => {
  if (overrides.workspace !== undefined) return options
  const pw = parent?.workspace
  if (pw) return { ...options, workspace: { kind: "worktree", baseRef: pw.baseRef, startAt: pw.head } }
  // The parent's option without its branch name, which is the parent's.
  const w = options.workspace
  if (w?.kind === "worktree") {
    const { branch: _, ...rest } = w
    return { ...options, workspace: rest }
  }
  return options
}

/**
 * A session's live stream carries `workspace-changed` frames (no id) while a run works in its
 * worktree: the watch starts from the session as it is now and follows the events streamed.
 */
export const workspaceWatchOf = (deps: HttpDeps, sessionId: string) =>
  Effect.gen(function* () {
    const loaded = yield* deps.commands.load(sessionId)
    const s = loaded.state
    const w = s?.workspace
    const watch = yield* makeWorkspaceWatch({
      path: w?.status === "active" ? w.path : undefined,
      active: s?.status === "running" || s?.status === "waiting_approval",
      revision: loaded.revision ?? -1n
    })
    const frame = { event: "workspace-changed", data: JSON.stringify({ sessionId }) }
    return { observe: watch.observe, notices: Stream.map(watch.notices, () => frame) }
  })

const exists = (p: string) => Effect.promise(() => stat(p).then(() => true, () => false))

const wantsText = (accept: string | undefined) => /\btext\/x-diff\b|\btext\/plain\b/.test(accept ?? "")

const opensRun = new Set(["SessionLaunched", "SessionForked", "ContinueRequested"])

/** Where Claude's conversation was when a run ended: its last main-conversation message, and the run's existence. */
interface ResetPoint {
  readonly found: boolean
  readonly after: boolean
  readonly atMessage?: string
  readonly claudeSessionId?: string
}

/**
 * Folds a session's stream up to the end of run `runId`: the last message of Claude's main
 * conversation so far (not a subagent's, not a replay), as the page's "fork from here" picks
 * it. A fork from a message starts at that message of its parent.
 */
const resetPointStep = (runId: string) => (p: ResetPoint, e: RecordedEvent): ResetPoint => {
  if (p.after) return p
  const d = e.data as Record<string, unknown>
  if (opensRun.has(e.type)) {
    if (d.runId === runId) {
      const seeded = e.type === "SessionForked" && typeof d.atMessage === "string"
      return seeded ? { found: true, after: false, atMessage: d.atMessage as string, claudeSessionId: d.parentClaudeSessionId as string } : { ...p, found: true }
    }
    return p.found ? { ...p, after: true } : p
  }
  if (e.type !== "ClaudeAssistantMessage" && e.type !== "ClaudeUserMessage") return p
  const m = d.message as { uuid?: unknown; session_id?: unknown; isReplay?: unknown; parent_tool_use_id?: unknown } | undefined
  if (typeof m?.uuid !== "string" || typeof m.session_id !== "string" || m.isReplay === true || (m.parent_tool_use_id ?? null) !== null) return p
  return { ...p, atMessage: m.uuid, claudeSessionId: m.session_id }
}

export const workspaceRoutes = (app: Hono<HttpEnv>, deps: HttpDeps): void => {
  const { commands, store } = deps
  const handle = router(app, deps)

  const workspaceOf = (sessionId: string) =>
    Effect.gen(function* () {
      const loaded = yield* commands.load(sessionId)
      const s = loaded.state
      if (s === null) return yield* Effect.fail(new SessionNotFound({ sessionId }))
      if (!s.workspace) return yield* Effect.fail(notFound(`session ${sessionId} has no workspace`, { sessionId }))
      return { s, w: s.workspace, revision: loaded.revision }
    })

  /** The decider's answer for the record, before the repository is touched: a refusal changes nothing. */
  const mayFinish = (s: Session, kind: "RecordWorkspaceMerged" | "RecordWorkspaceRebased" | "RecordWorkspaceDiscarded") => {
    const zero = "0".repeat(40)
    const probe: WorkspaceCommand =
      kind === "RecordWorkspaceMerged"
        ? { kind, data: { into: "x", sha: zero, fastForward: true } }
        : kind === "RecordWorkspaceRebased"
          ? { kind, data: { onto: "x", ontoSha: zero, sha: zero } }
          : { kind, data: { reason: "x" } }
    const d = decide({ ...probe, sessionId: s.sessionId }, s)
    return Result.isFailure(d) ? Effect.fail(d.failure) : Effect.void
  }

  const isCommit = (repo: string, sha: string) =>
    Effect.map(gitRaw(repo, ["cat-file", "-e", "--end-of-options", `${sha}^{commit}`]), (o) => o.code === 0).pipe(Effect.orDie)

  handle(routes.sessionDiff, ({ c, id: sessionId, query }) =>
    Effect.gen(function* () {
      const { w } = yield* workspaceOf(sessionId)
      let from: string
      let to: string
      let text: string
      if (query.run !== undefined) {
        const commit = w.commits.find((k) => k.runId === query.run)
        if (!commit) return yield* Effect.fail(notFound(`run ${query.run} has no commit in session ${sessionId}`, { sessionId }))
        from = commit.parentSha
        to = commit.sha
        text = yield* diffCommits(w.repo, from, to).pipe(Effect.orDie)
      } else if (query.from !== undefined || query.to !== undefined) {
        if (query.from === undefined || query.to === undefined) return yield* Effect.fail(badRequest("?from and ?to go together"))
        for (const sha of [query.from, query.to])
          if (!(yield* isCommit(w.repo, sha))) return yield* Effect.fail(badRequest(`${sha} is not a commit of ${w.repo}`))
        from = query.from
        to = query.to
        text = yield* diffCommits(w.repo, from, to).pipe(Effect.orDie)
      } else if (w.status === "active" && (yield* exists(w.path))) {
        from = w.baseSha
        to = "worktree"
        text = yield* diffWorkingTree(w.path, w.baseSha).pipe(Effect.orDie)
      } else {
        from = w.baseSha
        to = w.head
        text = yield* diffCommits(w.repo, from, to).pipe(Effect.orDie)
      }
      if (wantsText(c.req.header("Accept")))
        return new Response(text, { status: 200, headers: { "Content-Type": "text/x-diff; charset=utf-8", "Cache-Control": "no-store" } })
      return { status: 200 as const, body: { sessionId, from, to, files: parseUnifiedDiff(text) } }
    })
  )

  handle(routes.sessionCommits, ({ id: sessionId }) =>
    Effect.gen(function* () {
      const loaded = yield* commands.load(sessionId)
      if (loaded.state === null) return yield* Effect.fail(new SessionNotFound({ sessionId }))
      const w: WorkspaceState | undefined = loaded.state.workspace
      const commits = w
        ? yield* store.readStream(Result.getOrThrow(streamOf(sessionId))).pipe(
            Stream.filter((e) => e.type === "WorkspaceCommitted"),
            Stream.map((e) => e.data as never),
            Stream.runCollect
          )
        : []
      return {
        status: 200 as const,
        body: {
          sessionId,
          workspace: w ? { repo: w.repo, baseRef: w.baseRef, baseSha: w.baseSha, branch: w.branch, path: w.path, head: w.head, status: w.status } : null,
          commits
        }
      }
    })
  )

  handle(routes.mergeWorkspace, ({ c, id: sessionId, body }) =>
    Effect.gen(function* () {
      const { s, w, revision } = yield* workspaceOf(sessionId)
      yield* mayFinish(s, "RecordWorkspaceMerged")
      const into = body.into ?? w.baseRef
      const merged = yield* atEdge(mergeWorkspace(w.repo, w.branch, into, `Merge agentlog session ${sessionId} (${w.branch}) into ${into}`))
      const outcome = yield* commands.handle(
        { kind: "RecordWorkspaceMerged", sessionId, data: { into, sha: merged.sha, fastForward: merged.fastForward } },
        commandContext(c),
        revision === null ? undefined : { expectedRevision: revision }
      )
      return accepted(acceptedBody(outcome, { sha: merged.sha, fastForward: merged.fastForward }))
    })
  )

  handle(routes.rebaseWorkspace, ({ c, id: sessionId, body }) =>
    Effect.gen(function* () {
      const { s, w, revision } = yield* workspaceOf(sessionId)
      yield* mayFinish(s, "RecordWorkspaceRebased")
      if (!(yield* exists(w.path))) return yield* Effect.fail(notFound(`the worktree ${w.path} is gone; continue the session to check it out again`))
      const onto = body.onto ?? w.baseRef
      const sha = yield* atEdge(rebaseWorkspace(w.path, onto))
      const ontoSha = (yield* git(w.path, ["rev-parse", "--verify", "--end-of-options", `${onto}^{commit}`]).pipe(Effect.orDie)).trim()
      const outcome = yield* commands.handle(
        { kind: "RecordWorkspaceRebased", sessionId, data: { onto, ontoSha, sha } },
        commandContext(c),
        revision === null ? undefined : { expectedRevision: revision }
      )
      return accepted(acceptedBody(outcome, { sha }))
    })
  )

  handle(routes.discardWorkspace, ({ c, id: sessionId, ifMatch }) =>
    Effect.gen(function* () {
      const { w } = yield* workspaceOf(sessionId)
      const outcome = yield* commands.handle(
        { kind: "RecordWorkspaceDiscarded", sessionId, data: { reason: `discarded by ${c.get("principal").name}` } },
        commandContext(c),
        ifMatch === undefined ? undefined : { expectedRevision: ifMatch }
      )
      yield* discardWorkspace(w.repo, w.path, w.branch).pipe(
        Effect.catch((e) => Effect.sync(() => deps.logger.log("error", "could not remove a discarded workspace", { sessionId, error: e.message })))
      )
      return accepted(acceptedBody(outcome))
    })
  )

  handle(routes.resetWorkspace, ({ c, id: sessionId, body, ifMatch }) =>
    Effect.gen(function* () {
      const { revision } = yield* workspaceOf(sessionId)
      const point = yield* store.readStream(Result.getOrThrow(streamOf(sessionId))).pipe(
        Stream.runFold((): ResetPoint => ({ found: false, after: false }), resetPointStep(body.run))
      )
      if (!point.found)
        return yield* Effect.fail(problem(404, "run-not-found", "Run not found", `session ${sessionId} has no run ${body.run}`, { sessionId, runId: body.run }))
      const outcome = yield* commands.handle(
        {
          kind: "ResetToRun",
          sessionId,
          toRunId: body.run,
          runId: randomUUID(),
          query: body.query,
          // Without a message of Claude's up to that run, the next run starts a new conversation.
          ...(point.atMessage !== undefined ? { atMessage: point.atMessage, claudeSessionId: point.claudeSessionId } : {}),
          by: c.get("principal").name
        },
        commandContext(c),
        { expectedRevision: ifMatch ?? revision ?? undefined }
      )
      const reset = outcome.state.workspace?.resets?.at(-1)
      return accepted(acceptedBody(outcome, { sha: reset?.sha ?? "", previousSha: reset?.previousSha ?? "", keptAs: reset?.keptAs ?? "" }))
    })
  )
}
