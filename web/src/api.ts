// Every call to the API goes through here: a client typed by the types generated from the
// service's OpenAPI document (src/http/api.generated.ts, `npm run api:types`), so a path,
// a query parameter, a body or a field the document does not have is a type error here,
// and a response is the document's schema without a cast. It adds the page's client header
// (CSRF guard for the cookie), turns problem+json into ApiError with its field errors, and
// announces a 401 so the login shows. The token itself is never held here: the cookie
// carries the session.
import createClient from "openapi-fetch"
import type { components, paths } from "../../src/http/api.generated.ts"
import { takeEarly } from "./early.ts"

export type { operations } from "../../src/http/api.generated.ts"

export type Schemas = components["schemas"]
export type SessionRow = Schemas["SessionSummary"]
export type ApprovalRow = Schemas["Approval"]
export type ToolCallRow = Schemas["ToolCall"]
export type EventView = Schemas["Event"]
export type CommandAccepted = Schemas["CommandAccepted"]
export type SessionStatus = SessionRow["status"]

export interface FieldError {
  readonly path: string
  readonly message: string
}

/** What a failed call says to a person: the problem's title and detail, or the error itself. */
export const failureText = (e: unknown): string => (e instanceof ApiError ? `${e.title}: ${e.message}` : String(e))

export class ApiError extends Error {
  readonly status: number
  readonly title: string
  readonly fieldErrors: ReadonlyArray<FieldError>
  constructor(status: number, title: string, detail: string, fieldErrors: ReadonlyArray<FieldError> = []) {
    super(detail || title)
    this.name = "ApiError"
    this.status = status
    this.title = title
    this.fieldErrors = fieldErrors
  }
}

export const clientHeader = { "X-Agentlog-Client": "web" } as const

type Listener = () => void
const unauthorizedListeners = new Set<Listener>()
export const onUnauthorized = (l: Listener): (() => void) => {
  unauthorizedListeners.add(l)
  return () => unauthorizedListeners.delete(l)
}

export const client = createClient<paths>({
  headers: { ...clientHeader, Accept: "application/json" },
  credentials: "same-origin",
  // Looked up on each call (not captured once), so a test can stand in for it.
  fetch: (request) => takeEarly(request) ?? globalThis.fetch(request)
})
client.use({
  onResponse: ({ response }) => {
    if (response.status === 401) unauthorizedListeners.forEach((l) => l())
  }
})

type Answer<D> = { data: D; error?: never; response: Response } | { data?: never; error: unknown; response: Response }

/** The body of a successful answer, or its problem as an ApiError. */
export const ok = async <D>(answer: Promise<Answer<D>>): Promise<D & ({} | null)> => {
  const r = await answer
  if (!r.response.ok || r.data === undefined) throw toError(r.response, r.error)
  return r.data
}

const toError = (res: Response, problem: unknown): ApiError => {
  if (problem !== null && typeof problem === "object") {
    const p: Partial<Record<string, unknown>> = { ...problem }
    const errors = Array.isArray(p.errors) ? p.errors.filter((e): e is FieldError => typeof e?.path === "string" && typeof e?.message === "string") : []
    return new ApiError(res.status, typeof p.title === "string" ? p.title : res.statusText, typeof p.detail === "string" ? p.detail : "", errors)
  }
  return new ApiError(res.status, res.statusText, `the service answered ${res.status}`)
}

/** An event as the SSE streams send it (`data:` is the schema Event as JSON, as /v1/sessions/{id}/events pages it). */
export const parseEvent = (json: string): EventView => JSON.parse(json)

export const decide = (approvalId: string, body: Schemas["ApprovalDecision"]) =>
  ok(client.POST("/v1/approvals/{id}/decision", { params: { path: { id: approvalId } }, body }))

export const command = (sessionId: string, action: "interrupt" | "archive" | "unarchive") => {
  const init = { params: { path: { id: sessionId } } }
  if (action === "interrupt") return ok(client.POST("/v1/sessions/{id}/interrupt", init))
  if (action === "archive") return ok(client.POST("/v1/sessions/{id}/archive", init))
  return ok(client.POST("/v1/sessions/{id}/unarchive", init))
}
