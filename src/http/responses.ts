// What the API answers, one schema per resource: the adapter in routeKit.ts encodes every
// JSON answer with the route's schema (fields the schema does not name are not sent) and
// openapi.ts documents the same schema, so the document and the wire cannot drift. The
// read models' row types must match these field for field (checked by the compiler below).
import { Schema } from "effect"
import { sessionStatuses } from "../domain/sessionState.ts"
import type { ApprovalRow, SessionRow, ToolCallRow, TranscriptEntry as TranscriptRow } from "../projections/readModels.ts"
import { DateTime, Uuid } from "./bodies.ts"

/** Any JSON object (tool inputs, options, event data as recorded). */
export const JsonObject = Schema.Record(Schema.String, Schema.Unknown).annotate({ description: "A JSON object." })
/** Any JSON value. */
const AnyJson = Schema.Unknown.annotate({ description: "Any JSON value." })

const Position = Schema.String.annotate({ description: "An opaque store position: pass it as minPosition to read your write." })
const Count = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const Revision = Count.annotate({ description: "A revision of the session's stream (0-based); its ETag is `\"<revision>\"`." })
const OptionalText = Schema.NullOr(Schema.String)

export const Problem = Schema.StructWithRest(
  Schema.Struct({
  type: Schema.String.annotate({ description: "A stable URN naming the problem (urn:agentlog:problem:<slug>): switch on this." }),
  title: Schema.String,
  status: Schema.Int,
  detail: Schema.String,
  instance: Schema.optionalKey(Schema.String),
  requestId: Schema.optionalKey(Schema.String),
  errors: Schema.optionalKey(
    Schema.Array(
      Schema.Struct({
        path: Schema.String.annotate({ description: "A JSON pointer into the body, `?name` for a query parameter, or a header's name." }),
        message: Schema.String
      })
    )
  )
  }),
  [Schema.Record(Schema.String, Schema.Unknown)]
).annotate({
    identifier: "Problem",
    description:
      "RFC 9457 problem details (application/problem+json). Some problems carry extension members (sessionId, sessionStatus, currentRevision, allow, limit, …)."
  })

export const CommandAccepted = Schema.Struct({
  sessionId: Uuid,
  runId: Schema.optionalKey(Schema.NullOr(Schema.String)),
  status: Schema.Literals([...sessionStatuses, "superseded"]).annotate({
    description: "The session's status right after the command (superseded: a later run replaced the one this request created)."
  }),
  position: Schema.NullOr(Position),
  revision: Schema.NullOr(Revision.annotate({ description: "The session stream's revision after the command (also its ETag)." })),
  queuePosition: Schema.optionalKey(Count.annotate({ description: "1-based place in the run queue while the run waits for a slot." })),
  parentSessionId: Schema.optionalKey(Uuid),
  approvalId: Schema.optionalKey(Uuid),
  decision: Schema.optionalKey(Schema.Literals(["allow", "deny"])),
  archived: Schema.optionalKey(Schema.Boolean),
  title: Schema.optionalKey(OptionalText),
  permissionMode: Schema.optionalKey(Schema.String.annotate({ description: "The session's permission mode after the command." })),
  bypassExpiresAt: Schema.optionalKey(DateTime.annotate({ description: "In bypassPermissions: when agentlog switches it back." })),
  model: Schema.optionalKey(Schema.String.annotate({ description: "The session's model after the command." }))
}).annotate({ identifier: "CommandAccepted", description: "The command's events were appended." })

export const BulkResult = Schema.Struct({
  succeeded: Schema.Array(
    Schema.Struct({ sessionId: Uuid, archived: Schema.Boolean, position: Schema.NullOr(Position), revision: Schema.NullOr(Revision) })
  ),
  failed: Schema.Array(Schema.Struct({ sessionId: Schema.String, problem: Problem }))
}).annotate({
  identifier: "BulkResult",
  description: "Each session's outcome: the command is each session's own, so some may fail (with the problem a single request would get) while others succeed."
})

