// A session's state, folded from its events. evolve is total: every catalogued event
// moves the state, and nothing here reads a clock, an id generator or the outside world.
import type { Schema } from "effect"
import type { EventType, SessionEvent, Tokens } from "./sessionEvents.ts"
import { mergeOptions, type SessionOptions } from "./sessionOptions.ts"
import { type BypassGrant, evolveControl, questionTexts, type PermissionMode } from "./sessionControls.ts"
import type { ApprovalKind } from "./sessionControlEvents.ts"

export const sessionStatuses = [
  "draft",
  "discarded",
  "queued",
  "running",
  "waiting_approval",
  "completed",
  "failed",
  "interrupted",
  "abandoned"
] as const
export type SessionStatus = (typeof sessionStatuses)[number]

export const activeStatuses: ReadonlyArray<SessionStatus> = ["queued", "running", "waiting_approval"]
export const endedStatuses: ReadonlyArray<SessionStatus> = ["completed", "failed", "interrupted", "abandoned"]

export interface PendingApproval {
  readonly approvalId: string
  readonly runId: string
  readonly toolUseId: string
  readonly toolName: string
  /** A question or a plan (absent: a tool's permission). */
  readonly kind?: ApprovalKind
  /** kind question: the texts of its questions, each of which an allow answers. */
  readonly questions?: ReadonlyArray<string>
}

/** What a session's runs cost, summed over its results (RunCompleted repeats a result's figures and is not counted again). */
export interface Totals {
  readonly costUsd: number
  readonly turns: number
  readonly tokens: Tokens
}

/** What Claude's result said about the current run, once it is recorded. */
export interface RunResult {
  readonly isError: boolean
  readonly totalCostUsd: number
  readonly runCostUsd: number
  readonly usage: { readonly [k: string]: Schema.Json }
  readonly numTurns: number
  readonly durationMs: number
}

/** One run's commit on the session's branch (or the head it left unchanged). */
export interface WorkspaceCommit {
  readonly runId: string
  readonly sha: string
  readonly parentSha: string
  readonly changed: boolean
  readonly outcome: string
}

/** The session's worktree as recorded: where it is, its base, its head after the last run. */
export interface WorkspaceState {
  /** The repository's top-level directory. */
  readonly repo: string
  readonly baseRef: string
  readonly baseSha: string
  readonly branch: string
  readonly path: string
  /** Where Claude runs: the launch's cwd at the same place inside the worktree. */
  readonly cwd: string
  readonly head: string
  /** "discarded": the worktree and branch are gone; nothing more runs in it. */
  readonly status: "active" | "discarded"
  readonly commits: ReadonlyArray<WorkspaceCommit>
  /** The last merge of the branch: into which branch, as which commit. */
  readonly merged?: { readonly into: string; readonly sha: string } | undefined
  /** Each reset to an earlier run, oldest first (absent: none). */
  readonly resets?: ReadonlyArray<WorkspaceResetState>
}

/** A reset to an earlier run: the branch moved from previousSha back to sha, previousSha kept as the ref keptAs. */
export interface WorkspaceResetState {
  readonly runId: string
  readonly sha: string
  readonly previousSha: string
  readonly keptAs: string
}

/** A continue that waits for the active run (issue 12, item 6). */
export interface FollowUp {
  readonly followUpId: string
  readonly runId: string
  readonly query: string
  readonly overrides: SessionOptions
  readonly afterRunId: string
  /** queued: starts when the run it waits for completes; held: that run did not complete (see reason), so it waits to be sent. */
  readonly status: "queued" | "held" | "started" | "cancelled"
  readonly reason: string | undefined
  /** In bypassPermissions: its grant, recorded with its run when it starts. */
  readonly bypass?: BypassGrant
}

