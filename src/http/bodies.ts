// The request schemas: bodies (built from the domain's SessionOptions) and query strings.
// Handlers validate with these and openapi.ts documents these, so the two cannot drift.
import { Result, Schema, SchemaIssue } from "effect"
import { SessionOptions } from "../domain/sessionOptions.ts"
import { Answers } from "../domain/sessionControlEvents.ts"
import { sessionStatuses } from "../domain/sessionState.ts"
import { badRequest, validationFailed } from "./problem.ts"

// ---- bodies ----

const Query = Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(1_000_000)).annotate({
  description: "The prompt for Claude."
})

const { title: _title, ...runOverrides } = SessionOptions.fields

/** A run opened in bypassPermissions: how long its bypass lasts (launch, continue, fork, follow-up edit). */
export const BypassExpiresInMs = Schema.optionalKey(
  Schema.Int.check(Schema.isGreaterThanOrEqualTo(1_000)).annotate({
    description:
      "With permissionMode bypassPermissions only: how long until agentlog switches the session back, counted from this request (default 15 minutes; at most AGENTLOG_BYPASS_MAX_MS, 422 beyond)."
  })
)

/** Parallel attempts (issue 12, item 7). */
const Attempts = Schema.Int.check(Schema.isBetween({ minimum: 2, maximum: 8 })).annotate({
  description:
    "Launch this many sessions (2 to 8) of the same query and options at once, as one group (groupId in the answer; GET /v1/groups/{id} compares them)."
})

export const LaunchBody = Schema.Struct({
  query: Query,
  ...SessionOptions.fields,
  attempts: Schema.optionalKey(Attempts),
  bypassExpiresInMs: BypassExpiresInMs
}).annotate({
  identifier: "LaunchSession",
  description: "Launches a new session: a query and the session's options."
})
export type LaunchBody = typeof LaunchBody.Type

/** A continue's overrides apply to that run only; a session is renamed with PATCH. */
export const ContinueBody = Schema.Struct({ query: Query, ...runOverrides, bypassExpiresInMs: BypassExpiresInMs }).annotate({
  identifier: "ContinueSession",
  description: "Continues the conversation with a new query; options given override the session's for this run."
})
export type ContinueBody = typeof ContinueBody.Type

export const ForkBody = Schema.Struct({
  query: Query,
  atMessage: Schema.optionalKey(
    Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(200)).annotate({
      description:
        "Fork from this message of the parent's conversation (a transcript entry's messageUuid, typically a user message) instead of its end: Claude resumes up to and including it."
    })
  ),
  ...SessionOptions.fields,
  bypassExpiresInMs: BypassExpiresInMs
}).annotate({
  identifier: "ForkSession",
  description: "Forks the conversation into a new session; options given override the parent's."
})
export type ForkBody = typeof ForkBody.Type

export const DraftBody = Schema.Struct({
  query: Schema.optionalKey(
    Schema.String.check(Schema.isMaxLength(1_000_000)).annotate({ description: "The prompt so far (may be empty until launch)." })
  ),
  ...SessionOptions.fields
}).annotate({
  identifier: "Draft",
  description:
    "A session written down to launch later. Recorded as it is: MCP secrets must be `${VAR}` references (400 otherwise). On an edit, the fields given replace the draft's and the rest stay."
})
export type DraftBody = typeof DraftBody.Type

export const BulkArchiveBody = Schema.Struct({
  sessionIds: Schema.Array(Schema.String.check(Schema.isUUID())).check(Schema.isMinLength(1), Schema.isMaxLength(500)).annotate({
    description: "The sessions to archive or unarchive (1 to 500), each by its own event."
  })
}).annotate({ identifier: "BulkArchive" })

export const RenameBody = Schema.Struct({
  title: SessionOptions.fields.title.schema
}).annotate({ identifier: "RenameSession" })

export const DecisionBody = Schema.Struct({
  decision: Schema.Literals(["allow", "deny"]),
  message: Schema.optionalKey(Schema.String.check(Schema.isMaxLength(1_000_000))),
  updatedInput: Schema.optionalKey(Schema.Record(Schema.String, Schema.Json)),
  answers: Schema.optionalKey(
    Answers.annotate({
      description:
        "A question (kind question, Claude's AskUserQuestion): each question's text to the chosen option's label (several labels comma separated, or free text). Required to allow a question; Claude reads them as the tool's answers."
    })
  )
}).annotate({
  identifier: "ApprovalDecision",
  description: "Answers a pending approval. A plan (kind plan) is accepted with allow and rejected with deny; the message is what Claude reads as the reason."
})
export type DecisionBody = typeof DecisionBody.Type