export const SearchHits = Schema.Struct({
  items: Schema.Array(
    Schema.Struct({
      sessionId: Uuid,
      seq: Count.annotate({ description: "The transcript entry (GET /v1/sessions/{id}/transcript?afterSeq=seq-1&limit=1)." }),
      revision: Revision.annotate({ description: "The stream revision of the event the entry came from." }),
      kind: Schema.String,
      toolName: OptionalText,
      createdAt: DateTime,
      snippet: Schema.String.annotate({ description: "The matching text, what matched in [brackets]." }),
      rank: Schema.Number.annotate({ description: "bm25 score: lower is a better match." })
    })
  )
}).annotate({ identifier: "SearchHits", description: "Transcript entries that match, best first." })

export const RecentDirectories = Schema.Struct({
  items: Schema.Array(
    Schema.Struct({
      path: Schema.String,
      lastUsedAt: DateTime.annotate({ description: "The last activity of the newest session there." }),
      sessions: Count
    })
  )
}).annotate({ identifier: "RecentDirectories", description: "Working directories of sessions, most recently used first." })

export const Event = Schema.Struct({
  stream: Schema.String,
  sessionId: Schema.NullOr(Uuid),
  revision: Revision,
  position: Position,
  id: Uuid,
  type: Schema.String,
  data: JsonObject,
  metadata: JsonObject,
  created: DateTime
}).annotate({ identifier: "Event", description: "A recorded event as stored." })

export const StreamEventsPage = Schema.Struct({
  items: Schema.Array(Event),
  nextRevision: Schema.NullOr(Count).annotate({ description: "fromRevision of the next page; null at the end." })
}).annotate({ identifier: "StreamEventsPage" })

const nextCursor = Schema.NullOr(Schema.String).annotate({ description: "Pass as `cursor` for the next page (opaque); null on the last page." })

export const EventsPage = Schema.Struct({ items: Schema.Array(Event), nextCursor }).annotate({ identifier: "EventsPage" })

const sessionFields = {
  sessionId: Uuid,
  status: Schema.Literals(sessionStatuses),
  archived: Schema.Boolean,
  title: OptionalText,
  query: Schema.String.annotate({ description: "The session's first query." }),
  model: OptionalText,
  cwd: OptionalText,
  options: AnyJson.annotate({ description: "The options as launched (secrets redacted)." }),
  parentSessionId: Schema.NullOr(Uuid),
  forkedAt: OptionalText.annotate({
    description: "A fork from a message: the parent's Claude message it branched from; null for a fork from the parent's end (or no parent)."
  }),
  claudeSessionId: OptionalText,
  runId: Schema.String.annotate({ description: "The current run, or the last one once it ended; empty for a draft." }),
  runs: Count,
  turns: Count,
  costUsd: Schema.Number,
  inputTokens: Count,
  outputTokens: Count,
  cacheReadTokens: Count,
  cacheCreationTokens: Count,
  pendingApprovals: Count,
  lastError: OptionalText,
  createdAt: DateTime,
  updatedAt: DateTime.annotate({ description: "Last activity: the time of the session's newest event." }),
  lastRevision: Revision,
  lastPosition: Position
}

export const SessionSummary = Schema.Struct(sessionFields).annotate({
  identifier: "SessionSummary",
  description: "A session as listed: its status, options and totals (cost, tokens, turns, runs)."
})

