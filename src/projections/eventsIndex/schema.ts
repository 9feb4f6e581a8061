// The eventsIndex read model's tables (see handler.ts for what fills them).
export const eventsIndexSchema = `
CREATE TABLE events_index (
  commit_position  INTEGER NOT NULL,
  prepare_position INTEGER NOT NULL,
  stream           TEXT NOT NULL,
  session_id       TEXT,
  revision         INTEGER NOT NULL,
  event_id         TEXT NOT NULL,
  type             TEXT NOT NULL,
  run_id           TEXT,
  source           TEXT,
  actor            TEXT,                 -- metadata.actor (who), else the source
  correlation_id   TEXT,
  causation_id     TEXT,
  recorded_at      TEXT NOT NULL,        -- metadata.recordedAt, else the store's time
  created_at       TEXT,                 -- the store's time
  PRIMARY KEY (commit_position, prepare_position)
) STRICT;
`

/** Indexes only the queries use: a rebuild makes them once at the end (see Projection.queryIndexes). */
export const eventsIndexQueryIndexes = `
CREATE INDEX IF NOT EXISTS events_index_by_type ON events_index (type, commit_position, prepare_position);
CREATE INDEX IF NOT EXISTS events_index_by_session ON events_index (session_id, commit_position, prepare_position);
CREATE INDEX IF NOT EXISTS events_index_by_time ON events_index (recorded_at);
CREATE INDEX IF NOT EXISTS events_index_by_actor ON events_index (actor, commit_position, prepare_position);
`
