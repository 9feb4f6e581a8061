// RFC 9457 problem details, and the ONE place where a failure becomes an HTTP status.
// Handlers throw (or fail with) tagged errors; the app's error handler calls toProblem.
// Nothing here ever puts a stack trace or an internal message into a response.
import type { CommandError } from "../commands/sessionCommands.ts"
import type { ReadModelError } from "../projections/readModels.ts"
import type { WebhookError } from "../webhooks/webhookEvents.ts"

export interface Problem {
  readonly type: string
  readonly title: string
  readonly status: number
  readonly detail: string
  readonly [extension: string]: unknown
}

export const problemContentType = "application/problem+json"

/** Problem type URIs: stable identifiers a client can switch on. */
const typeUri = (slug: string): string => `urn:agentlog:problem:${slug}`

/** A failure decided at the HTTP edge (bad body, wrong content type, …), thrown by handlers. */
export class HttpProblem extends Error {
  readonly _tag = "HttpProblem"
  readonly problem: Problem
  readonly headers: Readonly<Record<string, string>>
  constructor(problem: Problem, headers: Readonly<Record<string, string>> = {}) {
    super(problem.detail)
    this.name = "HttpProblem"
    this.problem = problem
    this.headers = headers
  }
}

export const problem = (
  status: number,
  slug: string,
  title: string,
  detail: string,
  extensions: Record<string, unknown> = {},
  headers: Record<string, string> = {}
): HttpProblem => new HttpProblem({ ...extensions, type: typeUri(slug), title, status, detail }, headers)

// The edge's own problems, named once so routes and tests agree.
export const badRequest = (detail: string, extensions?: Record<string, unknown>) =>
  problem(400, "bad-request", "Bad request", detail, extensions)
export const validationFailed = (detail: string, errors: ReadonlyArray<{ path: string; message: string }>) =>
  problem(400, "validation-failed", "The request is not valid", detail, { errors })
export const malformedJson = (detail: string) => problem(400, "malformed-json", "Malformed JSON", detail)
export const unauthorized = () =>
  problem(401, "unauthorized", "Unauthorized", "a valid bearer token is required", {}, {
    "WWW-Authenticate": 'Bearer realm="agentlog"'
  })
export const notFound = (detail: string, extensions?: Record<string, unknown>) =>
  problem(404, "not-found", "Not found", detail, extensions)
export const methodNotAllowed = (method: string, allow: ReadonlyArray<string>) =>
  problem(405, "method-not-allowed", "Method not allowed", `${method} is not allowed here`, { allow }, {
    Allow: allow.join(", ")
  })
export const conflict = (slug: string, title: string, detail: string, extensions?: Record<string, unknown>) =>
  problem(409, slug, title, detail, extensions)
export const payloadTooLarge = (limit: number) =>
  problem(413, "payload-too-large", "Payload too large", `the request body exceeds ${limit} bytes`, { limit })
export const unsupportedMediaType = (expected: string) =>
  problem(415, "unsupported-media-type", "Unsupported media type", `the request body must be ${expected}`)
export const idempotencyKeyReused = () =>
  problem(
    422,
    "idempotency-key-reused",
    "Idempotency key reused",
    "this Idempotency-Key was already used with a different request"
  )
export const notReady = (detail: string, retryAfterSeconds: number) =>
  problem(503, "not-ready", "Service unavailable", detail, {}, { "Retry-After": String(retryAfterSeconds) })

/** What the mapping needs to know about the request. */
export interface ProblemContext {
  /** The request carried If-Match: a revision conflict is then a failed precondition. */
  readonly ifMatch: boolean
}

/** Every failure a handler can meet: the services' tagged errors and the edge's own problems. */
export type AppError = CommandError | ReadModelError | HttpProblem | WebhookError

type Mapping = { readonly [T in AppError["_tag"]]: (e: Extract<AppError, { readonly _tag: T }>, ctx: ProblemContext) => HttpProblem | "internal" }

const text = (v: unknown): string => (typeof v === "bigint" ? v.toString() : String(v))

/**
 * The one place where a failure gets its status. A Record over every tag of AppError: a new
 * tagged error in a service's signature fails to compile until it has its line here.
 * "internal" is a 500 that shows nothing and is logged (a store or read.db failure).
 */
