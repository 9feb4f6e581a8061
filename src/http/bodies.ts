// The request schemas: bodies (built from the domain's SessionOptions) and query strings.
// Handlers validate with these and openapi.ts documents these, so the two cannot drift.
import { Result, Schema, SchemaIssue } from "effect"
import { SessionOptions } from "../domain/sessionOptions.ts"
import { sessionStatuses } from "../domain/sessionState.ts"
import { badRequest, validationFailed } from "./problem.ts"

// ---- bodies ----

const Query = Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(1_000_000)).annotate({
  description: "The prompt for Claude."
})

const { title: _title, ...runOverrides } = SessionOptions.fields

export const LaunchBody = Schema.Struct({ query: Query, ...SessionOptions.fields }).annotate({
  identifier: "LaunchSession",
  description: "Launches a new session: a query and the session's options."
})
export type LaunchBody = typeof LaunchBody.Type

/** A continue's overrides apply to that run only; a session is renamed with PATCH. */
export const ContinueBody = Schema.Struct({ query: Query, ...runOverrides }).annotate({
  identifier: "ContinueSession",
  description: "Continues the conversation with a new query; options given override the session's for this run."
})
export type ContinueBody = typeof ContinueBody.Type

export const ForkBody = Schema.Struct({ query: Query, ...SessionOptions.fields }).annotate({
  identifier: "ForkSession",
  description: "Forks the conversation into a new session; options given override the parent's."
})
export type ForkBody = typeof ForkBody.Type

export const RenameBody = Schema.Struct({
  title: SessionOptions.fields.title.schema
}).annotate({ identifier: "RenameSession" })

export const DecisionBody = Schema.Struct({
  decision: Schema.Literals(["allow", "deny"]),
  message: Schema.optionalKey(Schema.String.check(Schema.isMaxLength(1_000_000))),
  updatedInput: Schema.optionalKey(Schema.Record(Schema.String, Schema.Json))
}).annotate({ identifier: "ApprovalDecision", description: "Answers a pending approval." })
export type DecisionBody = typeof DecisionBody.Type

/** Commands without parameters take no body, or an empty JSON object. */
export const EmptyBody = Schema.Record(Schema.String, Schema.Never).annotate({
  identifier: "Empty",
  description: "No fields: send no body or {}."
})

// ---- query strings (every value arrives as a string) ----

const pattern = (re: RegExp, expected: string, description: string) =>
  Schema.String.check(Schema.isPattern(re, { expected })).annotate({ description })

/** An opaque position cursor as the API hands them out. */
export const Cursor = pattern(/^\d{1,20}(?:-\d{1,20})?$/u, "a position cursor", "An opaque position cursor, as returned by the API.")
const MinPosition = Cursor.annotate({
  description: "Wait (bounded) until the read models have passed this position (a command's `position`)."
})
const Limit200 = pattern(/^(?:200|1[0-9]{2}|[1-9][0-9]?)$/u, "an integer from 1 to 200", "Page size, 1..200 (default 50).")
const Limit500 = pattern(/^(?:500|[1-4][0-9]{2}|[1-9][0-9]?)$/u, "an integer from 1 to 500", "Page size, 1..500 (default 100).")
const Limit1000 = pattern(/^(?:1000|[1-9][0-9]{0,2})$/u, "an integer from 1 to 1000", "Page size, 1..1000 (default 100).")
const Revision = pattern(/^(?:0|[1-9][0-9]{0,15})$/u, "a non-negative integer", "A stream revision (0-based).")
const Uuid = pattern(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/u, "a lowercase UUID", "A session id.")
const Time = Schema.String.check(
  Schema.makeFilter((s: string) => Number.isFinite(Date.parse(s)), { expected: "an ISO 8601 time" })
).annotate({ description: "An ISO 8601 time.", format: "date-time" })
const optional = <S extends Schema.Top>(s: S) => Schema.optionalKey(s)

export const ReadQuery = Schema.Struct({ minPosition: optional(MinPosition) })

export const ListSessionsQuery = Schema.Struct({
  status: optional(Schema.Literals(sessionStatuses)),
  archived: optional(Schema.Literals(["true", "false"])),
  q: optional(Schema.String.check(Schema.isMaxLength(200)).annotate({ description: "Text search in title and query." })),
  limit: optional(Limit200),
  cursor: optional(Schema.String.check(Schema.isMaxLength(500)).annotate({ description: "nextCursor of the previous page." })),
  minPosition: optional(MinPosition)
})

export const TranscriptQuery = Schema.Struct({
  afterSeq: optional(pattern(/^(?:0|[1-9][0-9]{0,15})$/u, "a non-negative integer", "Only entries after this seq.")),
  limit: optional(Limit500),
  minPosition: optional(MinPosition)
})

export const StreamEventsQuery = Schema.Struct({
  fromRevision: optional(Revision),
  limit: optional(Limit1000),
  minPosition: optional(MinPosition)
})

export const AuditEventsQuery = Schema.Struct({
  type: optional(
    Schema.String.check(Schema.isMaxLength(2000)).annotate({ description: "Event types, comma separated." })
  ),
  session: optional(Uuid),
  after: optional(Time),
  before: optional(Time),
  cursor: optional(Cursor),
  limit: optional(Limit500),
  minPosition: optional(MinPosition)
})

export const ToolCallsQuery = Schema.Struct({
  tool: optional(Schema.String.check(Schema.isMaxLength(200))),
  session: optional(Uuid),
  decision: optional(Schema.Literals(["allow", "deny", "pending", "none"])),
  after: optional(Time),
  before: optional(Time),
  cursor: optional(Schema.String.check(Schema.isMaxLength(500))),
  limit: optional(Limit200),
  minPosition: optional(MinPosition)
})

export const ApprovalsQuery = Schema.Struct({
  status: optional(Schema.Literals(["pending", "allowed", "denied"])),
  session: optional(Uuid),
  cursor: optional(Schema.String.check(Schema.isMaxLength(500))),
  limit: optional(Limit200),
  minPosition: optional(MinPosition)
})

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

/** Decodes query parameters; unknown parameters are ignored, a repeated one is refused. */
export const decodeQuery = <S extends Schema.Decoder<unknown>>(schema: S, url: URL): S["Type"] => {
  const params: Record<string, string> = {}
  for (const [k, v] of url.searchParams) {
    if (Object.hasOwn(params, k)) throw badRequest(`query parameter ${k} is given more than once`)
    params[k] = v
  }
  const r = Schema.decodeUnknownResult(schema, { errors: "all" })(params)
  if (Result.isSuccess(r)) return r.success
  const issues = issuesOf(r.failure).map((i) => ({ path: i.path.replace(/^\//, ""), message: i.message }))
  throw validationFailed(
    issues.map((i) => `query parameter ${i.path}: ${i.message}`).join("; "),
    issues.map((i) => ({ ...i, path: `?${i.path}` }))
  )
}

export const LiveEventsQuery = Schema.Struct({
  lastEventId: optional(
    Revision.annotate({ description: "Resume after this revision, for clients that cannot send Last-Event-ID." })
  )
})
