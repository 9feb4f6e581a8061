// The route table: every route's method, path and schemas, declared once. The route
// modules register their handlers against these entries, openapi.ts documents them, and
// the app answers 405 (with Allow) for a known path with another method.
import type { Schema } from "effect"
import * as B from "./bodies.ts"
import * as R from "./responses.ts"

export type Method = "GET" | "POST" | "PATCH"

export interface ResponseSpec {
  readonly description: string
  readonly schema?: Schema.Top
  /** Defaults to application/json (application/problem+json for 4xx/5xx). */
  readonly contentType?: string
  readonly headers?: ReadonlyArray<"ETag" | "Retry-After" | "Allow" | "Idempotent-Replayed">
  /** Other representations of the same response, by media type (content negotiation). */
  readonly alternatives?: Readonly<Record<string, Schema.Top>>
}

export interface RouteSpec {
  readonly operationId: string
  readonly method: Method
  /** Hono syntax: `/v1/sessions/:id`. */
  readonly path: string
  readonly summary: string
  readonly tag: "sessions" | "events" | "audit" | "approvals" | "service"
  readonly body?: Schema.Top
  readonly query?: Schema.Top
  readonly requestHeaders?: ReadonlyArray<"If-Match" | "Idempotency-Key" | "Last-Event-ID">
  readonly responses: Readonly<Record<number, ResponseSpec>>
  /** False only for /healthz: every other route needs the bearer token when one is configured. */
  readonly auth: boolean
}

const accepted: ResponseSpec = { description: "Accepted: the command's events were appended.", schema: R.CommandAccepted, headers: ["ETag"] }
const problems = (...statuses: ReadonlyArray<number>): Record<number, ResponseSpec> =>
  Object.fromEntries(statuses.map((s) => [s, { description: problemText[s] ?? "Problem", schema: R.Problem }]))
const problemText: Record<number, string> = {
  400: "The request is not valid (body, query, headers or cwd).",
  401: "Missing or wrong bearer token.",
  404: "No such session, approval or route.",
  409: "Not allowed in the current state.",
  412: "If-Match names a revision the session has moved past.",
  413: "The body is larger than the limit.",
  415: "The body is not JSON.",
  422: "The Idempotency-Key was used with a different request.",
  503: "The store is unavailable, or the read models did not reach minPosition in time (see Retry-After)."
}
const commandProblems = problems(400, 401, 404, 409, 412, 413, 415, 503)
const readProblems = problems(400, 401, 404, 503)

