// `tool_calls`: the audit index of every tool Claude used: what it asked for, who approved
// or denied it, what came back and how long it took. A row is keyed by (session, tool use
// id) and filled by whichever of the tool_use, the approval and the result arrives first.
import type { DatabaseSync } from "node:sqlite"
import { contentBlocks, isToolUse, toolResultText } from "../claudeContent.ts"
import type { Projection } from "../projection.ts"
import { bool, json, obj, str, type ProjectedEvent } from "../projectedEvent.ts"
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
    // One upsert: the row usually exists (from the tool_use), and is made here when it
    // does not (requested now, so a duration of 0). Nobody was asked (no approval): the
    // mode in force let it through (acceptEdits, bypassPermissions, or Claude's own rules
    // in the others); a call Claude refused is taken back at its result. (A lookup and two
    // updates of the row, each rewriting its result, were a tenth of a rebuild's worker.)
    sql(
      db,
      `INSERT INTO tool_calls (session_id, tool_use_id, run_id, requested_at, result_text, result, is_error, completed_at,
         duration_ms, allowed_by)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?4, 0,
         'auto: ' || coalesce((SELECT run_mode FROM tool_call_modes WHERE session_id = ?1), 'default'))
       ON CONFLICT (session_id, tool_use_id) DO UPDATE SET
         result_text = excluded.result_text, result = excluded.result, is_error = excluded.is_error,
         completed_at = excluded.completed_at,
         duration_ms = CAST(round((unixepoch(excluded.completed_at, 'subsec') - unixepoch(requested_at, 'subsec')) * 1000) AS INTEGER),
         allowed_by = CASE WHEN approval_id IS NULL THEN excluded.allowed_by ELSE allowed_by END`
    ).run(sessionId, toolUseId, e.runId, e.at, toolResultText(b.content), json(b.content), bool(b.is_error) ?? 0)
  }
}

/** The permission mode in force, per session: who let a call through that nobody was asked about. */
const modes = (db: DatabaseSync, e: ProjectedEvent, sessionId: string): void => {
  const d = e.data
  const set = (base: string | null, run: string | null) =>
    sql(
      db,
      `INSERT INTO tool_call_modes (session_id, base_mode, run_mode) VALUES (?, ?, ?)
       ON CONFLICT (session_id) DO UPDATE SET base_mode = excluded.base_mode, run_mode = excluded.run_mode`
    ).run(sessionId, base, run)
  const base = () =>
    (sql(db, "SELECT base_mode FROM tool_call_modes WHERE session_id = ?").get(sessionId) as { base_mode: string | null } | undefined)
      ?.base_mode ?? null
  switch (e.type) {
    case "SessionLaunched":
    case "SessionForked": {
      const mode = str(obj(d.options).permissionMode)
      set(mode, mode)
      break
    }
    case "ContinueRequested": {
      const b = base()
      set(b, str(obj(d.overrides).permissionMode) ?? b)
      break
    }
    case "PermissionModeChanged":
      set(str(d.mode), str(d.mode))
      break
    case "ClaudeResult":
      // Refused by Claude's own rules (a mode, a deny rule) without asking anyone: not let through.
      for (const raw of Array.isArray(d.permissionDenials) ? d.permissionDenials : []) {
        const toolUseId = str(obj(raw).tool_use_id)
        if (toolUseId !== null)
          sql(db, "UPDATE tool_calls SET allowed_by = NULL WHERE session_id = ? AND tool_use_id = ? AND approval_id IS NULL").run(
            sessionId,
            toolUseId
          )
      }
      break
  }
}

const apply = (db: DatabaseSync, e: ProjectedEvent): void => {
  const sessionId = e.sessionId
  if (sessionId === null) return
  const d = e.data
  modes(db, e, sessionId)
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
           updated_input = ?, decided_at = ?, allowed_by = ?
         WHERE session_id = ? AND approval_id = ?`
      ).run(
        str(d.decision) ?? "deny",
        str(d.decidedBy),
        str(d.message),
        str(d.reason),
        json(d.updatedInput),
        e.at,
        d.decision === "allow" ? "approval" : null,
        sessionId,
        approvalId
      )
      break
    }
  }
}

export const toolCallsProjection: Projection = {
  name: "tool_calls",
  // 3: allowed_by (how a call was let through) and the modes it is worked out from.
  version: 3,
  tables: ["tool_calls", "tool_call_modes"],
  schema: toolCallsSchema,
  queryIndexes: (db) => db.exec(toolCallsQueryIndexes),
  apply
}
