// The events index's query: the audit over every session stream, paged by position.
import type { DatabaseSync } from "node:sqlite"
import type { Position } from "../../eventstore/eventStore.ts"
import { decodePosition, encodePosition } from "../../eventstore/position.ts"
import { allRows, InvalidQuery, limitOf, many, type OneOrMany, type Page, type Row, timeOf, Where } from "../paging.ts"

export interface EventIndexRow {
  /** Opaque position (encodePosition); also the cursor form. */
  readonly position: string
  readonly stream: string
  readonly sessionId: string | null
  readonly revision: number
  readonly eventId: string
  readonly type: string
  readonly runId: string | null
  readonly source: string | null
  readonly actor: string | null
  readonly correlationId: string | null
  readonly causationId: string | null
  readonly recordedAt: string
  readonly createdAt: string | null
}

export interface EventsQuery {
  readonly type?: OneOrMany
  readonly session?: string
  /** Who appended it: a principal's name, "supervisor" or "claude". */
  readonly actor?: string
  /** recordedAt >= after (ISO 8601). */
  readonly after?: string
  /** recordedAt < before (ISO 8601). */
  readonly before?: string
  /** asc (default): oldest first, the store's order; desc: newest first. */
  readonly order?: "asc" | "desc"
  readonly limit?: number
  readonly cursor?: string
}

const positionText = (r: Row): string =>
  encodePosition({ commit: BigInt(r.commit_position as bigint), prepare: BigInt(r.prepare_position as bigint) })

const toEventRow = (r: Row): EventIndexRow => ({
  position: positionText(r),
  stream: r.stream as string,
  sessionId: r.session_id as string | null,
  revision: Number(r.revision),
  eventId: r.event_id as string,
  type: r.type as string,
  runId: r.run_id as string | null,
  source: r.source as string | null,
  actor: r.actor as string | null,
  correlationId: r.correlation_id as string | null,
  causationId: r.causation_id as string | null,
  recordedAt: r.recorded_at as string,
  createdAt: r.created_at as string | null
})

export const eventsIndexQueries = (db: DatabaseSync) => {
  const events = (q: EventsQuery = {}): Page<EventIndexRow> => {
    const limit = limitOf(q.limit)
    const desc = q.order === "desc"
    const w = new Where().in("type", many(q.type))
    if (q.session !== undefined) w.add("session_id = ?", q.session)
    if (q.actor !== undefined) w.add("actor = ?", q.actor)
    const afterT = timeOf("after", q.after)
    const beforeT = timeOf("before", q.before)
    if (afterT !== null) w.add("recorded_at >= ?", afterT)
    if (beforeT !== null) w.add("recorded_at < ?", beforeT)
    if (q.cursor !== undefined) {
      const p: Position | null = decodePosition(q.cursor)
      if (p === null) throw new InvalidQuery({ field: "cursor", reason: "not a cursor this list issued" })
      const op = desc ? "<" : ">"
      w.add(
        `(commit_position ${op} ? OR (commit_position = ? AND prepare_position ${op} ?))`,
        p.commit,
        p.commit,
        p.prepare
      )
    }
    const dir = desc ? "DESC" : "ASC"
    const rows = allRows(
      db,
      `SELECT * FROM events_index ${w.sql} ORDER BY commit_position ${dir}, prepare_position ${dir} LIMIT ?`,
      [...w.params, limit + 1],
      true
    )
    const more = rows.length > limit
    const kept = more ? rows.slice(0, limit) : rows
    return { items: kept.map(toEventRow), nextCursor: more ? positionText(kept[kept.length - 1]!) : null }
  }

  return { events }
}