export const routes = {
  launchSession: {
    operationId: "launchSession",
    method: "POST",
    path: "/v1/sessions",
    summary: "Launch a session",
    tag: "sessions",
    body: B.LaunchBody,
    requestHeaders: ["Idempotency-Key"],
    responses: { 202: accepted, ...problems(400, 401, 409, 413, 415, 422, 503) },
    auth: true
  },
  listSessions: {
    operationId: "listSessions",
    method: "GET",
    path: "/v1/sessions",
    summary: "List sessions, most recently active first",
    tag: "sessions",
    query: B.ListSessionsQuery,
    responses: { 200: { description: "A page of sessions.", schema: R.Page }, ...readProblems },
    auth: true
  },
  getSession: {
    operationId: "getSession",
    method: "GET",
    path: "/v1/sessions/:id",
    summary: "One session with its totals",
    tag: "sessions",
    query: B.ReadQuery,
    responses: { 200: { description: "The session.", schema: R.Session, headers: ["ETag"] }, ...readProblems },
    auth: true
  },
  renameSession: {
    operationId: "renameSession",
    method: "PATCH",
    path: "/v1/sessions/:id",
    summary: "Rename a session",
    tag: "sessions",
    body: B.RenameBody,
    requestHeaders: ["If-Match"],
    responses: { 202: accepted, ...commandProblems },
    auth: true
  },
  continueSession: {
    operationId: "continueSession",
    method: "POST",
    path: "/v1/sessions/:id/continue",
    summary: "Continue a session with a new query",
    tag: "sessions",
    body: B.ContinueBody,
    requestHeaders: ["If-Match", "Idempotency-Key"],
    responses: { 202: accepted, ...commandProblems, ...problems(422) },
    auth: true
  },
  forkSession: {
    operationId: "forkSession",
    method: "POST",
    path: "/v1/sessions/:id/fork",
    summary: "Fork a session into a new one",
    tag: "sessions",
    body: B.ForkBody,
    requestHeaders: ["If-Match", "Idempotency-Key"],
    responses: { 202: accepted, ...commandProblems, ...problems(422) },
    auth: true
  },
  interruptSession: {
    operationId: "interruptSession",
    method: "POST",
    path: "/v1/sessions/:id/interrupt",
    summary: "Interrupt the session's active run",
    tag: "sessions",
    body: B.EmptyBody,
    requestHeaders: ["If-Match"],
    responses: { 202: accepted, ...commandProblems },
    auth: true
  },
  archiveSession: {
    operationId: "archiveSession",
    method: "POST",
    path: "/v1/sessions/:id/archive",
    summary: "Archive a session",
    tag: "sessions",
    body: B.EmptyBody,
    requestHeaders: ["If-Match"],
    responses: { 202: accepted, ...commandProblems },
    auth: true
  },
  unarchiveSession: {
    operationId: "unarchiveSession",
    method: "POST",
    path: "/v1/sessions/:id/unarchive",
    summary: "Unarchive a session",
    tag: "sessions",
    body: B.EmptyBody,
    requestHeaders: ["If-Match"],
    responses: { 202: accepted, ...commandProblems },
    auth: true
  },
  getTranscript: {
    operationId: "getTranscript",
    method: "GET",
    path: "/v1/sessions/:id/transcript",
    summary: "The session's conversation as ordered entries",
    tag: "sessions",
    query: B.ReadQuery,
    responses: { 200: { description: "The transcript.", schema: R.Transcript }, ...readProblems },
    auth: true
  },
  getSessionEvents: {
    operationId: "getSessionEvents",
    method: "GET",
    path: "/v1/sessions/:id/events",
    summary: "The session stream's events in order (JSON pages, or NDJSON with Accept: application/x-ndjson)",
    tag: "events",
    query: B.StreamEventsQuery,
    responses: {
      200: {
        description: "A page of events; with Accept: application/x-ndjson, every event from fromRevision, one JSON object per line.",
        schema: R.StreamEventsPage,
        alternatives: { "application/x-ndjson": R.EventView }
      },
      ...readProblems
    },
    auth: true
  },
  followSessionEvents: {
    operationId: "followSessionEvents",
    method: "GET",
    path: "/v1/sessions/:id/events/live",
    summary: "The session's events as Server-Sent Events: replay after Last-Event-ID, then live",
    tag: "events",
    query: B.LiveEventsQuery,
    requestHeaders: ["Last-Event-ID"],
    responses: {
      200: {
        description: "text/event-stream: `id:` is the event's revision, `event:` its type, `data:` the Event as JSON; comments are heartbeats.",
        contentType: "text/event-stream",
        schema: R.EventView
      },
      ...readProblems,
      ...problems(409)
    },
    auth: true
  },
  listEvents: {
    operationId: "listEvents",
    method: "GET",
    path: "/v1/events",
    summary: "Audit: events of every session, in global order",
    tag: "audit",
    query: B.AuditEventsQuery,
    responses: { 200: { description: "A page of events.", schema: R.EventsPage }, ...readProblems },
    auth: true
  },
  listToolCalls: {
    operationId: "listToolCalls",
    method: "GET",
    path: "/v1/tool-calls",
    summary: "Audit: every tool call with its input, approval, result and timing",
    tag: "audit",
    query: B.ToolCallsQuery,
    responses: { 200: { description: "A page of tool calls.", schema: R.Page }, ...readProblems },
    auth: true
  },
  listApprovals: {
    operationId: "listApprovals",
    method: "GET",
    path: "/v1/approvals",
    summary: "Approvals, newest first",
    tag: "approvals",
    query: B.ApprovalsQuery,
    responses: { 200: { description: "A page of approvals.", schema: R.Page }, ...readProblems },
    auth: true
  },
  getApproval: {
    operationId: "getApproval",
    method: "GET",
    path: "/v1/approvals/:id",
    summary: "One approval",
    tag: "approvals",
    query: B.ReadQuery,
    responses: { 200: { description: "The approval.", schema: R.Approval }, ...readProblems },
    auth: true
  },
  decideApproval: {
    operationId: "decideApproval",
    method: "POST",
    path: "/v1/approvals/:id/decision",
    summary: "Allow or deny a pending approval",
    tag: "approvals",
    body: B.DecisionBody,
    responses: { 202: accepted, ...problems(400, 401, 404, 409, 413, 415, 503) },
    auth: true
  },
  healthz: {
    operationId: "healthz",
    method: "GET",
    path: "/healthz",
    summary: "Liveness: 200 while the process is up",
    tag: "service",
    responses: { 200: { description: "Up.", schema: R.Health } },
    auth: false
  },
  readyz: {
    operationId: "readyz",
    method: "GET",
    path: "/readyz",
    summary: "Readiness: the store answers and the read models are caught up",
    tag: "service",
    responses: {
      200: { description: "Ready.", schema: R.Readiness },
      503: { description: "Not ready.", schema: R.Readiness, contentType: "application/json", headers: ["Retry-After"] },
      ...problems(401)
    },
    auth: true
  },
  openapi: {
    operationId: "openapi",
    method: "GET",
    path: "/openapi.json",
    summary: "This document",
    tag: "service",
    responses: { 200: { description: "The OpenAPI 3.1 document." }, ...problems(401) },
    auth: true
  }
} as const satisfies Record<string, RouteSpec>

export type RouteName = keyof typeof routes
export const allRoutes: ReadonlyArray<RouteSpec> = Object.values(routes)

const patternOf = (path: string): RegExp =>
  new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/:([A-Za-z]+)/g, "[^/]+")}$`)
const compiled = allRoutes.map((r) => ({ route: r, pattern: patternOf(r.path) }))

/** Methods the table knows for a path (with HEAD for GET, and OPTIONS); empty for an unknown path. */
export const allowedMethods = (path: string): ReadonlyArray<string> => {
  const methods = new Set<string>()
  for (const { route, pattern } of compiled) {
    if (!pattern.test(path)) continue
    methods.add(route.method)
    if (route.method === "GET") methods.add("HEAD")
  }
  if (methods.size > 0) methods.add("OPTIONS")
  return [...methods]
}
