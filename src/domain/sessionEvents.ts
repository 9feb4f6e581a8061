// The event catalog. Every event's data has a schema and a schema version; nothing is
// appended that fails its schema. Stored events of older versions are brought up to the
// current one by storedEvents.ts, the one way stored data comes back in.
import { Result, Schema } from "effect"
import { InvalidEvent } from "./sessionErrors.ts"
import { SessionOptions } from "./sessionOptions.ts"
import { Answers, ApprovalKind, controlEventSchemas, PlanText } from "./sessionControlEvents.ts"

const Id = Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(200))
const Uuid = Schema.String.check(Schema.isUUID())
const Text = Schema.String.check(Schema.isMaxLength(1_000_000))
/** A Claude stream message exactly as Claude emitted it. */
const ClaudeMessage = Schema.Record(Schema.String, Schema.Json)
const Usage = Schema.Record(Schema.String, Schema.Json)
/** Stored as JSON: NaN and the infinities would come back as null, so they never pass. */
const Finite = Schema.Finite
const NonNegative = Finite.check(Schema.isGreaterThanOrEqualTo(0))
/** No fields: only `{}` (an empty Struct would accept any value at all). */
const Empty = Schema.Record(Schema.String, Schema.Never)

export const SessionLaunched = Schema.Struct({
  sessionId: Uuid,
  runId: Uuid,
  query: Text,
  options: SessionOptions,
  /**
   * One of several attempts launched by one request (`attempts: N`): the group they share
   * and which one this is (1-based). Optional, so SessionLaunched stays at version 1.
   */
  group: Schema.optionalKey(
    Schema.Struct({
      groupId: Uuid,
      attempt: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 8 })),
      of: Schema.Int.check(Schema.isBetween({ minimum: 2, maximum: 8 }))
    })
  )
})
export const SessionForked = Schema.Struct({
  sessionId: Uuid,
  runId: Uuid,
  parentSessionId: Uuid,
  parentClaudeSessionId: Id,
  /**
   * The Claude message of the parent's conversation the fork branched from (its uuid):
   * Claude resumes up to and including it. Absent: from the conversation's end.
   */
  atMessage: Schema.optionalKey(Id),
  query: Text,
  options: SessionOptions
})
/** A session written down but not launched: it starts no process and counts in no run totals. */
export const DraftCreated = Schema.Struct({ sessionId: Uuid, query: Text, options: SessionOptions })
/** The draft's query and options as they are now (each edit replaces both whole). */
export const DraftEdited = Schema.Struct({ query: Text, options: SessionOptions })
export const DraftDiscarded = Empty
export const DraftRestored = Empty
export const RunStarted = Schema.Struct({
  runId: Uuid,
  query: Text,
  /** Claude session resumed by this run, if any. */
  resume: Schema.optionalKey(Id),
  pid: Schema.optionalKey(Schema.Int),
  /** Which agentlog instance runs the process: recovery only abandons its own runs. */
  supervisorId: Schema.optionalKey(Id),
  /**
   * Whether Claude's commands ran in Claude Code's sandbox, and if not why not. Optional, so
   * RunStarted stays at schema version 1: runs recorded before it simply do not say.
   */
  sandbox: Schema.optionalKey(Schema.Struct({ enabled: Schema.Boolean, reason: Schema.optionalKey(Text) }))
})
export const ClaudeSessionBound = Schema.Struct({ runId: Uuid, claudeSessionId: Id })
export const ClaudeSystemEvent = Schema.Struct({ runId: Uuid, subtype: Schema.String, message: ClaudeMessage })
export const ClaudeAssistantMessage = Schema.Struct({ runId: Uuid, message: ClaudeMessage })
export const ClaudeUserMessage = Schema.Struct({ runId: Uuid, message: ClaudeMessage })
const Count = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
/** The token counts of a result, named by agentlog rather than by the SDK's usage keys. */
export const Tokens = Schema.Struct({ input: Count, output: Count, cacheRead: Count, cacheCreation: Count })
export type Tokens = typeof Tokens.Type
/**
 * Version 2 added `tokens`: version 1 kept the counts only inside `usage`, the SDK's
 * untyped record, so every reader had to know Claude's key names and trust their types.
 */