export const Session = Schema.Struct({
  ...sessionFields,
  revision: Revision.annotate({ description: "The stream's revision (as the ETag): send it back in If-Match." }),
  queuePosition: Schema.optionalKey(Count.annotate({ description: "1-based place in the run queue, while queued." })),
  children: Schema.Array(
    Schema.Struct({ sessionId: Uuid, forkedAt: OptionalText, status: Schema.Literals(sessionStatuses), title: OptionalText })
  ).annotate({ description: "Sessions forked from this one, oldest first (forkedAt null: from this session's end)." }),
  permissionMode: Schema.optionalKey(
    Schema.String.annotate({ description: "The permission mode the session's runs use now (absent: Claude's default)." })
  ),
  bypassExpiresAt: Schema.optionalKey(DateTime.annotate({ description: "In bypassPermissions: when agentlog switches it back." }))
}).annotate({ identifier: "Session", description: "A session with its totals, its stream revision and, while queued, its queue position." })

export const SessionsPage = Schema.Struct({ items: Schema.Array(SessionSummary), nextCursor }).annotate({ identifier: "SessionsPage" })

export const transcriptKinds = [
  "user_text",
  "assistant_text",
  "thinking",
  "tool_call",
  "tool_result",
  "result",
  "system",
  "error",
  "interrupted",
  "abandoned",
  "permission_mode",
  "model",
  "other"
] as const

export const TranscriptEntry = Schema.Struct({
  sessionId: Uuid,
  seq: Count,
  revision: Revision,
  runId: OptionalText,
  kind: Schema.Literals(transcriptKinds),
  text: OptionalText,
  messageUuid: OptionalText,
  parentToolUseId: OptionalText,
  toolUseId: OptionalText,
  toolName: OptionalText,
  input: AnyJson,
  result: Schema.NullOr(
    Schema.Struct({
      text: OptionalText,
      content: AnyJson,
      isError: Schema.Boolean,
      revision: Schema.NullOr(Revision),
      at: Schema.NullOr(DateTime)
    })
  ).annotate({ description: "tool_call / tool_result: what the tool returned (null while it has not)." }),
  approval: Schema.NullOr(
    Schema.Struct({
      approvalId: Uuid,
      decision: Schema.String.annotate({ description: "pending, allow or deny." }),
      decidedBy: OptionalText,
      message: OptionalText
    })
  ).annotate({ description: "tool_call: the approval it needed, if any." }),
  isError: Schema.NullOr(Schema.Boolean),
  data: AnyJson.annotate({ description: "Details of the kind: result figures, the system message, the unknown block, …" }),
  createdAt: DateTime
}).annotate({ identifier: "TranscriptEntry" })

export const Transcript = Schema.Struct({
  sessionId: Uuid,
  revision: Revision,
  entries: Schema.Array(TranscriptEntry),
  nextAfterSeq: Schema.NullOr(Count).annotate({
    description: "With a limit and a full page: pass as afterSeq for the next page; null when there is no more."
  })
}).annotate({ identifier: "Transcript", description: "The session's conversation as ordered entries (by seq)." })

export const ToolCall = Schema.Struct({
  sessionId: Uuid,
  toolUseId: Schema.String,
  runId: OptionalText,
  toolName: OptionalText,
  input: AnyJson,
  approvalId: Schema.NullOr(Uuid),
  decision: Schema.NullOr(Schema.Literals(["pending", "allow", "deny"])).annotate({ description: "null when no approval was needed." }),
  decidedBy: OptionalText,
  decisionMessage: OptionalText,
  decisionReason: OptionalText,
  updatedInput: AnyJson,
  resultText: OptionalText,
  result: AnyJson,
  isError: Schema.NullOr(Schema.Boolean),
  requestedAt: DateTime,
  decidedAt: Schema.NullOr(DateTime),
  completedAt: Schema.NullOr(DateTime),
  durationMs: Schema.NullOr(Schema.Number),
  allowedBy: Schema.NullOr(Schema.String).annotate({
    description:
      "How the call was let through: approval (a person, or a rule, allowed it), or auto: <mode> when nobody was asked (auto: acceptEdits, auto: bypassPermissions, auto: default for what Claude's own rules allow). Null while pending, when denied, or when Claude refused it."
  })
}).annotate({ identifier: "ToolCall", description: "A tool call with its input, approval, result and timing." })

