// decide(command, state) -> events | error. The one place that decides what is appended
// to a session's stream, whether the command came from the API or from the supervisor.
// Ids and times arrive inside commands; nothing here generates or reads them.
import { Result, type Schema } from "effect"
import { claudeMessageEvent, claudeSessionIdOf, type ClaudeMessage } from "./claudeMessages.ts"
import {
  ApprovalAlreadyDecided,
  ApprovalNotFound,
  type DomainError,
  FollowUpNotFound,
  InvalidTransition,
  RunWithoutCommit,
  SessionAlreadyExists,
  SessionNotFound
} from "./sessionErrors.ts"
import { event, type EventOf, type SessionEvent, validateEvent } from "./sessionEvents.ts"
import { redactOptions, type SessionOptions } from "./sessionOptions.ts"
import {
  activeStatuses,
  endedStatuses,
  evolve,
  type FollowUp,
  type Session,
  type SessionState,
  type SessionStatus,
  waitingFollowUps
} from "./sessionState.ts"
import { streamOf } from "./streamName.ts"
import { type BypassGrant, checkAnswers, decideControl, grantWithRun, type ControlCommand } from "./sessionControls.ts"
import type { Answers, ApprovalKind } from "./sessionControlEvents.ts"

type JsonObject = { readonly [k: string]: Schema.Json }

export type RunOutcome =
  | { readonly kind: "completed"; readonly totalCostUsd: number; readonly runCostUsd: number; readonly usage: JsonObject; readonly numTurns: number; readonly durationMs: number }
  | { readonly kind: "failed"; readonly error: string; readonly exitCode?: number }
  | { readonly kind: "interrupted" }

/** Every command names the session it is for. */
export type SessionCommand = { readonly sessionId: string } & (
  | {
      readonly kind: "LaunchSession"
      readonly runId: string
      readonly query: string
      readonly options: SessionOptions
      /** One of parallel attempts: the group and which attempt of how many. */
      readonly group?: { readonly groupId: string; readonly attempt: number; readonly of: number }
      /** Required when the options ask for bypassPermissions, refused otherwise. */
      readonly bypass?: BypassGrant
    }
  | { readonly kind: "CreateDraft"; readonly query: string; readonly options: SessionOptions }
  /** The options given replace the draft's; the rest stay. */
  | { readonly kind: "EditDraft"; readonly query?: string; readonly options: SessionOptions }
  /** Launches the draft as it is recorded (its query and options, read from the state). */
  | { readonly kind: "LaunchDraft"; readonly runId: string; readonly bypass?: BypassGrant }
  | { readonly kind: "DiscardDraft" }
  | { readonly kind: "RestoreDraft" }
  | {
      readonly kind: "ForkSession"
      readonly runId: string
      readonly parentSessionId: string
      readonly parentClaudeSessionId: string
      readonly atMessage?: string
      readonly query: string
      readonly options: SessionOptions
      readonly bypass?: BypassGrant
    }
  | {
      readonly kind: "StartRun"
      readonly runId: string
      readonly resume?: string
      readonly pid?: number
      readonly supervisorId?: string
      readonly sandbox?: { readonly enabled: boolean; readonly reason?: string }
    }
  | { readonly kind: "RecordClaudeMessage"; readonly runId: string; readonly message: ClaudeMessage }
  | {
      readonly kind: "RequestApproval"
      readonly runId: string
      readonly approvalId: string
      readonly toolUseId: string
      readonly toolName: string
      readonly input: Schema.Json
      readonly suggestions: ReadonlyArray<Schema.Json>
      readonly expiresAt?: string
      readonly approvalKind?: ApprovalKind
      readonly plan?: string
    }
  | {
      readonly kind: "DecideApproval"
      readonly approvalId: string
      readonly decision: "allow" | "deny"
      readonly message?: string
      readonly updatedInput?: JsonObject
      readonly decidedBy: string
      readonly reason?: string
      readonly answers?: Answers
    }
  /** With followUpId, a continue that arrives while a run is active is queued as that follow-up instead of refused. */
  | {
      readonly kind: "ContinueSession"
      readonly runId: string
      readonly query: string
      readonly overrides: SessionOptions
      readonly followUpId?: string
      /** Required when the overrides ask for bypassPermissions; a queued follow-up keeps it for its start. */
      readonly bypass?: BypassGrant
    }
  | FollowUpCommand
  | { readonly kind: "RequestInterrupt"; readonly requestedBy: string }
  | { readonly kind: "FinishRun"; readonly runId: string; readonly outcome: RunOutcome }
  | { readonly kind: "AbandonRun"; readonly runId: string; readonly reason: string }
  | { readonly kind: "ArchiveSession" }
  | { readonly kind: "UnarchiveSession" }
  | { readonly kind: "RenameSession"; readonly title: string }
  | WorkspaceCommand
) | ControlCommand