/** Commands without parameters take no body, or an empty JSON object. */
export const EmptyBody = Schema.Record(Schema.String, Schema.Never).annotate({
  identifier: "Empty",
  description: "No fields: send no body or {}."
})

// ---- session controls (sessionControlRoutes.ts) ----

export const PermissionModeBody = Schema.Struct({
  mode: SessionOptions.fields.permissionMode.schema,
  expiresInMs: Schema.optionalKey(
    Schema.Int.check(Schema.isGreaterThanOrEqualTo(1_000)).annotate({
      description:
        "bypassPermissions only: how long until agentlog switches the session back (default 15 minutes; at most AGENTLOG_BYPASS_MAX_MS)."
    })
  )
}).annotate({
  identifier: "ChangePermissionMode",
  description: "The session's permission mode from now on: the live run's (if any) and the next runs'."
})

export const ModelBody = Schema.Struct({ model: SessionOptions.fields.model.schema }).annotate({
  identifier: "ChangeModel",
  description: "The session's model from now on: the live run's next requests (if any) and the next runs'."
})

// ---- query strings ----
// Declared with their real types (integers, booleans, enums, date-times): the adapter in
// routeKit.ts decodes the strings of the URL through Schema.toCodecStringTree, and the
// document shows these types, so a generated client sends `limit: 20`, not `limit: "20"`.

const optional = <S extends Schema.Top>(s: S) => Schema.optionalKey(s)

const int = (minimum: number, maximum: number, description: string) =>
  Schema.Int.check(Schema.isBetween({ minimum, maximum })).annotate({ description })

/** An opaque token the API issued (a page's nextCursor, a command's position): passed back unchanged, never built. */
const opaque = (description: string) => Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(500)).annotate({ description })

const MinPosition = opaque(
  "Read your write: wait (bounded by the service's read wait) until the read models have passed this position, a command's `position` (opaque). 503 with Retry-After when they do not get there in time."
)
const PageCursor = opaque("The `nextCursor` of the previous page of the same list, unchanged (opaque; a cursor from another list is 400).")

const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/i

/** An RFC 3339 date-time (JSON Schema `format: date-time`), refused when it names no real time. */
export const DateTime = Schema.String.check(
  Schema.makeFilter((s: string) => rfc3339.test(s) && Number.isFinite(Date.parse(s)), {
    expected: "an RFC 3339 date-time",
    toJsonSchema: () => ({ format: "date-time" })
  })
)

export const Uuid = Schema.String.check(Schema.isUUID())

const Revision = Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }))

export const ReadQuery = Schema.Struct({ minPosition: optional(MinPosition) })

export const ListSessionsQuery = Schema.Struct({
  status: optional(Schema.Literals(sessionStatuses).annotate({ description: "Only sessions in this status." })),
  archived: optional(Schema.Boolean.annotate({ description: "true: only archived sessions; false: only the others; absent: both." })),
  leaves: optional(
    Schema.Boolean.annotate({
      description: "true: only sessions that no fork continues from their end (a fork from an earlier message leaves its parent a leaf)."
    })
  ),
  q: optional(Schema.String.check(Schema.isMaxLength(200)).annotate({ description: "Text search in the title and the first query." })),
  limit: optional(int(1, 200, "Page size (default 50).")),
  cursor: optional(PageCursor),
  minPosition: optional(MinPosition)
})

export const TranscriptQuery = Schema.Struct({
  afterSeq: optional(
    Revision.annotate({ description: "Only entries with a larger seq: pass the previous page's `nextAfterSeq`." })
  ),
  limit: optional(int(1, 500, "Page size (default: every entry). With a limit, `nextAfterSeq` says where the next page starts.")),
  minPosition: optional(MinPosition)
})

export const StreamEventsQuery = Schema.Struct({
  fromRevision: optional(Revision.annotate({ description: "The first revision to return (default 0): the previous page's `nextRevision`." })),
  limit: optional(int(1, 1000, "Page size (default 100; NDJSON: every event from fromRevision unless given).")),
  minPosition: optional(MinPosition)
})

