// The tool calls read model's query: newest first, filtered by tool, session, decision and time.
import type { DatabaseSync } from "node:sqlite"
import { allRows, decodeCursor, flag, InvalidQuery, limitOf, many, type OneOrMany, page, type Page, parse, type Row, timeOf, Where } from "../paging.ts"

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
}

export interface ToolCallsQuery {
  readonly tool?: OneOrMany
  readonly session?: string
  /** allow | deny | pending | none (no approval needed). */
  readonly decision?: OneOrMany
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
  durationMs: r.duration_ms === null ? null : Number(r.duration_ms)
})

export const toolCallQueries = (db: DatabaseSync) => {
  const toolCalls = (q: ToolCallsQuery = {}): Page<ToolCallRow> => {
    const limit = limitOf(q.limit)
    const w = new Where().in("tool_name", many(q.tool))
    if (q.session !== undefined) w.add("session_id = ?", q.session)
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
    if (q.cursor !== undefined) {
      const [at, s, t] = decodeCursor(q.cursor, 3)
      w.add(
        "(requested_at < ? OR (requested_at = ? AND (session_id < ? OR (session_id = ? AND tool_use_id < ?))))",
        at!,
        at!,
        s!,
        s!,
        t!
      )
    }
    const rows = allRows(
      db,
      `SELECT * FROM tool_calls ${w.sql} ORDER BY requested_at DESC, session_id DESC, tool_use_id DESC LIMIT ?`,
      [...w.params, limit + 1]
    )
    return page(rows, limit, toToolCall, (r) => [r.requested_at as string, r.session_id as string, r.tool_use_id as string])
  }

  return { toolCalls }
}
