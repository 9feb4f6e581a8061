// `sessions`: one row per session, the list and its totals. Status mirrors the domain's
// evolve (src/domain/sessionState.ts); cost and tokens are summed from ClaudeResult only
// (RunCompleted repeats the same figures and is not counted again).
import type { DatabaseSync } from "node:sqlite"
import type { Projection } from "./projection.ts"
import { json, num, obj, str, type JsonObject, type ProjectedEvent } from "./projectedEvent.ts"
import { sql } from "./readDb.ts"

const schema = `
CREATE TABLE sessions (
  session_id            TEXT PRIMARY KEY,
  status                TEXT NOT NULL,
  archived              INTEGER NOT NULL DEFAULT 0,
  title                 TEXT,
  query                 TEXT NOT NULL,       -- the first query
  model                 TEXT,                -- of the current run
  cwd                   TEXT,                -- of the current run
  options               TEXT NOT NULL,       -- JSON, as launched (secrets redacted)
  parent_session_id     TEXT,
  claude_session_id     TEXT,
  run_id                TEXT NOT NULL,       -- the current (or last) run
  runs                  INTEGER NOT NULL DEFAULT 1,
  turns                 INTEGER NOT NULL DEFAULT 0,
  cost_usd              REAL NOT NULL DEFAULT 0,
  input_tokens          INTEGER NOT NULL DEFAULT 0,
  output_tokens         INTEGER NOT NULL DEFAULT 0,
  cache_read_tokens     INTEGER NOT NULL DEFAULT 0,
  cache_creation_tokens INTEGER NOT NULL DEFAULT 0,
  pending_approvals     INTEGER NOT NULL DEFAULT 0,
  last_error            TEXT,
  created_at            TEXT NOT NULL,
  updated_at            TEXT NOT NULL,       -- last activity
  last_revision         INTEGER NOT NULL,
  last_position         TEXT NOT NULL        -- opaque cursor of the last event
) STRICT;
CREATE INDEX sessions_by_activity ON sessions (updated_at DESC, session_id DESC);
CREATE INDEX sessions_by_status ON sessions (status, updated_at DESC, session_id DESC);
CREATE INDEX sessions_by_parent ON sessions (parent_session_id);
`

const launched = (db: DatabaseSync, e: ProjectedEvent, sessionId: string) => {
  const d = e.data
  const options = obj(d.options)
  sql(
    db,
    `INSERT INTO sessions (session_id, status, title, query, model, cwd, options, parent_session_id,
       claude_session_id, run_id, created_at, updated_at, last_revision, last_position)
     VALUES (?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (session_id) DO NOTHING`
  ).run(
    sessionId,
    str(options.title),
    str(d.query) ?? "",
    str(options.model),
    str(options.cwd),
    json(options) ?? "{}",
    e.type === "SessionForked" ? str(d.parentSessionId) : null,
    e.type === "SessionForked" ? str(d.parentClaudeSessionId) : null,
    str(d.runId) ?? "",
    e.at,
    e.at,
    e.revision,
    e.positionText
  )
}

const update = (db: DatabaseSync, sessionId: string, assignments: string, ...params: Array<string | number | null>) =>
  sql(db, `UPDATE sessions SET ${assignments} WHERE session_id = ?`).run(...params, sessionId)

/** Options of a continued run: the launch options with the run's overrides on top (mergeOptions). */
const continued = (db: DatabaseSync, e: ProjectedEvent, sessionId: string) => {
  const row = sql(db, "SELECT options FROM sessions WHERE session_id = ?").get(sessionId) as { options: string } | undefined
  if (row === undefined) return
  let base: JsonObject = {}
  try {
    base = obj(JSON.parse(row.options))
  } catch {
    base = {}
  }
  const merged = { ...base, ...obj(e.data.overrides) }
  update(
    db,
    sessionId,
    "status = 'queued', run_id = ?, runs = runs + 1, pending_approvals = 0, model = ?, cwd = ?",
    str(e.data.runId) ?? "",
    str(merged.model),
    str(merged.cwd)
  )
}

const ended = (db: DatabaseSync, sessionId: string, status: string, error: string | null = null) =>
  error === null
    ? update(db, sessionId, "status = ?, pending_approvals = 0", status)
    : update(db, sessionId, "status = ?, pending_approvals = 0, last_error = ?", status, error)

const apply = (db: DatabaseSync, e: ProjectedEvent): void => {
  const sessionId = e.sessionId
  if (sessionId === null) return
  const d = e.data
  switch (e.type) {
    case "SessionLaunched":
    case "SessionForked":
      launched(db, e, sessionId)
      break
    case "RunStarted":
      update(db, sessionId, "status = 'running'")
      break
    case "ClaudeSessionBound":
      if (str(d.claudeSessionId) !== null) update(db, sessionId, "claude_session_id = ?", str(d.claudeSessionId))
      break
    case "ClaudeResult": {
      const usage = obj(d.usage)
      update(
        db,
        sessionId,
        `cost_usd = cost_usd + ?, turns = turns + ?, input_tokens = input_tokens + ?, output_tokens = output_tokens + ?,
         cache_read_tokens = cache_read_tokens + ?, cache_creation_tokens = cache_creation_tokens + ?`,
        num(d.runCostUsd),
        Math.trunc(num(d.numTurns)),
        Math.trunc(num(usage.input_tokens)),
        Math.trunc(num(usage.output_tokens)),
        Math.trunc(num(usage.cache_read_input_tokens)),
        Math.trunc(num(usage.cache_creation_input_tokens))
      )
      break
    }
    case "ApprovalRequested":
      if (str(d.approvalId) === null) break
      update(db, sessionId, "status = 'waiting_approval', pending_approvals = pending_approvals + 1")
      break
    case "ApprovalDecided":
      if (str(d.approvalId) === null) break
      update(
        db,
        sessionId,
        `pending_approvals = max(0, pending_approvals - 1),
         status = CASE WHEN status = 'waiting_approval' AND pending_approvals <= 1 THEN 'running' ELSE status END`
      )
      break
    case "ContinueRequested":
      continued(db, e, sessionId)
      break
    case "RunCompleted":
      ended(db, sessionId, "completed")
      break
    case "RunFailed":
      ended(db, sessionId, "failed", str(d.error) ?? "")
      break
    case "RunInterrupted":
      ended(db, sessionId, "interrupted")
      break
    case "RunAbandoned":
      ended(db, sessionId, "abandoned")
      break
    case "SessionArchived":
      update(db, sessionId, "archived = 1")
      break
    case "SessionUnarchived":
      update(db, sessionId, "archived = 0")
      break
    case "SessionRenamed":
      if (str(d.title) !== null) update(db, sessionId, "title = ?", str(d.title))
      break
  }
  // Every event of the session is activity.
  update(
    db,
    sessionId,
    "updated_at = max(updated_at, ?), last_revision = ?, last_position = ?",
    e.at,
    e.revision,
    e.positionText
  )
}

export const sessionsProjection: Projection = {
  name: "sessions",
  version: 1,
  tables: ["sessions"],
  schema,
  apply
}
