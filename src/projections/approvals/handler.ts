// `approvals`: every permission request Claude made, pending until a person or a rule
// (timeout, interrupt, run end) answered it.
import type { DatabaseSync } from "node:sqlite"
import type { Projection } from "../projection.ts"
import { json, str, type ProjectedEvent } from "../projectedEvent.ts"
import { sql } from "../readDb.ts"
import { approvalsSchema, approvalsQueryIndexes } from "./schema.ts"

const apply = (db: DatabaseSync, e: ProjectedEvent): void => {
  const sessionId = e.sessionId
  if (sessionId === null) return
  const d = e.data
  const approvalId = str(d.approvalId)
  if (approvalId === null) return
  if (e.type === "ApprovalRequested") {
    sql(
      db,
      `INSERT INTO approvals (approval_id, session_id, run_id, tool_use_id, tool_name, input, suggestions, status,
         requested_at, expires_at, stream, requested_revision)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)
       ON CONFLICT (approval_id) DO NOTHING`
    ).run(
      approvalId,
      sessionId,
      e.runId,
      str(d.toolUseId),
      str(d.toolName),
      json(d.input),
      json(d.suggestions),
      e.at,
      str(d.expiresAt),
      e.recorded.stream,
      e.revision
    )
  } else if (e.type === "ApprovalDecided") {
    sql(
      db,
      `UPDATE approvals SET status = ?, decided_by = ?, message = ?, reason = ?, updated_input = ?, decided_at = ?,
         decided_revision = ?
       WHERE approval_id = ? AND session_id = ?`
    ).run(
      d.decision === "allow" ? "allowed" : "denied",
      str(d.decidedBy),
      str(d.message),
      str(d.reason),
      json(d.updatedInput),
      e.at,
      e.revision,
      approvalId,
      sessionId
    )
  }
}

export const approvalsProjection: Projection = {
  name: "approvals",
  version: 2,
  tables: ["approvals"],
  schema: approvalsSchema,
  queryIndexes: (db) => db.exec(approvalsQueryIndexes),
  apply
}