/** What the supervisor and the workspace routes record about a session's worktree. */
export type WorkspaceCommand =
  | { readonly kind: "RecordWorkspaceCreated"; readonly data: EventOf<"WorkspaceCreated">["data"] }
  | { readonly kind: "RecordWorkspaceCommitted"; readonly data: EventOf<"WorkspaceCommitted">["data"] }
  | { readonly kind: "RecordWorkspaceMerged"; readonly data: EventOf<"WorkspaceMerged">["data"] }
  | { readonly kind: "RecordWorkspaceRebased"; readonly data: EventOf<"WorkspaceRebased">["data"] }
  | { readonly kind: "RecordWorkspaceDiscarded"; readonly data: EventOf<"WorkspaceDiscarded">["data"] }
  /**
   * "Retry from here": back to the state after `toRunId` and on with a new run (`runId`,
   * `query`). The edge finds Claude's message to resume at (`atMessage` in `claudeSessionId`).
   */
  | {
      readonly kind: "ResetToRun"
      readonly toRunId: string
      readonly runId: string
      readonly query: string
      readonly atMessage?: string | undefined
      readonly claudeSessionId?: string | undefined
      readonly by: string
    }

export type Decision = Result.Result<ReadonlyArray<SessionEvent>, DomainError>

const refuse = (s: Session, command: SessionCommand, reason: string): Decision =>
  Result.fail(new InvalidTransition({ sessionId: s.sessionId, command: command.kind, status: s.status, reason }))

/**
 * Drops keys whose value is undefined. Optional command fields may arrive as
 * `{ message: undefined }` (exactOptionalPropertyTypes is off), and an optional key
 * present with undefined fails its event's schema.
 */
const present = <A extends object>(a: A): A =>
  Object.fromEntries(Object.entries(a).filter(([, v]) => v !== undefined)) as A

const isIn = (status: SessionStatus, among: ReadonlyArray<SessionStatus>) => among.includes(status)

/** Approvals still open when a run stops are denied by the system, so none is left hanging. */
const settlePending = (s: Session, reason: string): Array<SessionEvent> =>
  [...s.pending.values()].map((p) =>
    event("ApprovalDecided", {
      runId: p.runId,
      approvalId: p.approvalId,
      decision: "deny",
      message: `denied: ${reason}`,
      decidedBy: "agentlog",
      reason
    })
  )

