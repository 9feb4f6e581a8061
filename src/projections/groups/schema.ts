// The attempt groups read model's tables (see handler.ts).
export const groupsSchema = `
CREATE TABLE attempt_groups (
  group_id   TEXT PRIMARY KEY,
  attempts   INTEGER NOT NULL,     -- how many the launch asked for
  query      TEXT NOT NULL,
  created_at TEXT NOT NULL
) STRICT;
CREATE TABLE attempt_group_sessions (
  session_id TEXT PRIMARY KEY,
  group_id   TEXT NOT NULL,
  attempt    INTEGER NOT NULL,
  result     TEXT                  -- Claude's last result text
) STRICT;
`

/** Indexes only the queries use: a rebuild makes them once at the end (see Projection.queryIndexes). */
export const groupsQueryIndexes = `
CREATE INDEX IF NOT EXISTS attempt_group_sessions_by_group ON attempt_group_sessions (group_id, attempt);
`