const after = DateTime.annotate({ description: "Only what happened at or after this time (RFC 3339)." })
const before = DateTime.annotate({ description: "Only what happened before this time (RFC 3339)." })
const session = Uuid.annotate({ description: "Only this session's." })

/** A principal's name as the record carries it (actor, decidedBy). */
const Principal = Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(200))
const decidedBy = Principal.annotate({ description: "Who decided: a principal's name, or agentlog when the system did (timeout, interrupt, run end)." })

export const AuditEventsQuery = Schema.Struct({
  type: optional(Schema.String.check(Schema.isMaxLength(2000)).annotate({ description: "Event types, comma separated." })),
  session: optional(session),
  actor: optional(Principal.annotate({ description: "Who appended the event: a principal's name (an API key's owner, api for the shared token, web for the page without one), supervisor or claude." })),
  after: optional(after),
  before: optional(before),
  cursor: optional(PageCursor),
  limit: optional(int(1, 500, "Page size (default 100).")),
  minPosition: optional(MinPosition)
})

export const ToolCallsQuery = Schema.Struct({
  tool: optional(Schema.String.check(Schema.isMaxLength(200)).annotate({ description: "Tool names, comma separated." })),
  session: optional(session),
  decision: optional(
    Schema.Literals(["allow", "deny", "pending", "none"]).annotate({ description: "The approval's decision; none: no approval was needed." })
  ),
  decidedBy: optional(decidedBy),
  after: optional(after),
  before: optional(before),
  cursor: optional(PageCursor),
  limit: optional(int(1, 200, "Page size (default 50).")),
  minPosition: optional(MinPosition)
})

export const ApprovalsQuery = Schema.Struct({
  status: optional(Schema.Literals(["pending", "allowed", "denied"])),
  session: optional(session),
  decidedBy: optional(decidedBy),
  cursor: optional(PageCursor),
  limit: optional(int(1, 200, "Page size (default 50).")),
  minPosition: optional(MinPosition)
})

export const LiveEventsQuery = Schema.Struct({
  lastEventId: optional(
    Revision.annotate({ description: "Resume after this revision, for clients that cannot send Last-Event-ID." })
  )
})

export const AllLiveEventsQuery = Schema.Struct({
  type: AuditEventsQuery.fields.type
})

export const SearchQuery = Schema.Struct({
  q: Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(500)).annotate({
    description: "Words that must all appear (in an entry's text, tool name, input or result); words in double quotes must appear next to each other, in that order; a word or quoted phrase ending in `*` matches its last word as a prefix. Operators and column filters are plain text."
  }),
  session: optional(Uuid.annotate({ description: "Only this session's transcript." })),
  limit: optional(int(1, 100, "How many hits (default 20).")),
  offset: optional(int(0, 1000, "Hits to skip, for the next page of a ranked list (default 0).")),
  minPosition: optional(MinPosition)
})

export const RecentDirectoriesQuery = Schema.Struct({
  limit: optional(int(1, 100, "How many directories (default 20).")),
  minPosition: optional(MinPosition)
})

/** Routes without query parameters still refuse unknown ones. */
export const NoQuery = Schema.Struct({})

// ---- request headers ----

export const requestHeaderSchemas = {
  "If-Match": Schema.String.check(
    Schema.isPattern(/^(?:\*|"(?:0|[1-9][0-9]{0,18})")$/u, { expected: 'one strong ETag "<revision>"' })
  ).annotate({
    description:
      'Apply only if the session is still at this revision: exactly one strong ETag `"<revision>"` (the ETag of GET /v1/sessions/{id} or of the last command\'s answer), or `*`. 412 when the session has moved on; a list or a weak ETag is 400.'
  }),
  "Idempotency-Key": Schema.String.check(
    Schema.isPattern(/^[\x21-\x7e]{1,255}$/u, { expected: "1 to 255 visible ASCII characters" })
  ).annotate({
    description:
      "Retries with the same key and body get the first answer (with Idempotent-Replayed: true); nothing runs twice. The same key with another request: 422."
  }),
  "Last-Event-ID": Revision.annotate({
    description: "Resume after this revision (an integer; EventSource sends the last `id:` it saw on reconnect)."
  })
} as const