const mapping: Mapping = {
  HttpProblem: (e) => e,
  SessionNotFound: (e) => problem(404, "session-not-found", "Session not found", e.message, { sessionId: e.sessionId }),
  ApprovalNotFound: (e) => problem(404, "approval-not-found", "Approval not found", e.message, { approvalId: e.approvalId }),
  FollowUpNotFound: (e) =>
    problem(404, "follow-up-not-found", "Follow-up not found", e.message, { sessionId: e.sessionId, followUpId: e.followUpId }),
  InvalidStreamName: () => problem(404, "not-found", "Not found", "no such session"),
  StreamNotFound: () => problem(404, "session-not-found", "Session not found", "no such session"),
  InvalidTransition: (e) =>
    conflict("invalid-transition", "Not allowed in the session's current status", e.message, {
      sessionId: e.sessionId,
      sessionStatus: e.status,
      command: e.command
    }),
  SessionAlreadyExists: (e) =>
    conflict("session-already-exists", "Session already exists", e.message, { sessionId: e.sessionId }),
  ApprovalAlreadyDecided: (e) =>
    conflict("approval-already-decided", "Approval already decided", e.message, { approvalId: e.approvalId, decision: e.decision }),
  WrongExpectedVersion: (e, ctx) => {
    const currentRevision = e.actual === "no_stream" ? null : text(e.actual)
    return ctx.ifMatch
      ? problem(412, "precondition-failed", "Precondition failed", "the session has changed since the given revision", { currentRevision })
      : conflict("concurrent-modification", "Concurrent modification", "the session was changed concurrently; retry", { currentRevision })
  },
  InvalidQuery: (e) =>
    problem(400, "validation-failed", "The request is not valid", e.message, {
      errors: [{ path: `?${e.field}`, message: e.reason }]
    }),
  RunWithoutCommit: (e) =>
    conflict("run-without-commit", "The run has no commit to reset to", e.message, { sessionId: e.sessionId, runId: e.runId }),
  InvalidAnswer: (e) =>
    problem(422, "invalid-answer", "The answer does not fit the approval", e.message, { approvalId: e.approvalId }),
  InvalidEvent: (e) => problem(400, "invalid-event", "The request would record an invalid event", e.message),
  EventStoreUnavailable: () =>
    problem(503, "event-store-unavailable", "Event store unavailable", "the event store is unavailable; retry later", {}, { "Retry-After": "1" }),
  EventStoreFailure: () => "internal",
  ReadDbError: () => "internal",
  WebhookNotFound: (e) => problem(404, "webhook-not-found", "Webhook not found", e.message, { webhookId: e.webhookId }),
  WebhookStatusConflict: (e) =>
    conflict("webhook-status-conflict", "Not allowed in the webhook's current status", e.message, { webhookId: e.webhookId, webhookStatus: e.status })
}

const appErrorTags = new Set<string>(Object.keys(mapping))
const isAppError = (e: unknown): e is AppError =>
  e instanceof HttpProblem ||
  (typeof e === "object" && e !== null && "_tag" in e && typeof e._tag === "string" && appErrorTags.has(e._tag))

const internalProblem: Problem = {
  type: typeUri("internal"),
  title: "Internal server error",
  status: 500,
  detail: "an unexpected error occurred; see the service log for the request id"
}

/**
 * Maps any failure to a problem. Known tagged errors keep their (domain-written, safe)
 * message as the detail; anything else becomes a generic 500 and `internal` is true so
 * the caller logs the real error.
 */
export const toProblem = (
  e: unknown,
  ctx: ProblemContext
): { readonly problem: Problem; readonly headers: Readonly<Record<string, string>>; readonly internal: boolean } => {
  const mapped = isAppError(e) ? (mapping[e._tag] as (e: AppError, ctx: ProblemContext) => HttpProblem | "internal")(e, ctx) : "internal"
  return mapped === "internal"
    ? { problem: internalProblem, headers: {}, internal: true }
    : { problem: mapped.problem, headers: mapped.headers, internal: false }
}

/** The problem as a Response (JSON body, problem content type, its headers). */
export const problemResponse = (p: Problem, headers: Readonly<Record<string, string>> = {}, extra: Record<string, unknown> = {}): Response =>
  new Response(JSON.stringify({ ...p, ...extra }), {
    status: p.status,
    headers: { ...headers, "Content-Type": problemContentType, "Cache-Control": "no-store" }
  })