export interface Session {
  readonly sessionId: string
  /** The query the session was launched (or forked) with. */
  readonly query: string
  readonly status: SessionStatus
  readonly archived: boolean
  readonly title: string | undefined
  /** Options of the session as launched (secrets redacted). */
  readonly options: SessionOptions
  /** Options of the current run: the session's, with the run's overrides on top. */
  readonly runOptions: SessionOptions
  readonly parentSessionId: string | undefined
  /** The Claude session to resume; set when Claude first names it (or the parent's, after a fork). */
  readonly claudeSessionId: string | undefined
  /** A fork from a message: the parent's Claude message it branched from (resumed up to it until bound). */
  readonly forkedAt: string | undefined
  /** True once this session's own Claude session id is known (a fork starts with its parent's). */
  readonly claudeSessionBound: boolean
  /** The active run, or the last one once it ended ("" for a draft, which has none). */
  readonly runId: string
  readonly runQuery: string
  /** The agentlog instance that started the active run's process. */
  readonly runSupervisorId: string | undefined
  readonly runs: number
  readonly interruptRequested: boolean
  /** Set when Claude's result for the current run is recorded: Claude has finished its turn. */
  readonly runResult: RunResult | undefined
  readonly pending: ReadonlyMap<string, PendingApproval>
  readonly decided: ReadonlyMap<string, "allow" | "deny">
  /** Claude's cumulative cost at the last result, to work out each run's share. */
  readonly lastTotalCostUsd: number
  readonly totals: Totals
  /** Why the last failed run failed (kept after later runs). */
  readonly lastError: string | undefined
  /** While in bypassPermissions: when agentlog switches it back (ISO 8601). */
  readonly bypassExpiresAt: string | undefined
  /** While in bypassPermissions: the mode it switches back to (undefined: "default"). */
  readonly modeBeforeBypass: PermissionMode | undefined
  /** The session's git worktree, once made (absent in snapshots written before workspaces). */
  readonly workspace?: WorkspaceState | undefined
  /** Continues sent while a run was active, oldest first (absent: none, as in states folded before follow-ups existed). */
  readonly followUps?: ReadonlyArray<FollowUp>
  /** After a reset to an earlier run: the Claude message the next run resumes at (as a fork), until it binds its own session. */
  readonly resumeAt?: string | undefined
}

/** null: the stream has no events, the session does not exist. */
export type SessionState = Session | null

export const initialState: SessionState = null

/**
 * The event types evolve leaves the state alone for: Claude's messages, kept for the
 * record (and most of a session's events and bytes). Folds may skip reading them.
 */
export const inertEventTypes: ReadonlySet<string> = new Set<EventType>([
  "ClaudeSystemEvent",
  "ClaudeAssistantMessage",
  "ClaudeUserMessage",
  "ClaudeStreamEvent"
])

const noTotals: Totals = { costUsd: 0, turns: 0, tokens: { input: 0, output: 0, cacheRead: 0, cacheCreation: 0 } }

const newRun = (s: Session, runId: string, query: string, runOptions: SessionOptions): Session => ({
  ...s,
  status: "queued",
  runId,
  runQuery: query,
  runSupervisorId: undefined,
  runOptions,
  runs: s.runs + 1,
  interruptRequested: false,
  runResult: undefined,
  pending: new Map()
})

const ended = (s: Session, status: SessionStatus, why?: string): Session => ({
  ...s,
  status,
  pending: new Map(),
  ...(status === "completed" ? {} : holdFollowUps(s, why ?? `the run it waited for ended ${status}`))
})

const draft = (sessionId: string, query: string, options: SessionOptions): Session => ({
  sessionId,
  query,
  status: "draft",
  archived: false,
  title: options.title,
  options,
  runOptions: options,
  parentSessionId: undefined,
  forkedAt: undefined,
  claudeSessionId: undefined,
  claudeSessionBound: false,
  runId: "",
  runQuery: query,
  runSupervisorId: undefined,
  runs: 0,
  interruptRequested: false,
  runResult: undefined,
  pending: new Map(),
  decided: new Map(),
  lastTotalCostUsd: 0,
  totals: noTotals,
  lastError: undefined,
  bypassExpiresAt: undefined,
  modeBeforeBypass: undefined
})

