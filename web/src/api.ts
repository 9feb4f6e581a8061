// Every call to the API goes through here: the page's client header (CSRF guard for the
// cookie), problem+json turned into ApiError with its field errors, 401 announced so the
// login shows. The token itself is never held here: the cookie carries the session.

export interface FieldError {
  readonly path: string
  readonly message: string
}

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

export const api = async <T>(
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string>; signal?: AbortSignal } = {}
): Promise<T> => {
  const headers: Record<string, string> = { ...clientHeader, Accept: "application/json", ...init.headers }
  if (init.body !== undefined) headers["Content-Type"] = "application/json"
  const res = await fetch(path, {
    method: init.method ?? "GET",
    headers,
    credentials: "same-origin",
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    ...(init.signal ? { signal: init.signal } : {})
  })
  if (res.status === 401) unauthorizedListeners.forEach((l) => l())
  if (!res.ok) throw await toError(res)
  if (res.status === 204) return undefined as T
  return (await res.json()) as T
}

const toError = async (res: Response): Promise<ApiError> => {
  try {
    const p = (await res.json()) as { title?: string; detail?: string; errors?: Array<FieldError> }
    return new ApiError(res.status, p.title ?? res.statusText, p.detail ?? "", p.errors ?? [])
  } catch {
    return new ApiError(res.status, res.statusText, `the service answered ${res.status}`)
  }
}

/** Query string from the defined, non-empty values. */
export const qs = (params: Record<string, string | number | undefined | null>): string => {
  const u = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") u.set(k, String(v))
  const s = u.toString()
  return s === "" ? "" : `?${s}`
}

// ---- what the API answers (the read models' rows) ----

// The read models' rows, as src/projections/readModels.ts declares them (types only: nothing
// of the server is bundled).
export type { ApprovalRow, Page, SessionRow, ToolCallRow } from "../../src/projections/readModels.ts"

export interface EventView {
  readonly stream: string
  readonly sessionId: string | null
  readonly revision: number
  readonly position: string
  readonly id: string
  readonly type: string
  readonly data: unknown
  readonly metadata: unknown
  readonly created: string
}

export interface CommandAccepted {
  readonly sessionId: string
  readonly runId?: string
  readonly status: string
  readonly position: string
  readonly revision: number
}

export const decide = (approvalId: string, body: { decision: "allow" | "deny"; message?: string; updatedInput?: Record<string, unknown> }) =>
  api<CommandAccepted>(`/v1/approvals/${approvalId}/decision`, { method: "POST", body })

export const command = (sessionId: string, action: "interrupt" | "archive" | "unarchive") =>
  api<CommandAccepted>(`/v1/sessions/${sessionId}/${action}`, { method: "POST" })
