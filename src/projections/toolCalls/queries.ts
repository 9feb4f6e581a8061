// The tool calls read model's query: newest first, filtered by tool, session, decision and time.
import type { DatabaseSync } from "node:sqlite"
import { flag, InvalidQuery, limitOf, many, type OneOrMany, type Page, parse, type Row, timeOf, Where, newestFirst } from "../paging.ts"

export interface ToolCallRow {
  readonly sessionId: string
  readonly toolUseId: string
  readonly runId: string | null
  readonly toolName: string | null
  readonly input: unknown
  readonly approvalId: string | null
  /** null when no approval was needed; else pending | allow | deny. */
  readonly decision: string | null
  readonly decidedBy: string | null
  readonly decisionMessage: string | null
  readonly decisionReason: string | null
  readonly updatedInput: unknown
  readonly resultText: string | null
  readonly result: unknown
  readonly isError: boolean | null
  readonly requestedAt: string
  readonly decidedAt: string | null
  readonly completedAt: string | null
  readonly durationMs: number | null
  /** How it was let through: "approval", or "auto: <mode>" when nobody was asked; null while pending, or refused. */
  readonly allowedBy: string | null
}

export interface ToolCallsQuery {
  readonly tool?: OneOrMany
  readonly session?: string
  /** allow | deny | pending | none (no approval needed). */
  readonly decision?: OneOrMany
  /** Who decided the approval (a principal's name, or "agentlog" when the system did). */
  readonly decidedBy?: string
  /** requested_at >= after (ISO 8601). */
  readonly after?: string
  /** requested_at < before (ISO 8601). */
  readonly before?: string
  readonly limit?: number
  readonly cursor?: string
}

const toToolCall = (r: Row): ToolCallRow => ({
  sessionId: r.session_id as string,
  toolUseId: r.tool_use_id as string,
  runId: r.run_id as string | null,
  toolName: r.tool_name as string | null,
  input: parse(r.input),
  approvalId: r.approval_id as string | null,
  decision: r.decision as string | null,
  decidedBy: r.decided_by as string | null,
  decisionMessage: r.decision_message as string | null,
  decisionReason: r.decision_reason as string | null,
  updatedInput: parse(r.updated_input),
  resultText: r.result_text as string | null,
  result: parse(r.result),
  isError: flag(r.is_error),
  requestedAt: r.requested_at as string,
  decidedAt: r.decided_at as string | null,
  completedAt: r.completed_at as string | null,
  durationMs: r.duration_ms === null ? null : Number(r.duration_ms),
  allowedBy: r.allowed_by as string | null
})

export const toolCallQueries = (db: DatabaseSync) => {
  const toolCalls = (q: ToolCallsQuery = {}): Page<ToolCallRow> => {
    const limit = limitOf(q.limit)
    const w = new Where().in("tool_name", many(q.tool))
    if (q.session !== undefined) w.add("session_id = ?", q.session)
    if (q.decidedBy !== undefined) w.add("decided_by = ?", q.decidedBy)
    const decisions = many(q.decision)
    for (const d of decisions)
      if (!["allow", "deny", "pending", "none"].includes(d))
        throw new InvalidQuery({ field: "decision", reason: "one of allow, deny, pending, none" })
    if (decisions.length > 0) {
      const named = decisions.filter((d) => d !== "none")
      const conditions = [
        ...(named.length > 0 ? [`decision IN (${named.map(() => "?").join(", ")})`] : []),
        ...(decisions.includes("none") ? ["decision IS NULL"] : [])
      ]
      w.add(`(${conditions.join(" OR ")})`, ...named)
    }
    const afterT = timeOf("after", q.after)
    const beforeT = timeOf("before", q.before)
    if (afterT !== null) w.add("requested_at >= ?", afterT)
    if (beforeT !== null) w.add("requested_at < ?", beforeT)
    return newestFirst(db, "tool_calls", w, ["requested_at", "session_id", "tool_use_id"], q.cursor, limit, toToolCall)
  }

  return { toolCalls }
}