export const evolve = (state: SessionState, event: SessionEvent): SessionState => {
  if (event.type === "DraftCreated") return draft(event.data.sessionId, event.data.query, event.data.options)
  if (event.type === "SessionLaunched" || event.type === "SessionForked") {
    const d = event.data
    const forked = event.type === "SessionForked" ? event.data : undefined
    return {
      ...draft(d.sessionId, d.query, d.options),
      status: "queued",
      // A launched draft keeps its archived flag; everything else starts afresh.
      archived: state?.archived ?? false,
      parentSessionId: forked?.parentSessionId,
      forkedAt: forked?.atMessage,
      claudeSessionId: forked?.parentClaudeSessionId,
      runId: d.runId,
      runs: 1
    }
  }
  if (state === null) return state
  switch (event.type) {
    case "RunStarted":
      return { ...state, status: "running", runSupervisorId: event.data.supervisorId }
    case "ClaudeSessionBound":
      return { ...state, claudeSessionId: event.data.claudeSessionId, claudeSessionBound: true, resumeAt: undefined }
    case "ClaudeResult": {
      const d = event.data
      const { isError, totalCostUsd, runCostUsd, usage, numTurns, durationMs } = d
      const t = state.totals
      const totals: Totals = {
        costUsd: t.costUsd + d.runCostUsd,
        turns: t.turns + Math.trunc(d.numTurns),
        tokens: {
          input: t.tokens.input + d.tokens.input,
          output: t.tokens.output + d.tokens.output,
          cacheRead: t.tokens.cacheRead + d.tokens.cacheRead,
          cacheCreation: t.tokens.cacheCreation + d.tokens.cacheCreation
        }
      }
      return {
        ...state,
        lastTotalCostUsd: totalCostUsd,
        runResult: { isError, totalCostUsd, runCostUsd, usage, numTurns, durationMs },
        totals
      }
    }
    case "ApprovalRequested": {
      const d = event.data
      const pending = new Map(state.pending)
      pending.set(d.approvalId, {
        approvalId: d.approvalId,
        runId: d.runId,
        toolUseId: d.toolUseId,
        toolName: d.toolName,
        ...(d.kind !== undefined ? { kind: d.kind } : {}),
        ...(d.kind === "question" ? { questions: questionTexts(d.input) } : {})
      })
      return { ...state, status: "waiting_approval", pending }
    }
    case "ApprovalDecided": {
      const pending = new Map(state.pending)
      pending.delete(event.data.approvalId)
      const decided = new Map(state.decided)
      decided.set(event.data.approvalId, event.data.decision)
      const status = state.status === "waiting_approval" && pending.size === 0 ? "running" : state.status
      return { ...state, status, pending, decided }
    }
    case "ContinueRequested":
      return newRun(state, event.data.runId, event.data.query, mergeOptions(state.options, event.data.overrides))
    case "InterruptRequested":
      return { ...state, interruptRequested: true }
    case "RunCompleted":
      return ended(state, "completed")
    case "RunFailed":
      return { ...ended(state, "failed", `the run it waited for failed: ${event.data.error}`), lastError: event.data.error }
    case "RunInterrupted":
      return ended(state, "interrupted", "the run it waited for was interrupted")
    case "RunAbandoned":
      return ended(state, "abandoned", `the run it waited for was abandoned: ${event.data.reason}`)
    case "WorkspaceCreated": {
      const { runId: _, ...w } = event.data
      return { ...state, workspace: { ...w, head: w.baseSha, status: "active", commits: [] } }
    }
    case "WorkspaceCommitted": {
      const w = state.workspace
      if (!w) return state
      const { runId, sha, parentSha, changed, outcome } = event.data
      return { ...state, workspace: { ...w, head: sha, commits: [...w.commits, { runId, sha, parentSha, changed, outcome }] } }
    }
    case "WorkspaceRebased":
      return state.workspace ? { ...state, workspace: { ...state.workspace, head: event.data.sha, baseSha: event.data.ontoSha } } : state
    case "WorkspaceMerged":
      return state.workspace ? { ...state, workspace: { ...state.workspace, merged: { into: event.data.into, sha: event.data.sha } } } : state
    case "WorkspaceDiscarded":
      return state.workspace ? { ...state, workspace: { ...state.workspace, status: "discarded" } } : state
    case "WorkspaceReset": {
      const w = state.workspace
      if (!w) return state
      const { runId, sha, previousSha, keptAs, atMessage, claudeSessionId } = event.data
      return {
        ...state,
        workspace: { ...w, head: sha, resets: [...(w.resets ?? []), { runId, sha, previousSha, keptAs }] },
        // The conversation as it was at that run's end (none: the next run starts a new one).
        claudeSessionId,
        resumeAt: atMessage
      }
    }
    case "SessionArchived":
      return { ...state, archived: true }
    case "SessionUnarchived":
      return { ...state, archived: false }
    case "SessionRenamed":
      return { ...state, title: event.data.title }
    case "DraftEdited": {
      const { query, options } = event.data
      return { ...state, query, runQuery: query, options, runOptions: options, title: options.title }
    }
    case "DraftDiscarded":
      return { ...state, status: "discarded" }
    case "DraftRestored":
      return { ...state, status: "draft" }
    case "PermissionModeChanged":
    case "ModelChanged":
      return evolveControl(state, event)
    case "FollowUpQueued": {
      const { followUpId, runId, query, overrides, afterRunId, bypass } = event.data
      const f: FollowUp = { followUpId, runId, query, overrides, afterRunId, status: "queued", reason: undefined, ...(bypass ? { bypass } : {}) }
      return { ...state, followUps: [...(state.followUps ?? []), f] }
    }
    case "FollowUpEdited": {
      const { followUpId, query, overrides, bypass } = event.data
      return {
        ...state,
        followUps: (state.followUps ?? []).map((f) => {
          if (f.followUpId !== followUpId) return f
          const { bypass: _, ...rest } = f
          return { ...rest, query, overrides, ...(bypass ? { bypass } : {}) }
        })
      }
    }
    case "FollowUpCancelled":
      return updateFollowUp(state, event.data.followUpId, { status: "cancelled", reason: undefined })
    case "FollowUpStarted":
      return updateFollowUp(state, event.data.followUpId, { status: "started", reason: undefined })
    case "ClaudeSystemEvent":
    case "ClaudeAssistantMessage":
    case "ClaudeUserMessage":
    case "ClaudeStreamEvent":
      return state
  }
}

