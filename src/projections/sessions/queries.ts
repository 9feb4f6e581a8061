// The sessions read model's queries: the list (stable order, see listSessions) and one session.
import type { DatabaseSync } from "node:sqlite"
import { decodeSession, type Session } from "../../domain/sessionState.ts"
import { limitOf, likePattern, many, type OneOrMany, type Page, type Row, Where, newestFirst } from "../paging.ts"
import { sql } from "../readDb.ts"

export interface SessionRow {
  readonly sessionId: string
  readonly status: string
  readonly archived: boolean
  readonly title: string | null
  /** The first query of the session. */
  readonly query: string
  /** Model and cwd of the current run. */
  readonly model: string | null
  readonly cwd: string | null
  /** Options as launched (secrets redacted). */
  readonly options: unknown
  readonly parentSessionId: string | null
  /** A fork from a message: the parent's Claude message it branched from (null: from the parent's end, or no parent). */
  readonly forkedAt: string | null
  readonly claudeSessionId: string | null
  /** The current run, or the last one once it ended. */
  readonly runId: string
  readonly runs: number
  readonly turns: number
  readonly costUsd: number
  readonly inputTokens: number
  readonly outputTokens: number
  readonly cacheReadTokens: number
  readonly cacheCreationTokens: number
  readonly pendingApprovals: number
  readonly lastError: string | null
  readonly createdAt: string
  /** Last activity: the time of the session's newest event. */
  readonly updatedAt: string
  readonly lastRevision: number
  /** Opaque position of the session's newest event. */
  readonly lastPosition: string
}

export interface ListSessionsQuery {
  readonly status?: OneOrMany
  /** undefined: archived and not archived alike. */
  readonly archived?: boolean
  /** Substring of the first query or the title (case-insensitive for ASCII). */
  readonly q?: string
  /** Only sessions nobody forked from their end (a fork from an earlier message leaves it a leaf). */
  readonly leaves?: boolean
  readonly limit?: number
  readonly cursor?: string
}

const quote = JSON.stringify

/**
 * A row as the API's SessionSummary, in JSON text (fields in the schema's order): the
 * options column holds JSON.stringify's output, so it goes in as it is. A page of 50
 * built as objects, checked against the schema and stringified cost more than its SQL.
 */
const sessionJson = (r: Row): string =>
  `{"sessionId":${quote(r.session_id)},"status":${quote(r.status)},"archived":${Number(r.archived) !== 0},` +
  `"title":${quote(r.title)},"query":${quote(r.query)},"model":${quote(r.model)},"cwd":${quote(r.cwd)},` +
  `"options":${r.options ?? "null"},"parentSessionId":${quote(r.parent_session_id)},"forkedAt":${quote(r.forked_at)},` +
  `"claudeSessionId":${quote(r.claude_session_id)},"runId":${quote(r.run_id)},"runs":${Number(r.runs)},` +
  `"turns":${Number(r.turns)},"costUsd":${Number(r.cost_usd)},"inputTokens":${Number(r.input_tokens)},` +
  `"outputTokens":${Number(r.output_tokens)},"cacheReadTokens":${Number(r.cache_read_tokens)},` +
  `"cacheCreationTokens":${Number(r.cache_creation_tokens)},"pendingApprovals":${Number(r.pending_approvals)},` +
  `"lastError":${quote(r.last_error)},"createdAt":${quote(r.created_at)},"updatedAt":${quote(r.updated_at)},` +
  `"lastRevision":${Number(r.last_revision)},"lastPosition":${quote(r.last_position)}}`

/** The same row as an object: its JSON parsed, so one mapping serves both. */
const toSession = (r: Row): SessionRow => JSON.parse(sessionJson(r)) as SessionRow

/** A page of sessions as the API's JSON text: the items (a JSON array) and the next page's cursor. */
export interface SessionsJsonPage {
  readonly json: string
  readonly nextCursor: string | null
}

