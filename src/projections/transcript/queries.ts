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

  /**
   * Entries that contain every word of `q` (in their text, tool name, input or result),
   * best match first (bm25) among the newest `searchWindow` entries that match, each with a
   * snippet around what matched. Ranking every match of a common word meant scoring
   * millions of rows (seconds on 5M events); the newest matches are found walking the
   * index backwards by rowid, which stops after the window.
   */
  const search = (q: SearchQuery): ReadonlyArray<SearchHit> => {
    const match = matchExpression(q.q)
    if (match === null) throw new InvalidQuery({ field: "q", reason: "has no word to search for" })
    const limit = Math.min(limitOf(q.limit ?? 20), maxSearchHits)
    const scoped = q.sessionId !== undefined
    // Inside one session: only the rowids between its first and last entry can be its.
    const range = scoped
      ? (sql(db, "SELECT min(rowid) AS lo, max(rowid) AS hi FROM transcript WHERE session_id = ?").get(q.sessionId) as { lo: number | null; hi: number | null })
      : { lo: 0, hi: Number.MAX_SAFE_INTEGER }
    if (range.lo === null || range.hi === null) return []
    const session = scoped ? "AND t.session_id = ?" : ""
    const sessionArg = scoped ? [q.sessionId!] : []
    const floor = (
      sql(
        db,
        `SELECT min(r) AS floor FROM (
           SELECT transcript_search.rowid AS r FROM transcript_search JOIN transcript t ON t.rowid = transcript_search.rowid
           WHERE transcript_search MATCH ? AND transcript_search.rowid BETWEEN ? AND ? ${session}
           ORDER BY transcript_search.rowid DESC LIMIT ${searchWindow})`
      ).get(match, range.lo, range.hi, ...sessionArg) as { floor: number | null }
    ).floor
    if (floor === null) return []
    const rows = sql(
      db,
      `SELECT t.session_id, t.seq, t.revision, t.kind, t.tool_name, t.created_at,
         snippet(transcript_search, -1, '[', ']', '…', 12) AS snippet, bm25(transcript_search) AS rank
       FROM transcript_search JOIN transcript t ON t.rowid = transcript_search.rowid
       WHERE transcript_search MATCH ? AND transcript_search.rowid BETWEEN ? AND ? ${session}
       ORDER BY rank, t.session_id, t.seq LIMIT ? OFFSET ?`
    ).all(match, floor, range.hi, ...sessionArg, limit, q.offset ?? 0) as Array<Record<string, unknown>>
    return rows.map((r) => ({
      sessionId: r.session_id as string,
      seq: Number(r.seq),
      revision: Number(r.revision),
      kind: r.kind as string,
      toolName: r.tool_name as string | null,
      createdAt: r.created_at as string,
      snippet: r.snippet as string,
      rank: Number(r.rank)
    }))
  }

  return { transcript, search }
}

export interface SearchQuery {
  readonly q: string
  readonly sessionId?: string
  readonly limit?: number
  readonly offset?: number
}

export interface SearchHit {
  readonly sessionId: string
  readonly seq: number
  /** The stream revision of the event the entry came from. */
  readonly revision: number
  readonly kind: string
  readonly toolName: string | null
  readonly createdAt: string
  /** The matching text with what matched in [brackets]. */
  readonly snippet: string
  /** bm25: lower is a better match. */
  readonly rank: number
}

const maxSearchHits = 100
/** How many of the newest matching entries a search ranks. */
export const searchWindow = 1000

/**
 * A person's words as an FTS5 query: each word a quoted phrase (so quotes, operators and
 * column filters in the input are only text), all of them required; a word ending in `*`
 * matches as a prefix. null when there is no word.
 */
export const matchExpression = (q: string): string | null => {
  const words = q.split(/\s+/u).filter((w) => w.replaceAll("*", "").length > 0)
  if (words.length === 0) return null
  return words
    .map((w) => {
      const prefix = w.endsWith("*")
      const bare = w.replace(/\*+$/u, "")
      return `"${bare.replaceAll('"', '""')}"${prefix ? " *" : ""}`
    })
    .join(" ")
}