// ---- follow-ups (issue 12, item 6) ----
const updateFollowUp = (s: Session, followUpId: string, change: Partial<FollowUp>): Session => ({
  ...s,
  followUps: (s.followUps ?? []).map((f) => (f.followUpId === followUpId ? { ...f, ...change } : f))
})

/** A run that did not complete leaves its waiting follow-ups held, saying why: they start only when sent. */
const holdFollowUps = (s: Session, reason: string): Partial<Session> =>
  s.followUps?.some((f) => f.status === "queued")
    ? { followUps: s.followUps.map((f) => (f.status === "queued" ? { ...f, status: "held" as const, reason } : f)) }
    : {}

/** The follow-ups still waiting (queued or held), oldest first. */
export const waitingFollowUps = (s: Session): ReadonlyArray<FollowUp> =>
  (s.followUps ?? []).filter((f) => f.status === "queued" || f.status === "held")
// ---- end follow-ups ----

export const fold = (events: Iterable<SessionEvent>, state: SessionState = initialState): SessionState => {
  let s = state
  for (const e of events) s = evolve(s, e)
  return s
}

// A session's state as JSON and back, for a read model that keeps it between events (the
// maps as entry lists; undefined fields are left out and come back undefined).
// Keys in one order whatever path built the state (a spread adds a new field last), so
// the same state is always the same text and a rebuild writes the same bytes.
export const encodeSession = (s: Session): string =>
  JSON.stringify(
    Object.fromEntries(
      Object.entries({ ...s, pending: [...s.pending.values()], decided: [...s.decided.entries()] }).sort(([a], [b]) =>
        a < b ? -1 : a > b ? 1 : 0
      )
    )
  )

export const decodeSession = (json: string): Session => {
  const o = JSON.parse(json) as Omit<Session, "pending" | "decided"> & {
    pending: ReadonlyArray<PendingApproval>
    decided: ReadonlyArray<[string, "allow" | "deny"]>
  }
  return { ...o, pending: new Map(o.pending.map((p) => [p.approvalId, p])), decided: new Map(o.decided) }
}
