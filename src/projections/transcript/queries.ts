// The transcript read model's query: a session's entries in seq order.
import type { DatabaseSync } from "node:sqlite"
import { InvalidQuery, limitOf } from "../paging.ts"
import { sql } from "../readDb.ts"
import { highlightColumns, type Phrase, rankWindow, tokensOf } from "./searchRank.ts"
import { expandPrefixes } from "./searchPrefix.ts"
import { snippetOf } from "./searchSnippet.ts"

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

/** A transcript read as the API's JSON text: the entries (a JSON array), how many, the last one's seq. */
export interface TranscriptJson {
  readonly json: string
  readonly count: number
  readonly lastSeq: number | null
}

/**
 * The transcript's columns in the order its query reads them (not the session id: the
 * query names it). The query returns arrays (setReturnArrays): for 22 columns, an object
 * with named keys per row cost a third of a 10,000-event transcript's read.
 */
const transcriptColumns = [
  "seq", "revision", "run_id", "kind", "text", "message_uuid", "parent_tool_use_id", "tool_use_id", "tool_name", "input",
  "result_text", "result", "is_error", "result_revision", "result_at", "approval_id", "decision", "decided_by",
  "decision_message", "data", "created_at"
].join(", ")

const quote = JSON.stringify
const flagJson = (v: unknown): string => (v === null ? "null" : Number(v) !== 0 ? "true" : "false")

/**
 * An entry (a TranscriptEntry, fields in its order) as JSON text, written from the row:
 * the JSON columns (input, result, data) hold JSON.stringify's output (the handler writes
 * them so), so they go in as they are. Parsing them to objects, checking the objects
 * against the answer's schema and stringifying them again took a long transcript's
 * route more than twice its SQL.
 */
const entryJson = (sessionIdJson: string, row: ReadonlyArray<unknown>): string => {
  const [
    seq, revision, run_id, kind, text, message_uuid, parent_tool_use_id, tool_use_id, tool_name, input, result_text,
    result, is_error, result_revision, result_at, approval_id, decision, decided_by, decision_message, data, created_at
  ] = row
  const hasResult = result_at !== null || result !== null || result_text !== null
  const resultJson = hasResult
    ? `{"text":${quote(result_text)},"content":${result ?? "null"},"isError":${is_error === null ? "false" : flagJson(is_error)},` +
      `"revision":${result_revision ?? "null"},"at":${quote(result_at)}}`
    : "null"
  const approvalJson =
    approval_id === null
      ? "null"
      : `{"approvalId":${quote(approval_id)},"decision":${quote(decision)},"decidedBy":${quote(decided_by)},"message":${quote(decision_message)}}`
  return (
    `{"sessionId":${sessionIdJson},"seq":${seq},"revision":${revision},"runId":${quote(run_id)},"kind":${quote(kind)},` +
    `"text":${quote(text)},"messageUuid":${quote(message_uuid)},"parentToolUseId":${quote(parent_tool_use_id)},` +
    `"toolUseId":${quote(tool_use_id)},"toolName":${quote(tool_name)},"input":${input ?? "null"},"result":${resultJson},` +
    `"approval":${approvalJson},"isError":${flagJson(is_error)},"data":${data ?? "null"},"createdAt":${quote(created_at)}}`
  )
}