// The row's columns without `state` (the folded Session, most of a row's bytes): lists and
// reads of a session never show it.
const rowColumns = [
  "session_id", "status", "archived", "title", "query", "model", "cwd", "options", "parent_session_id",
  "claude_session_id", "run_id", "runs", "turns", "cost_usd", "input_tokens", "output_tokens", "cache_read_tokens",
  "cache_creation_tokens", "pending_approvals", "last_error", "created_at", "updated_at", "last_revision", "last_position",
  "forked_at"
].join(", ")

export const sessionQueries = (db: DatabaseSync) => {
  /**
   * Newest session first, by creation (then id): a key that never changes, so a walk
   * through the pages sees every session that existed when it began exactly once, however
   * the sessions change meanwhile (ordering by last activity moved a session that changed
   * between pages ahead of the cursor, and the walk skipped it). Sessions created during
   * the walk sort before its first page and are not in it. With a filter, a session whose
   * status or title changes during the walk is listed as it is when its page is read.
   */
  const listSessionsJson = (q: ListSessionsQuery = {}): SessionsJsonPage => {
    const limit = limitOf(q.limit)
    const w = new Where().in("status", many(q.status))
    if (q.archived !== undefined) w.add("archived = ?", q.archived ? 1 : 0)
    if (q.q !== undefined && q.q.length > 0) {
      const p = likePattern(q.q)
      w.add("(query LIKE ? ESCAPE '\\' OR title LIKE ? ESCAPE '\\')", p, p)
    }
    if (q.leaves === true)
      w.add("NOT EXISTS (SELECT 1 FROM sessions c WHERE c.parent_session_id = sessions.session_id AND c.forked_at IS NULL)")
    const page = newestFirst(db, "sessions", w, ["created_at", "session_id"], q.cursor, limit, sessionJson, rowColumns)
    return { json: `[${page.items.join(",")}]`, nextCursor: page.nextCursor }
  }

  const listSessions = (q: ListSessionsQuery = {}): Page<SessionRow> => {
    const page = listSessionsJson(q)
    return { items: JSON.parse(page.json) as Array<SessionRow>, nextCursor: page.nextCursor }
  }

  const getSession = (sessionId: string): SessionRow | null => {
    const r = sql(db, `SELECT ${rowColumns} FROM sessions WHERE session_id = ?`).get(sessionId) as Row | undefined
    return r === undefined ? null : toSession(r)
  }

  /**
   * The domain's fold of the session's stream up to `revision`, as this read model keeps
   * it (the write side's snapshot: a cold write side folds only what came after). Null
   * when the read model has no row for it yet.
   */
  const sessionSnapshot = (sessionId: string): { readonly state: Session; readonly revision: number } | null => {
    const r = sql(db, "SELECT state, last_revision FROM sessions WHERE session_id = ?").get(sessionId) as
      | { state: string; last_revision: number }
      | undefined
    return r === undefined ? null : { state: decodeSession(r.state), revision: Number(r.last_revision) }
  }

  /** Where sessions ran, most recently used first (by the last activity of the sessions there). */
  const recentDirectories = (limit = 20): ReadonlyArray<{ path: string; lastUsedAt: string; sessions: number }> =>
    (
      sql(
        db,
        `SELECT cwd, max(updated_at) AS last_used_at, count(*) AS sessions FROM sessions
         WHERE cwd IS NOT NULL GROUP BY cwd ORDER BY last_used_at DESC, cwd LIMIT ?`
      ).all(limitOf(limit)) as Array<Row>
    ).map((r) => ({ path: r.cwd as string, lastUsedAt: r.last_used_at as string, sessions: Number(r.sessions) }))

  /** Sessions forked from this one, oldest first. */
  const children = (sessionId: string): ReadonlyArray<{ sessionId: string; forkedAt: string | null; status: string; title: string | null }> =>
    (
      sql(db, "SELECT session_id, forked_at, status, title FROM sessions WHERE parent_session_id = ? ORDER BY created_at, session_id").all(
        sessionId
      ) as Array<Row>
    ).map((r) => ({
      sessionId: r.session_id as string,
      forkedAt: r.forked_at as string | null,
      status: r.status as string,
      title: r.title as string | null
    }))

  return { listSessions, listSessionsJson, getSession, sessionSnapshot, recentDirectories, children }
}
