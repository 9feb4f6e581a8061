// `file_touches`: the files each session read, edited or wrote, from Claude's recorded
// Read / Edit / MultiEdit / Write / NotebookEdit tool calls (ClaudeAssistantMessage) and
// their results (ClaudeUserMessage): what a Read gave Claude, what a Write wrote, and each
// change as diff hunks. A read model of its own rather than a query over the transcript:
// one file's history is then a keyed lookup, and each diff is worked out once, here.
import type { DatabaseSync } from "node:sqlite"
import { isToolUse, toolResultText } from "../claudeContent.ts"
import type { Projection } from "../projection.ts"
import { arr, bool, json, obj, str, type JsonObject, type ProjectedEvent } from "../projectedEvent.ts"
import { sql } from "../readDb.ts"
import { hunkBetween, hunksOfStructuredPatch } from "./diffHunks.ts"
import { filesQueryIndexes, filesSchema } from "./schema.ts"

const actions: Readonly<Record<string, "read" | "edit" | "write">> = {
  Read: "read",
  Edit: "edit",
  MultiEdit: "edit",
  NotebookEdit: "edit",
  Write: "write"
}

/** What the call's input alone says: the path, a Write's content, an edit's change. */
const fromInput = (toolName: string, input: JsonObject) => {
  const path = str(input.file_path) ?? str(input.notebook_path)
  if (toolName === "Write") {
    const content = str(input.content)
    return { path, content, diff: null }
  }
  if (toolName === "Edit") return { path, content: null, diff: [hunkBetween(str(input.old_string) ?? "", str(input.new_string) ?? "")] }
  if (toolName === "MultiEdit")
    return {
      path,
      content: null,
      diff: arr(input.edits).map((raw) => hunkBetween(str(obj(raw).old_string) ?? "", str(obj(raw).new_string) ?? ""))
    }
  if (toolName === "NotebookEdit") return { path, content: null, diff: [hunkBetween("", str(input.new_source) ?? "")] }
  return { path, content: null, diff: null }
}

const toolCalls = (db: DatabaseSync, e: ProjectedEvent, sessionId: string): void => {
  for (const raw of arr(obj(obj(e.data.message).message).content)) {
    const b = obj(raw)
    const toolName = str(b.name)
    const toolUseId = str(b.id)
    if (!isToolUse(b) || toolName === null || toolUseId === null || !Object.hasOwn(actions, toolName)) continue
    const { path, content, diff } = fromInput(toolName, obj(b.input))
    if (path === null) continue
    sql(
      db,
      `INSERT INTO file_touches (session_id, tool_use_id, path, tool_name, action, run_id, revision, at, content, diff)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`
    ).run(sessionId, toolUseId, path, toolName, actions[toolName]!, e.runId, e.revision, e.at, content, json(diff))
  }
}

const toolResults = (db: DatabaseSync, e: ProjectedEvent, sessionId: string): void => {
  const m = obj(e.data.message)
  const blocks = arr(obj(m.message).content).map(obj).filter((b) => b.type === "tool_result" && str(b.tool_use_id) !== null)
  if (blocks.length === 0) return
  // Claude Code's own account of the result: a Read's file, an Edit's or Write's patch (one result per message).
  const detail = blocks.length === 1 ? obj(m.tool_use_result) : {}
  for (const b of blocks) {
    const toolUseId = str(b.tool_use_id)!
    const row = sql(db, "SELECT action FROM file_touches WHERE session_id = ? AND tool_use_id = ?").get(sessionId, toolUseId) as
      | { action: string }
      | undefined
    if (row === undefined) continue
    const isError = bool(b.is_error) ?? 0
    const text = toolResultText(b.content)
    const patch = isError === 1 ? null : hunksOfStructuredPatch(detail.structuredPatch)
    // A Write that created the file: every line of it is new.
    const created = isError === 0 && row.action === "write" && detail.type === "create" && str(detail.content) !== null
    sql(
      db,
      `UPDATE file_touches SET is_error = ?, error = ?, result_revision = ?,
         content = CASE WHEN action = 'read' THEN ? ELSE content END,
         diff = coalesce(?, diff)
       WHERE session_id = ? AND tool_use_id = ?`
    ).run(
      isError,
      isError === 1 ? text : null,
      e.revision,
      isError === 1 ? null : text,
      created ? json([hunkBetween("", str(detail.content)!)]) : patch === null || patch.length === 0 ? null : json(patch),
      sessionId,
      toolUseId
    )
  }
}

const apply = (db: DatabaseSync, e: ProjectedEvent): void => {
  const sessionId = e.sessionId
  if (sessionId === null) return
  if (e.type === "ClaudeAssistantMessage") toolCalls(db, e, sessionId)
  else if (e.type === "ClaudeUserMessage") toolResults(db, e, sessionId)
}

export const filesProjection: Projection = {
  name: "files",
  version: 1,
  tables: ["file_touches"],
  schema: filesSchema,
  apply,
  queryIndexes: (db) => db.exec(filesQueryIndexes)
}