const decideExisting = (command: SessionCommand, s: Session): Decision => {
  const activeRun = (runId: string, allowed: ReadonlyArray<SessionStatus>): Decision | null => {
    if (runId !== s.runId) return refuse(s, command, `run ${runId} is not the session's current run ${s.runId}`)
    if (!isIn(s.status, allowed)) return refuse(s, command, `run ${runId} is not active`)
    return null
  }
  if (command.kind === "LaunchSession" || command.kind === "CreateDraft" || command.kind === "ForkSession")
    return Result.fail(new SessionAlreadyExists({ sessionId: s.sessionId }))
  if (s.status === "discarded" && command.kind !== "RestoreDraft")
    return refuse(s, command, "the draft is discarded: restore it first")
  if (s.status === "draft" && !draftCommands.has(command.kind))
    return refuse(s, command, "the session is a draft: launch it first")
  switch (command.kind) {
    case "LaunchDraft":
      if (s.status !== "draft") return refuse(s, command, "only a draft can be launched")
      if (s.query.length === 0) return refuse(s, command, "the draft has no query yet")
      return withGrant(s, command, s.options.permissionMode, undefined, [
        event("SessionLaunched", { sessionId: s.sessionId, runId: command.runId, query: s.query, options: s.options })
      ])
    case "EditDraft": {
      if (s.status !== "draft") return refuse(s, command, "only a draft can be edited")
      // A rename is kept unless the edit gives another title.
      const options = { ...s.options, ...(s.title !== undefined ? { title: s.title } : {}), ...command.options }
      return Result.succeed([event("DraftEdited", { query: command.query ?? s.query, options: redactOptions(options) })])
    }
    case "DiscardDraft":
      if (s.status !== "draft") return refuse(s, command, "only a draft can be discarded")
      return Result.succeed([event("DraftDiscarded", {})])
    case "RestoreDraft":
      if (s.status !== "discarded") return refuse(s, command, "only a discarded draft can be restored")
      return Result.succeed([event("DraftRestored", {})])
    case "StartRun":
      return (
        activeRun(command.runId, ["queued"]) ??
        Result.succeed([
          event("RunStarted", {
            runId: command.runId,
            query: s.runQuery,
            ...(command.resume !== undefined ? { resume: command.resume } : {}),
            ...(command.pid !== undefined ? { pid: command.pid } : {}),
            ...(command.supervisorId !== undefined ? { supervisorId: command.supervisorId } : {}),
            ...(command.sandbox !== undefined ? { sandbox: command.sandbox } : {})
          })
        ])
      )
    case "RecordClaudeMessage": {
      const refused = activeRun(command.runId, ["running", "waiting_approval"])
      if (refused) return refused
      const bound = claudeSessionIdOf(command.message)
      const events: Array<SessionEvent> = []
      if (bound !== undefined && (!s.claudeSessionBound || bound !== s.claudeSessionId)) {
        events.push(event("ClaudeSessionBound", { runId: command.runId, claudeSessionId: bound }))
      }
      events.push(claudeMessageEvent(command.runId, command.message, s.lastTotalCostUsd))
      return Result.succeed(events)
    }
    case "RequestApproval": {
      const refused = activeRun(command.runId, ["running", "waiting_approval"])
      if (refused) return refused
      if (s.interruptRequested) return refuse(s, command, "an interrupt was requested")
      if (s.pending.has(command.approvalId) || s.decided.has(command.approvalId))
        return refuse(s, command, `approval ${command.approvalId} already exists`)
      const { kind: _, sessionId: __, approvalKind, ...data } = command
      return Result.succeed([event("ApprovalRequested", present({ ...data, kind: approvalKind }))])
    }
    case "DecideApproval": {
      const pending = s.pending.get(command.approvalId)
      if (!pending) {
        const decided = s.decided.get(command.approvalId)
        return Result.fail(
          decided
            ? new ApprovalAlreadyDecided({ approvalId: command.approvalId, decision: decided })
            : new ApprovalNotFound({ approvalId: command.approvalId })
        )
      }
      const answered = checkAnswers(pending, command.decision, command.answers)
      if (Result.isFailure(answered)) return Result.fail(answered.failure)
      const { kind: _, sessionId: __, ...data } = command
      return Result.succeed([event("ApprovalDecided", { ...present(data), runId: pending.runId })])
    }
    case "ContinueSession":
      if (command.followUpId !== undefined && isIn(s.status, activeStatuses)) return queueFollowUp(s, command, command.followUpId)
      if (!isIn(s.status, endedStatuses)) return refuse(s, command, "a run is still active")
      return withGrant(s, command, command.overrides.permissionMode, s.options.permissionMode, [
        event("ContinueRequested", { runId: command.runId, query: command.query, overrides: redactOptions(command.overrides) })
      ])
    case "RequestInterrupt": {
      if (!isIn(s.status, activeStatuses)) return refuse(s, command, "no run is active")
      if (s.interruptRequested) return refuse(s, command, "an interrupt was already requested")
      // Claude's result is in: there is nothing left to interrupt, and accepting would let a
      // finished run be relabelled as interrupted.
      if (s.runResult !== undefined) return refuse(s, command, "the run already finished")
      const requested = event("InterruptRequested", { runId: s.runId, requestedBy: command.requestedBy })
      // A queued run never started a process, so it stops here and now.
      const stopped = s.status === "queued" ? [event("RunInterrupted", { runId: s.runId })] : []
      return Result.succeed([requested, ...settlePending(s, "interrupted"), ...stopped])
    }
    case "FinishRun": {
      const refused = activeRun(command.runId, activeStatuses)
      if (refused) return refused
      // An interrupt that came too late (Claude finished its turn all the same) does not
      // relabel the run: a successful result recorded for it decides how it ends.
      const r = s.runResult
      const o: RunOutcome =
        command.outcome.kind === "interrupted" && r !== undefined && !r.isError
          ? { kind: "completed", totalCostUsd: r.totalCostUsd, runCostUsd: r.runCostUsd, usage: r.usage, numTurns: r.numTurns, durationMs: r.durationMs }
          : command.outcome
      const runId = command.runId
      const last =
        o.kind === "completed"
          ? event("RunCompleted", {
              runId,
              totalCostUsd: o.totalCostUsd,
              runCostUsd: o.runCostUsd,
              usage: o.usage,
              numTurns: o.numTurns,
              durationMs: o.durationMs
            })
          : o.kind === "failed"
            ? event("RunFailed", { runId, error: o.error, ...(o.exitCode !== undefined ? { exitCode: o.exitCode } : {}) })
            : event("RunInterrupted", { runId })
      return Result.succeed([...settlePending(s, o.kind === "interrupted" ? "interrupted" : "run_ended"), last])
    }
    case "AbandonRun": {
      const refused = activeRun(command.runId, activeStatuses)
      if (refused) return refused
      return Result.succeed([
        ...settlePending(s, "abandoned"),
        event("RunAbandoned", { runId: command.runId, reason: command.reason })
      ])
    }
    case "ArchiveSession":
      return s.archived ? refuse(s, command, "already archived") : Result.succeed([event("SessionArchived", {})])
    case "UnarchiveSession":
      return s.archived ? Result.succeed([event("SessionUnarchived", {})]) : refuse(s, command, "not archived")
    case "RenameSession":
      return Result.succeed([event("SessionRenamed", { title: command.title })])
    case "ChangePermissionMode":
    case "ExpireBypass":
    case "ChangeModel":
      return decideControl(command, s)
    case "RecordWorkspaceCreated":
    case "RecordWorkspaceCommitted":
    case "RecordWorkspaceMerged":
    case "RecordWorkspaceRebased":
    case "RecordWorkspaceDiscarded":
    case "ResetToRun":
      return decideWorkspace(command, s)
    case "EditFollowUp":
    case "CancelFollowUp":
    case "SendFollowUp":
    case "StartNextFollowUp":
      return decideFollowUp(command, s)
  }
}