export type RequestHeaderName = keyof typeof requestHeaderSchemas

// ---- decoding ----

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

const pointer = (path: ReadonlyArray<unknown> | undefined): string =>
  path && path.length > 0
    ? "/" +
      path
        .map((p) => (typeof p === "object" && p !== null && "key" in p ? (p as { key: unknown }).key : p))
        .map((k) => String(k).replaceAll("~", "~0").replaceAll("/", "~1"))
        .join("/")
    : ""

const issuesOf = (e: Schema.SchemaError) =>
  formatter(e.issue).issues.map((i) => ({ path: pointer(i.path), message: i.message }))

/** Decodes a JSON body: unknown fields are refused, every problem is reported. */
export const decodeBody = <S extends Schema.Decoder<unknown>>(schema: S, body: unknown): S["Type"] => {
  const r = Schema.decodeUnknownResult(schema, { errors: "all", onExcessProperty: "error" })(body)
  if (Result.isSuccess(r)) return r.success
  const issues = issuesOf(r.failure)
  throw validationFailed(
    issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("; ") || "the body is not valid",
    issues
  )
}

const stringCodecs = new WeakMap<Schema.Top, Schema.Decoder<unknown>>()
/** The schema read from strings (query parameters, headers): "20" is the integer 20, "true" the boolean. */
const fromStrings = <S extends Schema.Top>(schema: S): Schema.Decoder<S["Type"]> => {
  let codec = stringCodecs.get(schema)
  if (codec === undefined) stringCodecs.set(schema, (codec = Schema.toCodecStringTree(schema) as unknown as Schema.Decoder<unknown>))
  return codec as Schema.Decoder<S["Type"]>
}

/** Decodes query parameters: typed from their strings; an unknown or repeated parameter is refused. */
export const decodeQuery = <S extends Schema.Top>(schema: S, url: URL): S["Type"] => {
  const params: Record<string, string> = {}
  for (const [k, v] of url.searchParams) {
    if (Object.hasOwn(params, k)) throw badRequest(`query parameter ${k} is given more than once`)
    params[k] = v
  }
  // Checked by name: an empty Struct (a route without parameters) would take any object.
  const known = "fields" in schema ? Object.keys(schema.fields as object) : []
  const unknown = Object.keys(params).filter((k) => !known.includes(k))
  const r = Schema.decodeUnknownResult(fromStrings(schema), { errors: "all" })(params)
  if (Result.isSuccess(r) && unknown.length === 0) return r.success
  const issues = [
    ...unknown.map((k) => ({ path: `?${k}`, message: "is not a parameter of this route" })),
    ...(Result.isFailure(r) ? issuesOf(r.failure).map((i) => ({ path: `?${i.path.replace(/^\//, "")}`, message: i.message })) : [])
  ]
  throw validationFailed(
    issues.map((i) => `query parameter ${i.path.slice(1)}: ${i.message}`).join("; "),
    issues
  )
}

/** Decodes the named request headers (absent ones are undefined), typed from their strings. */
export const decodeHeaders = (
  names: ReadonlyArray<RequestHeaderName>,
  get: (name: string) => string | undefined
): { readonly [K in RequestHeaderName]?: Schema.Schema.Type<(typeof requestHeaderSchemas)[K]> } => {
  const out: Record<string, unknown> = {}
  for (const name of names) {
    const value = get(name)
    if (value === undefined) continue
    const r = Schema.decodeUnknownResult(fromStrings(requestHeaderSchemas[name]))(value.trim())
    if (Result.isFailure(r)) {
      const message = issuesOf(r.failure).map((i) => i.message).join("; ")
      throw validationFailed(`header ${name}: ${message}`, [{ path: name, message }])
    }
    out[name] = r.success
  }
  return out
}

export const AuditApprovalsQuery = Schema.Struct({
  from: optional(DateTime.annotate({ description: "Approvals requested at or after this time (RFC 3339); default: the first." })),
  to: optional(DateTime.annotate({ description: "Approvals requested before this time (RFC 3339); default: now and after." })),
  format: optional(
    Schema.Literals(["json", "csv", "ndjson"]).annotate({
      description: "The representation, instead of the Accept header (text/csv, application/x-ndjson, else JSON)."
    })
  ),
  minPosition: optional(MinPosition)
})