export const ClaudeResult = Schema.Struct({
  runId: Uuid,
  subtype: Schema.String,
  isError: Schema.Boolean,
  /** Cumulative over the Claude session, as Claude reports it. */
  totalCostUsd: NonNegative,
  /** This run's share: the difference from the previous result of the session. */
  runCostUsd: NonNegative,
  /** As Claude reported it. */
  usage: Usage,
  tokens: Tokens,
  numTurns: Finite,
  durationMs: Finite,
  permissionDenials: Schema.Array(Schema.Json),
  message: ClaudeMessage
})
export const ClaudeStreamEvent = Schema.Struct({ runId: Uuid, messageType: Schema.String, message: ClaudeMessage })
export const ApprovalRequested = Schema.Struct({
  runId: Uuid,
  approvalId: Uuid,
  toolUseId: Id,
  toolName: Id,
  input: Schema.Json,
  suggestions: Schema.Array(Schema.Json),
  /** When the approval is denied if nobody answers (ISO 8601). */
  expiresAt: Schema.optionalKey(Schema.String),
  /** A question or a plan rather than a tool's permission (absent: a tool's permission). */
  kind: Schema.optionalKey(ApprovalKind),
  /** kind plan: the plan to accept or reject. */
  plan: Schema.optionalKey(PlanText)
})
export const Decision = Schema.Literals(["allow", "deny"])
export const ApprovalDecided = Schema.Struct({
  runId: Uuid,
  approvalId: Uuid,
  decision: Decision,
  message: Schema.optionalKey(Text),
  updatedInput: Schema.optionalKey(Schema.Record(Schema.String, Schema.Json)),
  decidedBy: Id,
  /** Why the system decided, when no person did: "timeout", "interrupted", "abandoned", "run_ended". */
  reason: Schema.optionalKey(Id),
  /** A question's answers, handed to Claude as the tool's input (`answers`). */
  answers: Schema.optionalKey(Answers)
})
export const ContinueRequested = Schema.Struct({ runId: Uuid, query: Text, overrides: SessionOptions })
export const InterruptRequested = Schema.Struct({ runId: Uuid, requestedBy: Id })
export const RunCompleted = Schema.Struct({
  runId: Uuid,
  totalCostUsd: NonNegative,
  runCostUsd: NonNegative,
  usage: Usage,
  numTurns: Finite,
  durationMs: Finite
})
export const RunFailed = Schema.Struct({ runId: Uuid, error: Text, exitCode: Schema.optionalKey(Schema.Int) })
export const RunInterrupted = Schema.Struct({ runId: Uuid })
export const RunAbandoned = Schema.Struct({ runId: Uuid, reason: Text })
/** The session's worktree, made for the run that first needed it (src/workspaces/). */
export const WorkspaceCreated = Schema.Struct({
  runId: Uuid,
  /** The repository's top level. */
  repo: Text,
  baseRef: Text,
  baseSha: Id,
  branch: Text,
  path: Text,
  /** Where Claude runs: the launch's cwd, translated into the worktree. */
  cwd: Text
})
export const WorkspaceFile = Schema.Struct({ path: Text, insertions: Count, deletions: Count, binary: Schema.Boolean })
/**
 * What a run left in the worktree, committed when it ended (`outcome` says how it ended; an
 * abandoned run's partial changes are committed by the recovery that abandons it).
 * `changed: false`: the run changed nothing and `sha` is the branch's head as it was.
 */
export const WorkspaceCommitted = Schema.Struct({
  runId: Uuid,
  sha: Id,
  parentSha: Id,
  changed: Schema.Boolean,
  outcome: Schema.Literals(["completed", "failed", "interrupted", "abandoned"]),
  /** At most the first 1,000 files; `fileCount` is all of them. */
  files: Schema.Array(WorkspaceFile).check(Schema.isMaxLength(1000)),
  fileCount: Count,
  insertions: Count,
  deletions: Count
})
export const WorkspaceMerged = Schema.Struct({ into: Text, sha: Id, fastForward: Schema.Boolean })
export const WorkspaceRebased = Schema.Struct({ onto: Text, ontoSha: Id, sha: Id })
/** The worktree and its branch removed (`reason`: asked for, or the session archived). */
export const WorkspaceDiscarded = Schema.Struct({ reason: Text })
/**
 * "Retry from here": the session goes on from the state after an earlier run (`runId`):
 * its worktree back at that run's commit `sha`, Claude resumed at `atMessage` (the last
 * message of its conversation up to that run's end, in the Claude session
 * `claudeSessionId`; both absent when there was none yet). The head it leaves,
 * `previousSha`, stays reachable as the ref `keptAs`. A ContinueRequested follows in the
 * same append; the supervisor moves the worktree when it starts that run.
 */
