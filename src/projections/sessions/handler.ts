// The sessions read model's handler. Status, counters and totals come from the domain's
// evolve, the one state machine: the row keeps the folded Session (as JSON) and each
// event moves it on. The state before an event is the one this handler wrote for the
// previous revision when it still has it in memory (the common case: a rebuild or a live
// follow reads it back never), else the row's. A remembered state counts only for the
// revision right before the event, so a rolled-back batch or another writer of read.db
// can never leave it used out of turn: the row, written in the same transaction as the
// checkpoint, is the fallback that is always right.
import type { DatabaseSync } from "node:sqlite"
import { decodeSession, encodeSession, evolve, inertEventTypes, type Session } from "../../domain/sessionState.ts"
import type { Projection } from "../projection.ts"
import type { ProjectedEvent } from "../projectedEvent.ts"
import { sql } from "../readDb.ts"
import { sessionsQueryIndexes, sessionsSchema, sessionsTable } from "./schema.ts"

/** Sessions whose latest state is kept in memory, per read.db connection. */
const rememberedLimit = 10_000
interface Remembered {
  state: Session
  revision: number
}
const remembered = new WeakMap<DatabaseSync, Map<string, Remembered>>()
// The connection of the last call and its map: one WeakMap lookup per batch, not per event.
let lastDb: DatabaseSync | undefined
let lastMemory = new Map<string, Remembered>()

const memoryOf = (db: DatabaseSync): Map<string, Remembered> => {
  if (db === lastDb) return lastMemory
  let m = remembered.get(db)
  if (m === undefined) {
    m = new Map()
    remembered.set(db, m)
  }
  lastDb = db
  lastMemory = m
  return m
}

const stateBefore = (db: DatabaseSync, sessionId: string, revision: number): Session | null => {
  const r = memoryOf(db).get(sessionId)
  if (r !== undefined && r.revision === revision - 1) return r.state
  settle(db, sessionId)
  const row = sql(db, "SELECT state FROM sessions WHERE session_id = ?").get(sessionId) as { state: string } | undefined
  return row === undefined ? null : decodeSession(row.state)
}

const remember = (db: DatabaseSync, sessionId: string, state: Session, revision: number): void => {
  const m = memoryOf(db)
  m.delete(sessionId)
  m.set(sessionId, { state, revision })
  if (m.size > rememberedLimit) m.delete(m.keys().next().value!)
}

/**
 * Every event of the session is activity, and most events are Claude's messages, which
 * only touch the row; a state change rewrites it whole (the fold's JSON with it). Both are
 * held per connection and written once per session: when the session's row is next read,
 * or at the end of the batch (flush). (Written per change, the rows and their JSON were a
 * tenth of a rebuild's worker thread.)
 */
interface Held {
  /** The latest time seen: updated_at. */
  at: string
  /** The time of the first state held: created_at, when its write makes the row. */
  createdAt: string
  revision: number
  position: string
  /** The state to write; undefined: activity only. */
  state: Session | undefined
}
const heldWrites = new WeakMap<DatabaseSync, Map<string, Held>>()
const heldOf = (db: DatabaseSync): Map<string, Held> => {
  let m = heldWrites.get(db)
  if (m === undefined) heldWrites.set(db, (m = new Map()))
  return m
}

