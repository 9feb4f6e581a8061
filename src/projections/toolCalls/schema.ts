// The toolCalls read model's tables (see handler.ts for what fills them).
export const toolCallsSchema = `
CREATE TABLE tool_calls (
  session_id       TEXT NOT NULL,
  tool_use_id      TEXT NOT NULL,
  run_id           TEXT,
  tool_name        TEXT,
  input            TEXT,                -- JSON
  approval_id      TEXT,
  decision         TEXT,                -- NULL (no approval needed) | pending | allow | deny
  decided_by       TEXT,
  decision_message TEXT,
  decision_reason  TEXT,
  updated_input    TEXT,                -- JSON, when the approver changed the input
  result_text      TEXT,
  result           TEXT,                -- JSON: the tool_result content
  is_error         INTEGER,
  requested_at     TEXT NOT NULL,
  decided_at       TEXT,
  completed_at     TEXT,
  duration_ms      INTEGER,             -- requested_at -> completed_at
  PRIMARY KEY (session_id, tool_use_id)
) STRICT;
CREATE INDEX tool_calls_by_approval ON tool_calls (approval_id);
`

/** Indexes only the queries use: a rebuild makes them once at the end (see Projection.queryIndexes). */
export const toolCallsQueryIndexes = `
CREATE INDEX IF NOT EXISTS tool_calls_by_time ON tool_calls (requested_at DESC, session_id DESC, tool_use_id DESC);
CREATE INDEX IF NOT EXISTS tool_calls_by_tool ON tool_calls (tool_name, requested_at DESC);
CREATE INDEX IF NOT EXISTS tool_calls_by_decider ON tool_calls (decided_by, requested_at DESC, session_id DESC, tool_use_id DESC);
`