export const ToolCallsPage = Schema.Struct({ items: Schema.Array(ToolCall), nextCursor }).annotate({ identifier: "ToolCallsPage" })

export const Approval = Schema.Struct({
  approvalId: Uuid,
  sessionId: Uuid,
  runId: OptionalText,
  toolUseId: OptionalText,
  toolName: OptionalText,
  input: AnyJson,
  suggestions: AnyJson,
  status: Schema.Literals(["pending", "allowed", "denied"]),
  decidedBy: OptionalText,
  message: OptionalText,
  reason: OptionalText,
  updatedInput: AnyJson,
  requestedAt: DateTime,
  decidedAt: Schema.NullOr(DateTime),
  expiresAt: Schema.NullOr(DateTime),
  stream: OptionalText.annotate({ description: "The stream the approval is recorded in (session-<sessionId>)." }),
  requestedRevision: Schema.NullOr(Revision).annotate({ description: "ApprovalRequested's revision in that stream." }),
  decidedRevision: Schema.NullOr(Revision).annotate({ description: "ApprovalDecided's revision in that stream (null while pending)." })
}).annotate({ identifier: "Approval", description: "A tool use waiting for (or given) a decision." })

export const AuditApproval = Schema.Struct({
  approvalId: Uuid,
  sessionId: Uuid,
  stream: Schema.String.annotate({ description: "The stream the approval is recorded in: check the row against it." }),
  requestedRevision: Schema.NullOr(Revision).annotate({ description: "ApprovalRequested's revision in the stream." }),
  decidedRevision: Schema.NullOr(Revision).annotate({ description: "ApprovalDecided's revision (null while pending)." }),
  toolName: OptionalText,
  input: AnyJson,
  requestedAt: DateTime,
  decision: Schema.Literals(["allow", "deny", "pending"]),
  decidedBy: OptionalText.annotate({ description: "Who decided: a principal's name, or agentlog when the system did." }),
  decidedAt: Schema.NullOr(DateTime),
  waitedMs: Schema.NullOr(Count).annotate({ description: "From the request to the decision." }),
  message: OptionalText,
  reason: OptionalText.annotate({ description: "Why the system decided when no person did: timeout, interrupted, abandoned, run_ended." })
}).annotate({ identifier: "AuditApproval", description: "One approval as the audit report has it: what was asked, who answered what, after how long, and where it is recorded." })

export const AuditApprovalsReport = Schema.Struct({ items: Schema.Array(AuditApproval) }).annotate({
  identifier: "AuditApprovalsReport",
  description: "Every approval requested in the range, oldest first (streamed: the body is written as it is read)."
})

export const ApprovalsPage = Schema.Struct({ items: Schema.Array(Approval), nextCursor }).annotate({ identifier: "ApprovalsPage" })

export const Health = Schema.Struct({ status: Schema.Literal("ok") }).annotate({ identifier: "Health" })
export const Readiness = Schema.Struct({
  status: Schema.Literals(["ready", "not_ready"]),
  store: Schema.Literals(["ok", "unavailable"]),
  projections: Schema.Literals(["caught_up", "catching_up"])
}).annotate({ identifier: "Readiness" })

export const OpenApiDocument = JsonObject.annotate({ identifier: "OpenApiDocument", description: "This OpenAPI 3.1 document." })

// ---- the read models' rows are these resources, field for field ----
// A field added to (or dropped from) a row without its schema fails to compile here, instead
// of being silently left out of every answer.
type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never] ? true : [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>]
const sameKeys = <A, B>(ok: SameKeys<A, B>): SameKeys<A, B> => ok
sameKeys<SessionRow, typeof SessionSummary.Type>(true)
sameKeys<TranscriptRow, typeof TranscriptEntry.Type>(true)
sameKeys<ToolCallRow, typeof ToolCall.Type>(true)
sameKeys<ApprovalRow, typeof Approval.Type>(true)