/** The opening events of a run, followed by its bypass's grant when it runs in bypassPermissions. */
const withGrant = (
  s: Session | null,
  command: SessionCommand & { readonly bypass?: BypassGrant | undefined },
  mode: SessionOptions["permissionMode"],
  before: SessionOptions["permissionMode"],
  opening: ReadonlyArray<SessionEvent>
): Decision => {
  const grant = grantWithRun(mode, before, command.bypass)
  if (Result.isFailure(grant))
    return Result.fail(
      new InvalidTransition({ sessionId: command.sessionId, command: command.kind, status: s?.status ?? "new", reason: grant.failure })
    )
  return Result.succeed([...opening, ...grant.success])
}

const decideWorkspace = (command: WorkspaceCommand & { readonly sessionId: string }, s: Session): Decision => {
  const w = s.workspace
  switch (command.kind) {
    case "RecordWorkspaceCreated":
      if (command.data.runId !== s.runId || s.status !== "running") return refuse(s, command, `run ${command.data.runId} is not running`)
      if (w && w.status === "active") return refuse(s, command, "the session already has a workspace")
      return Result.succeed([event("WorkspaceCreated", command.data)])
    case "RecordWorkspaceCommitted":
      // Recorded before the run's end (so a reader that sees the end finds the commit).
      if (command.data.runId !== s.runId || !isIn(s.status, activeStatuses))
        return refuse(s, command, `run ${command.data.runId} is not active`)
      if (!w || w.status !== "active") return refuse(s, command, "the session has no workspace")
      return Result.succeed([event("WorkspaceCommitted", command.data)])
    case "RecordWorkspaceMerged":
    case "RecordWorkspaceRebased":
    case "RecordWorkspaceDiscarded": {
      if (!w) return refuse(s, command, "the session has no workspace")
      if (w.status !== "active") return refuse(s, command, "the workspace was discarded")
      // While a run works in the worktree its branch is not finished: it would move under it.
      if (isIn(s.status, activeStatuses)) return refuse(s, command, "a run is active in the workspace")
      if (command.kind === "RecordWorkspaceMerged") return Result.succeed([event("WorkspaceMerged", command.data)])
      if (command.kind === "RecordWorkspaceRebased") return Result.succeed([event("WorkspaceRebased", command.data)])
      return Result.succeed([event("WorkspaceDiscarded", command.data)])
    }
    case "ResetToRun": {
      if (!w) return refuse(s, command, "the session has no workspace")
      if (w.status !== "active") return refuse(s, command, "the workspace was discarded")
      if (!isIn(s.status, endedStatuses)) return refuse(s, command, "a run is active in the workspace")
      const commit = w.commits.find((c) => c.runId === command.toRunId)
      if (!commit) return Result.fail(new RunWithoutCommit({ sessionId: s.sessionId, runId: command.toRunId }))
      // One ref per reset, named by the session and its count: what is reset away stays reachable.
      const keptAs = `refs/agentlog/reset/${s.sessionId}/${(w.resets?.length ?? 0) + 1}`
      const { toRunId, runId, query, atMessage, claudeSessionId, by } = command
      return Result.succeed([
        event("WorkspaceReset", present({ runId: toRunId, sha: commit.sha, previousSha: w.head, keptAs, atMessage, claudeSessionId, by })),
        event("ContinueRequested", { runId, query, overrides: {} })
      ])
    }
  }
}