export const transcriptQueries = (db: DatabaseSync) => {
  /** The entries in seq order as the API's JSON text, the one way the transcript is read. */
  const transcriptJson = (sessionId: string, q: TranscriptQuery = {}): TranscriptJson => {
    if (q.afterSeq !== undefined && !Number.isInteger(q.afterSeq))
      throw new InvalidQuery({ field: "afterSeq", reason: "must be an integer" })
    const limit = q.limit === undefined ? -1 : limitOf(q.limit)
    // Its own statement (no other query has this text), so returning arrays affects no one else.
    const s = sql(db, `SELECT ${transcriptColumns} FROM transcript WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?`)
    s.setReadBigInts(false)
    s.setReturnArrays(true)
    const rows = s.all(sessionId, q.afterSeq ?? 0, limit) as unknown as Array<ReadonlyArray<unknown>>
    const sessionIdJson = quote(sessionId)
    let json = "["
    for (let i = 0; i < rows.length; i++) json += (i === 0 ? "" : ",") + entryJson(sessionIdJson, rows[i]!)
    const last = rows[rows.length - 1]
    return { json: `${json}]`, count: rows.length, lastSeq: last === undefined ? null : (last[0] as number) }
  }

  const transcript = (sessionId: string, q: TranscriptQuery = {}): ReadonlyArray<TranscriptEntry> =>
    JSON.parse(transcriptJson(sessionId, q).json) as ReadonlyArray<TranscriptEntry>

  /**
   * Entries that contain every word of `q` (in their text, tool name, input or result),
   * best match first (bm25, see searchRank.ts) among the newest `searchWindow` entries that
   * match, each with a snippet around what matched. Ranking every match of a common word
   * meant scoring millions of rows (seconds on 5M events); the newest matches are found
   * walking the index backwards by rowid, which stops after the window, and only the page's
   * entries are read.
   */
  const search = (q: SearchQuery): ReadonlyArray<SearchHit> => {
    if (!q.q.split(/\s+/u).some((w) => w.replaceAll("*", "").length > 0))
      throw new InvalidQuery({ field: "q", reason: "has no word to search for" })
    // Words of punctuation only are no token of the index: they match nothing, as FTS5 has it.
    const phrases = expandPrefixes(db, matchPhrases(q.q))
    if (phrases === undefined || phrases.length === 0) return []
    // An explicit AND: FTS5 takes no implicit one next to a parenthesised OR.
    const match = phrases.map((p) => p.expression).join(" AND ")
    const limit = Math.min(limitOf(q.limit ?? 20), maxSearchHits)
    const highlights = highlightColumns
    // Inside one session: only the rowids between its first and last entry can be its; the
    // join with the entries is needed only then. Every rowid bound given to FTS5 is CAST:
    // node:sqlite binds a JS number as a REAL, and FTS5 takes a bound that is not an
    // INTEGER as no bound at all (SQLite re-checks a range, so the rows were right but
    // the whole doclist was walked: 5 ms instead of 0.3 for "the" at 1M events).
    const rows = (
      q.sessionId === undefined
        ? sql(
            db,
            `SELECT w.*, d.sz FROM (
               SELECT rowid AS r, ${highlights} FROM transcript_search WHERE transcript_search MATCH ? ORDER BY rowid DESC LIMIT ${searchWindow}
             ) w LEFT JOIN transcript_search_docsize d ON d.id = w.r`
          ).all(match)
        : (() => {
            // A session's entries are inserted in seq order, so its first and last seq are its
            // lowest and highest rowid: two probes of the key, not a scan of the session.
            const range = sql(
              db,
              `SELECT (SELECT rowid FROM transcript WHERE session_id = ?1 ORDER BY seq LIMIT 1) AS lo,
                      (SELECT rowid FROM transcript WHERE session_id = ?1 ORDER BY seq DESC LIMIT 1) AS hi`
            ).get(q.sessionId) as { lo: number | null; hi: number | null }
            if (range.lo === null || range.hi === null) return []
            return sql(
              db,
              `SELECT w.*, d.sz FROM (
                 SELECT transcript_search.rowid AS r, ${highlights} FROM transcript_search JOIN transcript t ON t.rowid = transcript_search.rowid
                 WHERE transcript_search MATCH ? AND transcript_search.rowid BETWEEN CAST(? AS INTEGER) AND CAST(? AS INTEGER) AND t.session_id = ?
                 ORDER BY transcript_search.rowid DESC LIMIT ${searchWindow}
               ) w LEFT JOIN transcript_search_docsize d ON d.id = w.r`
            ).all(match, range.lo, range.hi, q.sessionId)
          })()
    ) as Array<{ r: number; h0: string | null; h1: string | null; h2: string | null; h3: string | null; sz: Uint8Array | null }>
    if (rows.length === 0) return []
    const window = rows.map((r) => ({ rowid: r.r, highlighted: [r.h0, r.h1, r.h2, r.h3], docsize: r.sz }))
    const ranks = rankWindow(db, phrases, window,
      searchWindow,
      q.sessionId === undefined && phrases.length === 1
    )
    // Best first; among equals, in the order they were recorded (a session's in seq order).
    const page = [...ranks].sort(([ra, a], [rb, b]) => a - b || ra - rb).slice(q.offset ?? 0, (q.offset ?? 0) + limit)
    if (page.length === 0) return []
    // The page's entries in one statement; their snippets from the highlight()s the ranking
    // read (searchSnippet.ts), not from a second MATCH.
    const ids = JSON.stringify(page.map(([rowid]) => rowid))
    const entries = new Map(
      (sql(db, "SELECT rowid AS r, session_id, seq, revision, kind, tool_name, created_at FROM transcript WHERE rowid IN (SELECT value FROM json_each(?))").all(ids) as Array<Record<string, unknown>>).map((r) => [Number(r.r), r])
    )
    const highlighted = new Map(window.map((w) => [w.rowid, w.highlighted]))
    return page.map(([rowid, rank]) => {
      const r = entries.get(rowid)!
      return {
        sessionId: r.session_id as string,
        seq: Number(r.seq),
        revision: Number(r.revision),
        kind: r.kind as string,
        toolName: r.tool_name as string | null,
        createdAt: r.created_at as string,
        snippet: snippetOf(phrases, highlighted.get(rowid)!),
        rank
      }
    })
  }

  return { transcript, transcriptJson, search }
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
/**
 * How many of the newest matching entries a search ranks. Ranking reads and tokenizes every
 * entry of the window (highlight()), which over a 5 GB read.db meant a page read per entry:
 * 1,000 made a search 213 ms (p99, in process) at 5M events, and 200 made it 118 ms.
 */
export const searchWindow = 200

/**
 * A person's words as FTS5 phrases, all of them required: each word, or each run of words
 * in double quotes (`"read file"`: those tokens next to each other), quoted for FTS5, so
 * operators and column filters in the input are only text; a word or a quoted run followed
 * by `*` matches its last token as a prefix. A quote without its pair is only text. A
 * phrase the index keeps no token of (only punctuation) is left out, as FTS5 leaves out an
 * empty phrase.
 */
export const matchPhrases = (q: string): ReadonlyArray<Phrase> =>
  [...q.matchAll(/"([^"]*)"(\*?)|\S+/gu)]
    .map((m) => {
      const quoted = m[1] !== undefined
      const prefix = quoted ? m[2] === "*" : m[0].endsWith("*")
      const bare = quoted ? m[1]! : m[0].replace(/\*+$/u, "")
      return { expression: `"${bare.replaceAll('"', '""')}"${prefix ? " *" : ""}`, tokens: tokensOf(bare), prefix }
    })
    .filter((p) => p.tokens.length > 0)
