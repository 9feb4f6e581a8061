// The files-touched read model's table (see handler.ts).
export const filesSchema = `
CREATE TABLE file_touches (
  session_id      TEXT NOT NULL,
  tool_use_id     TEXT NOT NULL,
  path            TEXT NOT NULL,       -- file_path (notebook_path) as Claude gave it
  tool_name       TEXT NOT NULL,
  action          TEXT NOT NULL,       -- read | edit | write
  run_id          TEXT,
  revision        INTEGER NOT NULL,    -- the tool call's event
  at              TEXT NOT NULL,
  content         TEXT,                -- read: what Claude was given; write: what it wrote
  diff            TEXT,                -- JSON: unified-diff hunks (edit, write)
  is_error        INTEGER,             -- NULL until the result is in
  error           TEXT,
  result_revision INTEGER,
  PRIMARY KEY (session_id, tool_use_id)
) STRICT;
`

/** Indexes only the queries use: a rebuild makes them once at the end (see Projection.queryIndexes). */
export const filesQueryIndexes = `
CREATE INDEX IF NOT EXISTS file_touches_by_path ON file_touches (session_id, path, revision);
`
