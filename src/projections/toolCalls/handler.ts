// `tool_calls`: the audit index of every tool Claude used: what it asked for, who approved
// or denied it, what came back and how long it took. A row is keyed by (session, tool use
// id) and filled by whichever of the tool_use, the approval and the result arrives first.
import type { DatabaseSync } from "node:sqlite"
import { contentBlocks, isToolUse, toolResultText } from "../claudeContent.ts"
import type { Projection } from "../projection.ts"
import { bool, json, msBetween, obj, str, type ProjectedEvent } from "../projectedEvent.ts"
import { sql } from "../readDb.ts"
import { toolCallsSchema, toolCallsQueryIndexes } from "./schema.ts"

/** Makes sure the row exists; the first event that mentions the tool call sets requested_at. */
const ensure = (db: DatabaseSync, e: ProjectedEvent, sessionId: string, toolUseId: string): void => {
  sql(
    db,
    `INSERT INTO tool_calls (session_id, tool_use_id, run_id, requested_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (session_id, tool_use_id) DO NOTHING`
  ).run(sessionId, toolUseId, e.runId, e.at)
}

const assistant = (db: DatabaseSync, e: ProjectedEvent, sessionId: string): void => {
  for (const raw of contentBlocks(e.data)) {
    const b = obj(raw)
    if (!isToolUse(b)) continue
    const toolUseId = str(b.id)
    if (toolUseId === null) continue
    // The row (as ensure would make it) with what Claude asked for: that is the record,
    // even when an approval named the tool first. One upsert instead of ensure + update.
    sql(
      db,
      `INSERT INTO tool_calls (session_id, tool_use_id, run_id, requested_at, tool_name, input) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (session_id, tool_use_id) DO UPDATE SET tool_name = excluded.tool_name, input = excluded.input`
    ).run(sessionId, toolUseId, e.runId, e.at, str(b.name), json(b.input))
  }
}

const user = (db: DatabaseSync, e: ProjectedEvent, sessionId: string): void => {
  const m = obj(e.data.message)
  if (m.isReplay === true) return
  for (const raw of contentBlocks(e.data)) {
    const b = obj(raw)
    const toolUseId = str(b.tool_use_id)
    if (b.type !== "tool_result" || toolUseId === null) continue
    // The row usually exists (from the tool_use); only when it does not is it made here.
    const row = sql(db, "SELECT requested_at FROM tool_calls WHERE session_id = ? AND tool_use_id = ?").get(
      sessionId,
      toolUseId
    ) as { requested_at: string } | undefined
    if (row === undefined) ensure(db, e, sessionId, toolUseId)
    const requested_at = row?.requested_at ?? e.at
    sql(
      db,
      `UPDATE tool_calls SET result_text = ?, result = ?, is_error = ?, completed_at = ?, duration_ms = ?
       WHERE session_id = ? AND tool_use_id = ?`
    ).run(
      toolResultText(b.content),
      json(b.content),
      bool(b.is_error) ?? 0,
      e.at,
      msBetween(requested_at, e.at),
      sessionId,
      toolUseId
    )
  }
}

const apply = (db: DatabaseSync, e: ProjectedEvent): void => {
  const sessionId = e.sessionId
  if (sessionId === null) return
  const d = e.data
  switch (e.type) {
    case "ClaudeAssistantMessage":
      assistant(db, e, sessionId)
      break
    case "ClaudeUserMessage":
      user(db, e, sessionId)
      break
    case "ApprovalRequested": {
      const toolUseId = str(d.toolUseId)
      if (toolUseId === null) break
      ensure(db, e, sessionId, toolUseId)
      sql(
        db,
        `UPDATE tool_calls SET approval_id = ?, decision = 'pending', tool_name = coalesce(tool_name, ?),
           input = coalesce(input, ?)
         WHERE session_id = ? AND tool_use_id = ?`
      ).run(str(d.approvalId), str(d.toolName), json(d.input), sessionId, toolUseId)
      break
    }
    case "ApprovalDecided": {
      const approvalId = str(d.approvalId)
      if (approvalId === null) break
      sql(
        db,
        `UPDATE tool_calls SET decision = ?, decided_by = ?, decision_message = ?, decision_reason = ?,
           updated_input = ?, decided_at = ?
         WHERE session_id = ? AND approval_id = ?`
      ).run(
        str(d.decision) ?? "deny",
        str(d.decidedBy),
        str(d.message),
        str(d.reason),
        json(d.updatedInput),
        e.at,
        sessionId,
        approvalId
      )
      break
    }
  }
}

export const toolCallsProjection: Projection = {
  name: "tool_calls",
  version: 2,
  tables: ["tool_calls"],
  schema: toolCallsSchema,
  queryIndexes: (db) => db.exec(toolCallsQueryIndexes),
  apply
}
