// The approvals read model's queries: the list, newest first, and one approval.
import type { DatabaseSync } from "node:sqlite"
import { allRows, InvalidQuery, limitOf, many, type OneOrMany, type Page, parse, type Row, timeOf, Where, newestFirst } from "../paging.ts"
import { sql } from "../readDb.ts"

export interface ApprovalRow {
  readonly approvalId: string
  readonly sessionId: string
  readonly runId: string | null
  readonly toolUseId: string | null
  readonly toolName: string | null
  readonly input: unknown
  readonly suggestions: unknown
  readonly status: "pending" | "allowed" | "denied"
  readonly decidedBy: string | null
  readonly message: string | null
  readonly reason: string | null
  readonly updatedInput: unknown
  readonly requestedAt: string
  readonly decidedAt: string | null
  readonly expiresAt: string | null
  /** Where the record is: the stream, and the revisions of the request and of the decision. */
  readonly stream: string | null
  readonly requestedRevision: number | null
  readonly decidedRevision: number | null
}

export interface ApprovalsQuery {
  /** pending | allowed | denied */
  readonly status?: OneOrMany
  readonly session?: string
  /** Who decided (a principal's name, or "agentlog" when the system did). */
  readonly decidedBy?: string
  readonly limit?: number
  readonly cursor?: string
}

const toApproval = (r: Row): ApprovalRow => ({
  approvalId: r.approval_id as string,
  sessionId: r.session_id as string,
  runId: r.run_id as string | null,
  toolUseId: r.tool_use_id as string | null,
  toolName: r.tool_name as string | null,
  input: parse(r.input),
  suggestions: parse(r.suggestions),
  status: r.status as ApprovalRow["status"],
  decidedBy: r.decided_by as string | null,
  message: r.message as string | null,
  reason: r.reason as string | null,
  updatedInput: parse(r.updated_input),
  requestedAt: r.requested_at as string,
  decidedAt: r.decided_at as string | null,
  expiresAt: r.expires_at as string | null,
  stream: r.stream as string | null,
  requestedRevision: r.requested_revision === null ? null : Number(r.requested_revision),
  decidedRevision: r.decided_revision === null ? null : Number(r.decided_revision)
})

export const approvalQueries = (db: DatabaseSync) => {
  const approvals = (q: ApprovalsQuery = {}): Page<ApprovalRow> => {
    const limit = limitOf(q.limit)
    const statuses = many(q.status)
    for (const s of statuses)
      if (!["pending", "allowed", "denied"].includes(s))
        throw new InvalidQuery({ field: "status", reason: "one of pending, allowed, denied" })
    const w = new Where().in("status", statuses)
    if (q.session !== undefined) w.add("session_id = ?", q.session)
    if (q.decidedBy !== undefined) w.add("decided_by = ?", q.decidedBy)
    return newestFirst(db, "approvals", w, ["requested_at", "approval_id"], q.cursor, limit, toApproval)
  }

  /**
   * The audit report's page: approvals requested in [from, to), oldest first, after the
   * last one of the previous page (its requestedAt and approvalId). The report reads page
   * after page as its client takes them: nothing holds more than one page.
   */
  const approvalsInRange = (q: {
    readonly from?: string
    readonly to?: string
    readonly after?: { readonly requestedAt: string; readonly approvalId: string }
    readonly limit: number
  }): ReadonlyArray<ApprovalRow> => {
    const w = new Where()
    const from = timeOf("from", q.from)
    const to = timeOf("to", q.to)
    if (from !== null) w.add("requested_at >= ?", from)
    if (to !== null) w.add("requested_at < ?", to)
    if (q.after !== undefined)
      w.add("(requested_at > ? OR (requested_at = ? AND approval_id > ?))", q.after.requestedAt, q.after.requestedAt, q.after.approvalId)
    return allRows(db, `SELECT * FROM approvals ${w.sql} ORDER BY requested_at ASC, approval_id ASC LIMIT ?`, [...w.params, q.limit]).map(toApproval)
  }

  const approval = (approvalId: string): ApprovalRow | null => {
    const r = sql(db, "SELECT * FROM approvals WHERE approval_id = ?").get(approvalId) as Row | undefined
    return r === undefined ? null : toApproval(r)
  }

  return { approvals, approvalsInRange, approval }
}