// ---- follow-ups (issue 12, item 6) ----
export type FollowUpCommand =
  /** The fields given replace the follow-up's; the rest stay. */
  | {
      readonly kind: "EditFollowUp"
      readonly followUpId: string
      readonly query?: string
      readonly overrides?: SessionOptions
      /** A new grant for a follow-up edited into (or kept in) bypassPermissions. */
      readonly bypass?: BypassGrant
    }
  | { readonly kind: "CancelFollowUp"; readonly followUpId: string; readonly cancelledBy: string }
  /** Starts a waiting (queued or held) follow-up now: only once no run is active. */
  | { readonly kind: "SendFollowUp"; readonly followUpId: string; readonly startedBy: string }
  /** The process manager's reaction to `afterRunId` completing: the oldest queued follow-up becomes the next run. */
  | { readonly kind: "StartNextFollowUp"; readonly afterRunId: string }

/** Waiting follow-ups a session may hold: each is a run's worth of query kept in the stream. */
export const maxWaitingFollowUps = 20

const queueFollowUp = (s: Session, command: SessionCommand & { readonly kind: "ContinueSession" }, followUpId: string): Decision => {
  if ((s.followUps ?? []).some((f) => f.followUpId === followUpId || f.runId === command.runId))
    return refuse(s, command, `follow-up ${followUpId} already exists`)
  if (waitingFollowUps(s).length >= maxWaitingFollowUps)
    return refuse(s, command, `${maxWaitingFollowUps} follow-ups already wait: send or cancel one first`)
  const bypass = followUpBypass(command.overrides, command.bypass)
  if (typeof bypass === "string") return refuse(s, command, bypass)
  return Result.succeed([
    event("FollowUpQueued", {
      followUpId,
      runId: command.runId,
      query: command.query,
      overrides: redactOptions(command.overrides),
      afterRunId: s.runId,
      ...bypass
    })
  ])
}

/**
 * A follow-up in bypassPermissions keeps the grant it was asked with (its end counts from the
 * request, as a launch's does while it waits for a slot) until it starts; the reason when it has none.
 */
const followUpBypass = (overrides: SessionOptions, grant: BypassGrant | undefined): { bypass?: BypassGrant } | string => {
  const checked = grantWithRun(overrides.permissionMode, undefined, grant)
  if (Result.isFailure(checked)) return checked.failure
  return grant === undefined ? {} : { bypass: grant }
}

/** The follow-up as a run: FollowUpStarted and its ContinueRequested (and its bypass's grant), in one append. */
const startFollowUp = (s: Session, f: FollowUp, startedBy: string): ReadonlyArray<SessionEvent> => [
  event("FollowUpStarted", { followUpId: f.followUpId, runId: f.runId, startedBy }),
  event("ContinueRequested", { runId: f.runId, query: f.query, overrides: f.overrides }),
  ...Result.getOrElse(grantWithRun(f.overrides.permissionMode, s.options.permissionMode, f.bypass), () => [])
]