const write = (db: DatabaseSync, sessionId: string, s: Session, h: Held): void => {
  const t = s.totals
  sql(
    db,
    `INSERT INTO sessions (session_id, status, archived, title, query, model, cwd, options, parent_session_id, forked_at,
       claude_session_id, run_id, runs, turns, cost_usd, input_tokens, output_tokens, cache_read_tokens,
       cache_creation_tokens, pending_approvals, last_error, created_at, updated_at, last_revision, last_position, state)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (session_id) DO UPDATE SET
       status = excluded.status, archived = excluded.archived, title = excluded.title, query = excluded.query,
       model = excluded.model, cwd = excluded.cwd, options = excluded.options,
       parent_session_id = excluded.parent_session_id, forked_at = excluded.forked_at, claude_session_id = excluded.claude_session_id,
       run_id = excluded.run_id, runs = excluded.runs, turns = excluded.turns, cost_usd = excluded.cost_usd,
       input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens,
       cache_read_tokens = excluded.cache_read_tokens, cache_creation_tokens = excluded.cache_creation_tokens,
       pending_approvals = excluded.pending_approvals, last_error = excluded.last_error,
       updated_at = max(updated_at, excluded.updated_at), last_revision = excluded.last_revision,
       last_position = excluded.last_position, state = excluded.state`
  ).run(
    sessionId,
    s.status,
    s.archived ? 1 : 0,
    s.title ?? null,
    s.query,
    s.runOptions.model ?? null,
    s.runOptions.cwd ?? null,
    JSON.stringify(s.options),
    s.parentSessionId ?? null,
    s.forkedAt ?? null,
    s.claudeSessionId ?? null,
    s.runId,
    s.runs,
    t.turns,
    t.costUsd,
    t.tokens.input,
    t.tokens.output,
    t.tokens.cacheRead,
    t.tokens.cacheCreation,
    s.pending.size,
    s.lastError ?? null,
    h.createdAt,
    h.at,
    h.revision,
    h.position,
    encodeSession(s)
  )
}

const writeHeld = (db: DatabaseSync, sessionId: string, h: Held): void => {
  if (h.state !== undefined) write(db, sessionId, h.state, h)
  else
    sql(
      db,
      "UPDATE sessions SET updated_at = max(updated_at, ?), last_revision = ?, last_position = ? WHERE session_id = ?"
    ).run(h.at, h.revision, h.position, sessionId)
}

/** Writes what is held for the session, before its row is read or a first state is held. */
const settle = (db: DatabaseSync, sessionId: string): void => {
  const held = heldOf(db)
  const h = held.get(sessionId)
  if (h === undefined) return
  held.delete(sessionId)
  writeHeld(db, sessionId, h)
}

/** Holds the event as activity, and `state` when it changed the session. */
const hold = (db: DatabaseSync, e: ProjectedEvent, sessionId: string, state: Session | undefined): void => {
  const held = heldOf(db)
  let h = held.get(sessionId)
  // Activity held before the row's first write is written as it would have been (to a row
  // that may not exist yet), so that the write's created_at is its own event's.
  if (h !== undefined && h.state === undefined && state !== undefined) {
    settle(db, sessionId)
    h = undefined
  }
  if (h === undefined) {
    held.set(sessionId, { at: e.at, createdAt: e.at, revision: e.revision, position: e.positionText, state })
    return
  }
  // max() as the UPDATE has it: the later of the times, the last event's revision and position.
  if (e.at > h.at) h.at = e.at
  h.revision = e.revision
  h.position = e.positionText
  if (state !== undefined) h.state = state
}

const flush = (db: DatabaseSync): void => {
  const held = heldOf(db)
  for (const [sessionId, h] of held) writeHeld(db, sessionId, h)
  held.clear()
}

const apply = (db: DatabaseSync, e: ProjectedEvent): void => {
  const sessionId = e.sessionId
  if (sessionId === null) return
  if (inertEventTypes.has(e.type)) {
    // Activity only: neither read nor decoded (most events, and most of the bytes).
    hold(db, e, sessionId, undefined)
    // Still the state after this revision (the least recently used order can wait for a change).
    const r = memoryOf(db).get(sessionId)
    if (r !== undefined && r.revision === e.revision - 1) r.revision = e.revision
    return
  }
  const d = e.decoded
  // Recorded in projection_errors by the runner; the session's row stays as it was.
  if (d._tag === "Undecodable") throw new Error(`stored ${d.type} cannot be read: ${d.issue}`)
  const before = stateBefore(db, sessionId, e.revision)
  // A type from a newer agentlog moves nothing, as in the write side's fold.
  const after = d._tag === "Decoded" ? evolve(before, d.event) : before
  if (after === null) return
  hold(db, e, sessionId, after === before ? undefined : after)
  remember(db, sessionId, after, e.revision)
}

export const sessionsProjection: Projection = {
  name: "sessions",
  // 2: the row is the domain's fold (was a copy of the state machine in SQL). 3: forked_at.
  version: 3,
  tables: [sessionsTable],
  schema: sessionsSchema,
  queryIndexes: (db) => db.exec(sessionsQueryIndexes),
  apply,
  flush,
  discard: (db) => heldOf(db).clear()
}
