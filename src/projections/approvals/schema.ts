// The approvals read model's tables (see handler.ts for what fills them).
export const approvalsSchema = `
CREATE TABLE approvals (
  approval_id   TEXT PRIMARY KEY,
  session_id    TEXT NOT NULL,
  run_id        TEXT,
  tool_use_id   TEXT,
  tool_name     TEXT,
  input         TEXT,                  -- JSON
  suggestions   TEXT,                  -- JSON
  status        TEXT NOT NULL,         -- pending | allowed | denied
  decided_by    TEXT,
  message       TEXT,
  reason        TEXT,                  -- why the system decided: timeout, interrupted, abandoned, run_ended
  updated_input TEXT,                  -- JSON
  requested_at  TEXT NOT NULL,
  decided_at    TEXT,
  expires_at    TEXT,
  stream        TEXT,                  -- where the record is: the session's stream,
  requested_revision INTEGER,          -- ApprovalRequested's revision in it,
  decided_revision   INTEGER           -- and ApprovalDecided's
) STRICT;
`

/** Indexes only the queries use: a rebuild makes them once at the end (see Projection.queryIndexes). */
export const approvalsQueryIndexes = `
CREATE INDEX IF NOT EXISTS approvals_by_time ON approvals (requested_at DESC, approval_id DESC);
CREATE INDEX IF NOT EXISTS approvals_by_status ON approvals (status, requested_at DESC, approval_id DESC);
CREATE INDEX IF NOT EXISTS approvals_by_session ON approvals (session_id, requested_at DESC, approval_id DESC);
CREATE INDEX IF NOT EXISTS approvals_by_decider ON approvals (decided_by, requested_at DESC, approval_id DESC);
`