const decideFollowUp = (command: FollowUpCommand & { readonly sessionId: string }, s: Session): Decision => {
  if (command.kind === "StartNextFollowUp") {
    // Only right after that run completed: a replayed RunCompleted, or a second instance, finds the session moved on.
    if (s.runId !== command.afterRunId || s.status !== "completed") return Result.succeed([])
    const next = (s.followUps ?? []).find((f) => f.status === "queued")
    return Result.succeed(next === undefined ? [] : startFollowUp(s, next, "agentlog"))
  }
  const f = (s.followUps ?? []).find((x) => x.followUpId === command.followUpId)
  if (f === undefined) return Result.fail(new FollowUpNotFound({ sessionId: s.sessionId, followUpId: command.followUpId }))
  if (f.status === "started" || f.status === "cancelled")
    return refuse(s, command, `follow-up ${f.followUpId} was already ${f.status === "started" ? `started as run ${f.runId}` : "cancelled"}`)
  switch (command.kind) {
    case "EditFollowUp": {
      const overrides = { ...f.overrides, ...command.overrides }
      // An edit that leaves it in bypassPermissions keeps its grant unless it brings a new one.
      const bypass = followUpBypass(overrides, command.bypass ?? (overrides.permissionMode === "bypassPermissions" ? f.bypass : undefined))
      if (typeof bypass === "string") return refuse(s, command, bypass)
      return Result.succeed([
        event("FollowUpEdited", { followUpId: f.followUpId, query: command.query ?? f.query, overrides: redactOptions(overrides), ...bypass })
      ])
    }
    case "CancelFollowUp":
      return Result.succeed([event("FollowUpCancelled", { followUpId: f.followUpId, cancelledBy: command.cancelledBy })])
    case "SendFollowUp":
      if (isIn(s.status, activeStatuses)) return refuse(s, command, "a run is active: the follow-up starts when it completes")
      return Result.succeed(startFollowUp(s, f, command.startedBy))
  }
}
// ---- end follow-ups ----

/** What a draft may be asked besides being edited: launched, discarded, archived, renamed. */
const draftCommands: ReadonlySet<SessionCommand["kind"]> = new Set<SessionCommand["kind"]>([
  "LaunchDraft",
  "EditDraft",
  "DiscardDraft",
  "RestoreDraft",
  "ArchiveSession",
  "UnarchiveSession",
  "RenameSession"
])

const decideNew = (command: SessionCommand): Decision => {
  switch (command.kind) {
    case "LaunchSession":
      return withGrant(null, command, command.options.permissionMode, undefined, [
        event("SessionLaunched", {
          sessionId: command.sessionId,
          runId: command.runId,
          query: command.query,
          options: redactOptions(command.options),
          ...(command.group === undefined ? {} : { group: command.group })
        })
      ])
    case "CreateDraft":
      return Result.succeed([
        event("DraftCreated", { sessionId: command.sessionId, query: command.query, options: redactOptions(command.options) })
      ])
    case "ForkSession": {
      const { kind: _, bypass: __, ...data } = command
      return withGrant(null, command, command.options.permissionMode, undefined, [
        event("SessionForked", present({ ...data, options: redactOptions(command.options) }))
      ])
    }
    default:
      return Result.fail(new SessionNotFound({ sessionId: command.sessionId }))
  }
}

/**
 * Decides what a command appends. Every event it returns has passed its schema, and
 * folding them with evolve is legal; on any refusal nothing is appended.
 */
export const decide = (command: SessionCommand, state: SessionState): Decision => {
  const stream = streamOf(command.sessionId)
  if (Result.isFailure(stream)) return Result.fail(stream.failure)
  if (state !== null && state.sessionId !== command.sessionId)
    return Result.fail(new SessionNotFound({ sessionId: command.sessionId }))
  const decided = state === null ? decideNew(command) : decideExisting(command, state)
  if (Result.isFailure(decided)) return decided
  const checked: Array<SessionEvent> = []
  for (const e of decided.success) {
    const v = validateEvent(e.type, e.data)
    if (Result.isFailure(v)) return Result.fail(v.failure)
    checked.push(v.success)
  }
  return Result.succeed(checked)
}

/** A fork needs the parent's Claude session to start from. */
export const forkSource = (parent: SessionState, parentSessionId: string): Result.Result<string, DomainError> => {
  if (parent === null) return Result.fail(new SessionNotFound({ sessionId: parentSessionId }))
  if (parent.claudeSessionId === undefined)
    return Result.fail(
      new InvalidTransition({
        sessionId: parentSessionId,
        command: "ForkSession",
        status: parent.status,
        reason: "the session has no Claude conversation to fork yet"
      })
    )
  return Result.succeed(parent.claudeSessionId)
}

export { evolve }
