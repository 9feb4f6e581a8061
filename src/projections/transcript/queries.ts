// The transcript read model's query: a session's entries in seq order.
import type { DatabaseSync } from "node:sqlite"
import { flag, InvalidQuery, limitOf, parse } from "../paging.ts"
import { sql } from "../readDb.ts"

export interface TranscriptEntry {
  readonly sessionId: string
  readonly seq: number
  readonly revision: number
  readonly runId: string | null
  /** user_text | assistant_text | thinking | tool_call | tool_result | result | system | error | interrupted | abandoned | other */
  readonly kind: string
  readonly text: string | null
  readonly messageUuid: string | null
  readonly parentToolUseId: string | null
  readonly toolUseId: string | null
  readonly toolName: string | null
  readonly input: unknown
  /** tool_call / tool_result: what the tool returned (null while it has not). */
  readonly result: {
    readonly text: string | null
    readonly content: unknown
    readonly isError: boolean
    readonly revision: number | null
    readonly at: string | null
  } | null
  /** tool_call: the approval it needed, if any. */
  readonly approval: {
    readonly approvalId: string
    readonly decision: string
    readonly decidedBy: string | null
    readonly message: string | null
  } | null
  readonly isError: boolean | null
  /** Details of the kind: result figures, the system message, the unknown block, … */
  readonly data: unknown
  readonly createdAt: string
}

export interface TranscriptQuery {
  /** Only entries with seq > afterSeq. */
  readonly afterSeq?: number
  readonly limit?: number
}

/**
 * The transcript's columns in the order its query reads them. The query returns arrays
 * (setReturnArrays): for 22 columns, an object with named keys per row cost a third of a
 * 10,000-event transcript's read.
 */
const transcriptColumns = [
  "session_id", "seq", "revision", "run_id", "kind", "text", "message_uuid", "parent_tool_use_id", "tool_use_id",
  "tool_name", "input", "result_text", "result", "is_error", "result_revision", "result_at", "approval_id", "decision",
  "decided_by", "decision_message", "data", "created_at"
].join(", ")

const toEntry = (row: ReadonlyArray<unknown>): TranscriptEntry => {
  const [
    session_id, seq, revision, run_id, kind, text, message_uuid, parent_tool_use_id, tool_use_id, tool_name, input,
    result_text, result, is_error, result_revision, result_at, approval_id, decision, decided_by, decision_message,
    data, created_at
  ] = row
  const hasResult = result_at !== null || result !== null || result_text !== null
  return {
    sessionId: session_id as string,
    seq: Number(seq),
    revision: Number(revision),
    runId: run_id as string | null,
    kind: kind as string,
    text: text as string | null,
    messageUuid: message_uuid as string | null,
    parentToolUseId: parent_tool_use_id as string | null,
    toolUseId: tool_use_id as string | null,
    toolName: tool_name as string | null,
    input: parse(input),
    result: hasResult
      ? {
          text: result_text as string | null,
          content: parse(result),
          isError: flag(is_error) ?? false,
          revision: result_revision === null ? null : Number(result_revision),
          at: result_at as string | null
        }
      : null,
    approval:
      approval_id === null
        ? null
        : {
            approvalId: approval_id as string,
            decision: decision as string,
            decidedBy: decided_by as string | null,
            message: decision_message as string | null
          },
    isError: flag(is_error),
    data: parse(data),
    createdAt: created_at as string
  }
}

export const transcriptQueries = (db: DatabaseSync) => {
  const transcript = (sessionId: string, q: TranscriptQuery = {}): ReadonlyArray<TranscriptEntry> => {
    if (q.afterSeq !== undefined && !Number.isInteger(q.afterSeq))
      throw new InvalidQuery({ field: "afterSeq", reason: "must be an integer" })
    const limit = q.limit === undefined ? -1 : limitOf(q.limit)
    // Its own statement (no other query has this text), so returning arrays affects no one else.
    const s = sql(db, `SELECT ${transcriptColumns} FROM transcript WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?`)
    s.setReadBigInts(false)
    s.setReturnArrays(true)
    return (s.all(sessionId, q.afterSeq ?? 0, limit) as unknown as Array<ReadonlyArray<unknown>>).map(toEntry)
  }

  return { transcript }
}
