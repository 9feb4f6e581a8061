// GET /v1/audit/approvals: every approval requested in a time range, as JSON, CSV or
// NDJSON. The body is a pull stream: a page of rows is read from the approvals read model
// only when the client has taken the previous one, so a year of records costs the
// service one page of memory, and a client that stops reading stops the reading.
import type { Hono } from "hono"
import { Effect } from "effect"
import type { ApprovalRow } from "../projections/readModels.ts"
import type { HttpDeps } from "./deps.ts"
import type { HttpEnv } from "./env.ts"
import { awaitMinPosition, router } from "./routeKit.ts"
import { routes } from "./routes.ts"

const pageSize = 500

const formats = {
  json: "application/json",
  csv: "text/csv; charset=utf-8",
  ndjson: "application/x-ndjson"
} as const
type Format = keyof typeof formats

/** ?format= wins; else the first of text/csv or NDJSON the Accept header names; else JSON. */
const formatOf = (query: Format | undefined, accept: string | undefined): Format => {
  if (query !== undefined) return query
  for (const part of (accept ?? "").split(",")) {
    const t = part.split(";")[0]!.trim().toLowerCase()
    if (t === "text/csv") return "csv"
    if (t === "application/x-ndjson" || t === "application/jsonl") return "ndjson"
  }
  return "json"
}

export interface AuditRow {
  readonly approvalId: string
  readonly sessionId: string
  readonly stream: string
  readonly requestedRevision: number | null
  readonly decidedRevision: number | null
  readonly toolName: string | null
  readonly input: unknown
  readonly requestedAt: string
  readonly decision: "allow" | "deny" | "pending"
  readonly decidedBy: string | null
  readonly decidedAt: string | null
  readonly waitedMs: number | null
  readonly message: string | null
  readonly reason: string | null
}

export const auditRowOf = (a: ApprovalRow): AuditRow => ({
  approvalId: a.approvalId,
  sessionId: a.sessionId,
  stream: a.stream ?? `session-${a.sessionId}`,
  requestedRevision: a.requestedRevision,
  decidedRevision: a.decidedRevision,
  toolName: a.toolName,
  input: a.input,
  requestedAt: a.requestedAt,
  decision: a.status === "allowed" ? "allow" : a.status === "denied" ? "deny" : "pending",
  decidedBy: a.decidedBy,
  decidedAt: a.decidedAt,
  waitedMs: a.decidedAt === null ? null : Math.max(0, Date.parse(a.decidedAt) - Date.parse(a.requestedAt)),
  message: a.message,
  reason: a.reason
})

const columns = [
  "approvalId",
  "sessionId",
  "stream",
  "requestedRevision",
  "decidedRevision",
  "toolName",
  "input",
  "requestedAt",
  "decision",
  "decidedBy",
  "decidedAt",
  "waitedMs",
  "message",
  "reason"
] as const satisfies ReadonlyArray<keyof AuditRow>

/**
 * One CSV cell (RFC 4180 quoting). A cell a spreadsheet would run as a formula (tool input
 * is whatever Claude asked for) gets a leading apostrophe.
 */
const cell = (v: unknown): string => {
  if (v === null || v === undefined) return ""
  let s = typeof v === "string" ? v : typeof v === "number" ? String(v) : JSON.stringify(v)
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
}

const encoders: Record<Format, { head: string; row: (r: AuditRow, first: boolean) => string; tail: string }> = {
  json: { head: '{"items":[', row: (r, first) => (first ? "" : ",") + JSON.stringify(r), tail: "]}\n" },
  ndjson: { head: "", row: (r) => JSON.stringify(r) + "\n", tail: "" },
  csv: { head: columns.join(",") + "\r\n", row: (r) => columns.map((c) => cell(r[c])).join(",") + "\r\n", tail: "" }
}

export const auditRoutes = (app: Hono<HttpEnv>, deps: HttpDeps): void => {
  const handle = router(app, deps)
  handle(routes.auditApprovals, ({ c, query: q }) =>
    Effect.gen(function* () {
      yield* awaitMinPosition(deps, q.minPosition)
      const format = formatOf(q.format, c.req.header("accept"))
      // The first page is read before answering, so a bad range is a 400, not a broken stream.
      const range = { ...(q.from !== undefined ? { from: q.from } : {}), ...(q.to !== undefined ? { to: q.to } : {}) }
      let page = yield* deps.readModels.approvalsInRange({ ...range, limit: pageSize })
      const headers = { "Content-Type": formats[format], "Cache-Control": "no-store" }
      if (c.req.method === "HEAD") return new Response(null, { status: 200, headers })
      const enc = encoders[format]
      const encoder = new TextEncoder()
      let first = true
      let started = false
      let done = false
      const body = new ReadableStream<Uint8Array>({
        pull: async (controller) => {
          let text = started ? "" : enc.head
          started = true
          if (!done && page.length === 0) done = true
          if (!done) {
            for (const a of page) {
              text += enc.row(auditRowOf(a), first)
              first = false
            }
            const last = page[page.length - 1]!
            if (page.length < pageSize) done = true
            else {
              const next = await Effect.runPromise(
                Effect.result(
                  deps.readModels.approvalsInRange({ ...range, after: { requestedAt: last.requestedAt, approvalId: last.approvalId }, limit: pageSize })
                )
              )
              if (next._tag === "Failure") {
                // Headers are gone: the only honest answer left is a broken stream (the client sees no end marker).
                deps.logger.log("error", "audit report failed mid-stream", { requestId: c.get("requestId"), error: next.failure._tag })
                controller.error(new Error("the audit report could not be read to the end"))
                return
              }
              page = next.success
            }
          }
          if (done) text += enc.tail
          if (text !== "") controller.enqueue(encoder.encode(text))
          if (done) controller.close()
        }
      })
      return new Response(body, { status: 200, headers })
    })
  )
}
