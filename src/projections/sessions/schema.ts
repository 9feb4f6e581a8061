// The `sessions` table: one row per session, the list and its totals. Every column but
// the times and positions is worked out from the domain's Session state (see handler.ts),
// which the row also keeps, as JSON, to evolve with the next event.
export const sessionsTable = "sessions"

export const sessionsSchema = `
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
  forked_at             TEXT,                -- a fork from a message: the parent's message (NULL: from its end)
  claude_session_id     TEXT,
  run_id                TEXT NOT NULL,       -- the current (or last) run
  runs                  INTEGER NOT NULL,
  turns                 INTEGER NOT NULL,
  cost_usd              REAL NOT NULL,
  input_tokens          INTEGER NOT NULL,
  output_tokens         INTEGER NOT NULL,
  cache_read_tokens     INTEGER NOT NULL,
  cache_creation_tokens INTEGER NOT NULL,
  pending_approvals     INTEGER NOT NULL,
  last_error            TEXT,
  created_at            TEXT NOT NULL,       -- the first event's time; the list's order
  updated_at            TEXT NOT NULL,       -- last activity
  last_revision         INTEGER NOT NULL,
  last_position         TEXT NOT NULL,       -- opaque cursor of the last event
  state                 TEXT NOT NULL        -- JSON: the domain's Session (encodeSession)
) STRICT;
`

/** Indexes only the queries use: a rebuild makes them once at the end (see Projection.queryIndexes). */
export const sessionsQueryIndexes = `
CREATE INDEX IF NOT EXISTS sessions_by_creation ON sessions (created_at DESC, session_id DESC);
CREATE INDEX IF NOT EXISTS sessions_by_status ON sessions (status, created_at DESC, session_id DESC);
CREATE INDEX IF NOT EXISTS sessions_by_parent ON sessions (parent_session_id);
`