export const WorkspaceReset = Schema.Struct({
  runId: Uuid,
  sha: Id,
  previousSha: Id,
  keptAs: Text,
  atMessage: Schema.optionalKey(Id),
  claudeSessionId: Schema.optionalKey(Id),
  by: Text
})
export const SessionArchived = Empty
// ---- follow-ups (issue 12, item 6) ----
/** A continue sent while a run was active: it waits, and starts as the next run when `afterRunId` completes. */
/** A follow-up in bypassPermissions: when its bypass ends (set when it was asked for) and who asked; recorded with its run when it starts. */
const FollowUpBypass = Schema.optionalKey(Schema.Struct({ expiresAt: Schema.String.check(Schema.isMaxLength(40)), grantedBy: Id }))
export const FollowUpQueued = Schema.Struct({
  followUpId: Uuid,
  /** The run it becomes when it starts (its ContinueRequested carries this id). */
  runId: Uuid,
  query: Text,
  overrides: SessionOptions,
  /** The run that was active when it was queued. */
  afterRunId: Uuid,
  bypass: FollowUpBypass
})
/** The waiting follow-up's query and overrides as they now are (each edit replaces both whole). */
export const FollowUpEdited = Schema.Struct({ followUpId: Uuid, query: Text, overrides: SessionOptions, bypass: FollowUpBypass })
export const FollowUpCancelled = Schema.Struct({ followUpId: Uuid, cancelledBy: Id })
/** The follow-up became a run: appended together with its ContinueRequested, so neither exists without the other. */
export const FollowUpStarted = Schema.Struct({
  followUpId: Uuid,
  runId: Uuid,
  /** "agentlog" when the run it waited for completed, else the principal who sent it. */
  startedBy: Id
})
// ---- end follow-ups ----
export const SessionUnarchived = Empty
export const SessionRenamed = Schema.Struct({ title: Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(200)) })

export const eventSchemas = {
  SessionLaunched,
  SessionForked,
  DraftCreated,
  DraftEdited,
  DraftDiscarded,
  DraftRestored,
  RunStarted,
  ClaudeSessionBound,
  ClaudeSystemEvent,
  ClaudeAssistantMessage,
  ClaudeUserMessage,
  ClaudeResult,
  ClaudeStreamEvent,
  ApprovalRequested,
  ApprovalDecided,
  ContinueRequested,
  InterruptRequested,
  RunCompleted,
  RunFailed,
  RunInterrupted,
  RunAbandoned,
  SessionArchived,
  SessionUnarchived,
  SessionRenamed,
  WorkspaceCreated,
  WorkspaceCommitted,
  WorkspaceMerged,
  WorkspaceRebased,
  WorkspaceDiscarded,
  WorkspaceReset,
  ...controlEventSchemas,
  FollowUpQueued,
  FollowUpEdited,
  FollowUpCancelled,
  FollowUpStarted
} as const

export type EventType = keyof typeof eventSchemas
export const eventTypes = Object.keys(eventSchemas) as ReadonlyArray<EventType>

/** Bumped when an event's data changes shape; storedEvents.ts upcasts the older versions. */
export const schemaVersions: { readonly [K in EventType]: number } = {
  ...(Object.fromEntries(eventTypes.map((t) => [t, 1])) as { [K in EventType]: number }),
  ClaudeResult: 2
}

type DataOf<K extends EventType> = (typeof eventSchemas)[K]["Type"]

/** A domain event before it is stored: its type and its data. */
export type SessionEvent = { [K in EventType]: { readonly type: K; readonly data: DataOf<K> } }[EventType]

export type EventOf<K extends EventType> = Extract<SessionEvent, { type: K }>

export const event = <K extends EventType>(type: K, data: DataOf<K>): EventOf<K> =>
  ({ type, data }) as unknown as EventOf<K>

export const isEventType = (t: string): t is EventType => Object.hasOwn(eventSchemas, t)

export const Source = Schema.Literals(["api", "supervisor", "claude"])
export type Source = typeof Source.Type

export const EventMetadata = Schema.Struct({
  runId: Schema.optionalKey(Uuid),
  correlationId: Id,
  causationId: Schema.optionalKey(Id),
  schemaVersion: Schema.Int,
  recordedAt: Schema.String,
  source: Source,
  /** Who: the principal of the request that appended it, or "supervisor" / "claude" (absent before principals existed). */
  actor: Schema.optionalKey(Id),
  /** The agentlog instance that appended it (the process manager leaves other instances' requests to them first). */
  instanceId: Schema.optionalKey(Id),
  /** A request with an Idempotency-Key: its fingerprint, compared when the key comes again. */
  requestFingerprint: Schema.optionalKey(Id)
})
export type EventMetadata = typeof EventMetadata.Type

const parseOptions = { errors: "all", onExcessProperty: "error" } as const

const decoders = Object.fromEntries(
  eventTypes.map((t) => [t, Schema.decodeUnknownResult(eventSchemas[t] as Schema.Codec<unknown>, parseOptions)])
) as Record<EventType, (u: unknown) => Result.Result<unknown, Schema.SchemaError>>

/** Checks a candidate event against its schema; the error names the failing field. */
export const validateEvent = (type: string, data: unknown): Result.Result<SessionEvent, InvalidEvent> => {
  if (!isEventType(type)) return Result.fail(new InvalidEvent({ type, issue: "unknown event type" }))
  const r = decoders[type](data)
  return Result.isSuccess(r)
    ? Result.succeed({ type, data: r.success } as SessionEvent)
    : Result.fail(new InvalidEvent({ type, issue: r.failure.message }))
}
