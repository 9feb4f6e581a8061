// `transcript`: the conversation of a session as ordered entries (seq 1, 2, 3, … without
// gaps): the prompt of each run, Claude's text / thinking / tool calls (each tool call
// carries its result and its approval), results, and how runs ended. Partial stream
// deltas (ClaudeStreamEvent) are left to the event history.
import type { DatabaseSync } from "node:sqlite"
import { isToolUse, toolResultText } from "../claudeContent.ts"
import type { Projection } from "../projection.ts"
import { arr, bool, json, obj, str, type JsonObject, type ProjectedEvent } from "../projectedEvent.ts"
import { sql } from "../readDb.ts"
import { transcriptSchema, transcriptSearchIndex } from "./schema.ts"

interface Entry {
  readonly kind: string
  readonly text?: string | null
  readonly messageUuid?: string | null
  readonly parentToolUseId?: string | null
  readonly toolUseId?: string | null
  readonly toolName?: string | null
  readonly input?: string | null
  readonly resultText?: string | null
  readonly result?: string | null
  readonly isError?: 0 | 1 | null
  readonly data?: string | null
}

/** Appends an entry at the session's next seq (worked out by the INSERT itself: one statement per entry). */
const add = (db: DatabaseSync, e: ProjectedEvent, sessionId: string, entry: Entry): void => {
  sql(
    db,
    `INSERT INTO transcript (session_id, seq, revision, run_id, kind, text, message_uuid, parent_tool_use_id,
       tool_use_id, tool_name, input, result_text, result, is_error, result_revision, result_at, data, created_at)
     VALUES (?, (SELECT coalesce(max(seq), 0) + 1 FROM transcript WHERE session_id = ?), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
  ).run(
    sessionId,
    sessionId,
    e.revision,
    e.runId,
    entry.kind,
    entry.text ?? null,
    entry.messageUuid ?? null,
    entry.parentToolUseId ?? null,
    entry.toolUseId ?? null,
    entry.toolName ?? null,
    entry.input ?? null,
    entry.resultText ?? null,
    entry.result ?? null,
    entry.isError ?? null,
    entry.kind === "tool_result" ? e.revision : null,
    entry.kind === "tool_result" ? e.at : null,
    entry.data ?? null,
    e.at
  )
}

const toolCallSeq = (db: DatabaseSync, sessionId: string, toolUseId: string): number | undefined =>
  (
    sql(
      db,
      "SELECT max(seq) AS seq FROM transcript WHERE session_id = ? AND tool_use_id = ? AND kind = 'tool_call'"
    ).get(sessionId, toolUseId) as { seq: number | null }
  ).seq ?? undefined

const linkApproval = (db: DatabaseSync, sessionId: string, toolUseId: string): void => {
  const a = sql(
    db,
    `SELECT approval_id, decision, decided_by, message FROM transcript_approvals
     WHERE session_id = ? AND tool_use_id = ? ORDER BY rowid DESC LIMIT 1`
  ).get(sessionId, toolUseId) as
    | { approval_id: string; decision: string; decided_by: string | null; message: string | null }
    | undefined
  // Most tool calls need no approval: then there is nothing to link and no seq to look up.
  if (a === undefined) return
  const seq = toolCallSeq(db, sessionId, toolUseId)
  if (seq === undefined) return
  sql(
    db,
    "UPDATE transcript SET approval_id = ?, decision = ?, decided_by = ?, decision_message = ? WHERE session_id = ? AND seq = ?"
  ).run(a.approval_id, a.decision, a.decided_by, a.message, sessionId, seq)
}

const assistant = (db: DatabaseSync, e: ProjectedEvent, sessionId: string): void => {
  const m = obj(e.data.message)
  const inner = obj(m.message)
  const common = { messageUuid: str(m.uuid), parentToolUseId: str(m.parent_tool_use_id) }
  const content = inner.content
  if (typeof content === "string") {
    add(db, e, sessionId, { ...common, kind: "assistant_text", text: content })
    return
  }
  for (const raw of arr(content)) {
    const b = obj(raw)
    switch (b.type) {
      case "text":
        add(db, e, sessionId, { ...common, kind: "assistant_text", text: str(b.text) })
        break
      case "thinking":
        add(db, e, sessionId, { ...common, kind: "thinking", text: str(b.thinking) })
        break
      case "redacted_thinking":
        add(db, e, sessionId, { ...common, kind: "thinking", data: json({ redacted: true }) })
        break
      default:
        if (isToolUse(b)) {
          const toolUseId = str(b.id)
          add(db, e, sessionId, { ...common, kind: "tool_call", toolUseId, toolName: str(b.name), input: json(b.input) })
          if (toolUseId !== null) linkApproval(db, sessionId, toolUseId)
        } else {
          add(db, e, sessionId, { ...common, kind: "other", data: json(raw) })
        }
    }
  }
}

const user = (db: DatabaseSync, e: ProjectedEvent, sessionId: string): void => {
  const m = obj(e.data.message)
  // A replay echoes a prompt agentlog already shows as the run's user_text.
  if (m.isReplay === true) return
  const inner = obj(m.message)
  const common = { messageUuid: str(m.uuid), parentToolUseId: str(m.parent_tool_use_id) }
  const content = inner.content
  if (typeof content === "string") {
    add(db, e, sessionId, { ...common, kind: "user_text", text: content })
    return
  }
  for (const raw of arr(content)) {
    const b = obj(raw)
    if (b.type === "tool_result") {
      const toolUseId = str(b.tool_use_id)
      const resultText = toolResultText(b.content)
      const result = json(b.content)
      const isError = bool(b.is_error) ?? 0
      const seq = toolUseId === null ? undefined : toolCallSeq(db, sessionId, toolUseId)
      if (seq !== undefined) {
        sql(
          db,
          `UPDATE transcript SET result_text = ?, result = ?, is_error = ?, result_revision = ?, result_at = ?
           WHERE session_id = ? AND seq = ?`
        ).run(resultText, result, isError, e.revision, e.at, sessionId, seq)
      } else {
        add(db, e, sessionId, { ...common, kind: "tool_result", toolUseId, resultText, result, isError })
      }
    } else if (b.type === "text") {
      add(db, e, sessionId, { ...common, kind: "user_text", text: str(b.text) })
    } else {
      add(db, e, sessionId, { ...common, kind: "other", data: json(raw) })
    }
  }
}

const approvalRequested = (db: DatabaseSync, d: JsonObject, sessionId: string): void => {
  const approvalId = str(d.approvalId)
  const toolUseId = str(d.toolUseId)
  if (approvalId === null || toolUseId === null) return
  sql(
    db,
    `INSERT INTO transcript_approvals (approval_id, session_id, tool_use_id, decision) VALUES (?, ?, ?, 'pending')
     ON CONFLICT (approval_id) DO NOTHING`
  ).run(approvalId, sessionId, toolUseId)
  linkApproval(db, sessionId, toolUseId)
}

const approvalDecided = (db: DatabaseSync, d: JsonObject, sessionId: string): void => {
  const approvalId = str(d.approvalId)
  if (approvalId === null) return
  sql(db, "UPDATE transcript_approvals SET decision = ?, decided_by = ?, message = ? WHERE approval_id = ?").run(
    str(d.decision) ?? "deny",
    str(d.decidedBy),
    str(d.message),
    approvalId
  )
  const a = sql(db, "SELECT tool_use_id FROM transcript_approvals WHERE approval_id = ? AND session_id = ?").get(
    approvalId,
    sessionId
  ) as { tool_use_id: string } | undefined
  if (a !== undefined) linkApproval(db, sessionId, a.tool_use_id)
}

const apply = (db: DatabaseSync, e: ProjectedEvent): void => {
  const sessionId = e.sessionId
  if (sessionId === null) return
  const d = e.data
  switch (e.type) {
    case "SessionLaunched":
    case "SessionForked":
    case "ContinueRequested":
      add(db, e, sessionId, { kind: "user_text", text: str(d.query) })
      break
    case "ClaudeAssistantMessage":
      assistant(db, e, sessionId)
      break
    case "ClaudeUserMessage":
      user(db, e, sessionId)
      break
    case "ClaudeSystemEvent":
      add(db, e, sessionId, { kind: "system", text: str(d.subtype), messageUuid: str(obj(d.message).uuid), data: json(d.message) })
      break
    case "ClaudeResult": {
      const m = obj(d.message)
      add(db, e, sessionId, {
        kind: "result",
        text: str(m.result),
        messageUuid: str(m.uuid),
        isError: bool(d.isError),
        data: json({
          subtype: d.subtype,
          runCostUsd: d.runCostUsd,
          totalCostUsd: d.totalCostUsd,
          numTurns: d.numTurns,
          durationMs: d.durationMs,
          usage: d.usage
        })
      })
      break
    }
    case "ApprovalRequested":
      approvalRequested(db, d, sessionId)
      break
    case "ApprovalDecided":
      approvalDecided(db, d, sessionId)
      break
    case "RunFailed":
      add(db, e, sessionId, { kind: "error", text: str(d.error), isError: 1, data: json({ exitCode: d.exitCode }) })
      break
    case "RunInterrupted":
      add(db, e, sessionId, { kind: "interrupted" })
      break
    case "RunAbandoned":
      add(db, e, sessionId, { kind: "abandoned", text: str(d.reason) })
      break
  }
}

export const transcriptProjection: Projection = {
  name: "transcript",
  // 2: the full-text index (transcript_search) over the entries.
  version: 2,
  tables: ["transcript", "transcript_approvals", "transcript_search"],
  schema: transcriptSchema,
  queryIndexes: transcriptSearchIndex,
  apply
}
