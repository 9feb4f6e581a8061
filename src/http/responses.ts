// Schemas of what the API answers, for the OpenAPI document. Read-model rows are
// described as open objects: their fields belong to src/projections.
import { Schema } from "effect"

const Json = Schema.Record(Schema.String, Schema.Json)

export const Problem = Schema.Struct({
  type: Schema.String,
  title: Schema.String,
  status: Schema.Int,
  detail: Schema.String,
  instance: Schema.optionalKey(Schema.String),
  requestId: Schema.optionalKey(Schema.String),
  errors: Schema.optionalKey(Schema.Array(Schema.Struct({ path: Schema.String, message: Schema.String })))
}).annotate({ identifier: "Problem", description: "RFC 9457 problem details (application/problem+json)." })

export const CommandAccepted = Schema.Struct({
  sessionId: Schema.String,
  runId: Schema.optionalKey(Schema.String),
  status: Schema.String.annotate({ description: "The session's status right after the command." }),
  position: Schema.String.annotate({ description: "Where the command's last event was appended: pass as minPosition to read your write." }),
  revision: Schema.Int.annotate({ description: "The session stream's revision after the command (its ETag)." }),
  queuePosition: Schema.optionalKey(Schema.Int.annotate({ description: "1-based place in the run queue when the run waits for a slot." })),
  parentSessionId: Schema.optionalKey(Schema.String),
  approvalId: Schema.optionalKey(Schema.String),
  decision: Schema.optionalKey(Schema.String),
  archived: Schema.optionalKey(Schema.Boolean),
  title: Schema.optionalKey(Schema.NullOr(Schema.String))
}).annotate({ identifier: "CommandAccepted" })

export const EventView = Schema.Struct({
  stream: Schema.String,
  sessionId: Schema.NullOr(Schema.String),
  revision: Schema.Int,
  position: Schema.String,
  id: Schema.String,
  type: Schema.String,
  data: Schema.Json,
  metadata: Schema.Json,
  created: Schema.String
}).annotate({ identifier: "Event", description: "A recorded event as stored." })

export const StreamEventsPage = Schema.Struct({
  items: Schema.Array(EventView),
  nextRevision: Schema.NullOr(Schema.Int).annotate({ description: "fromRevision of the next page; null at the end." })
}).annotate({ identifier: "StreamEventsPage" })

export const EventsPage = Schema.Struct({
  items: Schema.Array(EventView),
  nextCursor: Schema.NullOr(Schema.String)
}).annotate({ identifier: "EventsPage" })

export const Page = Schema.Struct({
  items: Schema.Array(Json),
  nextCursor: Schema.NullOr(Schema.String)
}).annotate({ identifier: "Page" })

export const Session = Json.annotate({
  identifier: "Session",
  description: "A session with its totals (cost, tokens, turns, runs), its stream revision and, while queued, its queue position."
})
export const Transcript = Schema.Struct({
  sessionId: Schema.String,
  entries: Schema.Array(Json)
}).annotate({ identifier: "Transcript" })
export const Approval = Json.annotate({ identifier: "Approval" })

export const Health = Schema.Struct({ status: Schema.String }).annotate({ identifier: "Health" })
export const Readiness = Schema.Struct({
  status: Schema.String,
  store: Schema.String,
  projections: Schema.String
}).annotate({ identifier: "Readiness" })
