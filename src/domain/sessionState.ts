// A session's state, folded from its events. evolve is total: every catalogued event
// moves the state, and nothing here reads a clock, an id generator or the outside world.
import type { Schema } from "effect"
import type { SessionEvent } from "./sessionEvents.ts"
import { mergeOptions, type SessionOptions } from "./sessionOptions.ts"

export const sessionStatuses = [
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

export interface Session {
  readonly sessionId: string
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
  /** True once this session's own Claude session id is known (a fork starts with its parent's). */
  readonly claudeSessionBound: boolean
  /** The active run, or the last one once it ended. */
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
}

/** null: the stream has no events, the session does not exist. */
export type SessionState = Session | null

export const initialState: SessionState = null

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

const ended = (s: Session, status: SessionStatus): Session => ({ ...s, status, pending: new Map() })

export const evolve = (state: SessionState, event: SessionEvent): SessionState => {
  if (event.type === "SessionLaunched" || event.type === "SessionForked") {
    const d = event.data
    const forked = event.type === "SessionForked" ? event.data : undefined
    return {
      sessionId: d.sessionId,
      status: "queued",
      archived: false,
      title: d.options.title,
      options: d.options,
      runOptions: d.options,
      parentSessionId: forked?.parentSessionId,
      claudeSessionId: forked?.parentClaudeSessionId,
      claudeSessionBound: false,
      runId: d.runId,
      runQuery: d.query,
      runSupervisorId: undefined,
      runs: 1,
      interruptRequested: false,
      runResult: undefined,
      pending: new Map(),
      decided: new Map(),
      lastTotalCostUsd: 0
    }
  }
  if (state === null) return state
  switch (event.type) {
    case "RunStarted":
      return { ...state, status: "running", runSupervisorId: event.data.supervisorId }
    case "ClaudeSessionBound":
      return { ...state, claudeSessionId: event.data.claudeSessionId, claudeSessionBound: true }
    case "ClaudeResult": {
      const { isError, totalCostUsd, runCostUsd, usage, numTurns, durationMs } = event.data
      return { ...state, lastTotalCostUsd: totalCostUsd, runResult: { isError, totalCostUsd, runCostUsd, usage, numTurns, durationMs } }
    }
    case "ApprovalRequested": {
      const d = event.data
      const pending = new Map(state.pending)
      pending.set(d.approvalId, { approvalId: d.approvalId, runId: d.runId, toolUseId: d.toolUseId, toolName: d.toolName })
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
      return ended(state, "failed")
    case "RunInterrupted":
      return ended(state, "interrupted")
    case "RunAbandoned":
      return ended(state, "abandoned")
    case "SessionArchived":
      return { ...state, archived: true }
    case "SessionUnarchived":
      return { ...state, archived: false }
    case "SessionRenamed":
      return { ...state, title: event.data.title }
    case "ClaudeSystemEvent":
    case "ClaudeAssistantMessage":
    case "ClaudeUserMessage":
    case "ClaudeStreamEvent":
      return state
  }
}

export const fold = (events: Iterable<SessionEvent>, state: SessionState = initialState): SessionState => {
  let s = state
  for (const e of events) s = evolve(s, e)
  return s
}
