import type { DatabaseSync } from "node:sqlite"

// The transcript read model's tables (see handler.ts for what fills them).
export const transcriptSchema = `
CREATE TABLE transcript (
  session_id         TEXT NOT NULL,
  seq                INTEGER NOT NULL,    -- 1, 2, 3, … per session
  revision           INTEGER NOT NULL,    -- stream revision of the event that added the entry
  run_id             TEXT,
  kind               TEXT NOT NULL,       -- user_text | assistant_text | thinking | tool_call | tool_result
                                          -- | result | system | error | interrupted | abandoned | other
  text               TEXT,
  message_uuid       TEXT,                -- Claude's uuid of the message the entry came from
  parent_tool_use_id TEXT,                -- set inside a sub-agent's conversation
  tool_use_id        TEXT,
  tool_name          TEXT,
  input              TEXT,                -- JSON: the tool input Claude asked for
  result_text        TEXT,                -- tool result as text
  result             TEXT,                -- JSON: tool result content as Claude sent it
  is_error           INTEGER,
  result_revision    INTEGER,
  result_at          TEXT,
  approval_id        TEXT,
  decision           TEXT,                -- pending | allow | deny (tool calls that needed approval)
  decided_by         TEXT,
  decision_message   TEXT,
  data               TEXT,                -- JSON: details of the kind (result figures, system message, …)
  created_at         TEXT NOT NULL,
  PRIMARY KEY (session_id, seq)
) STRICT;
CREATE INDEX transcript_by_tool_use ON transcript (session_id, tool_use_id);
CREATE TABLE transcript_approvals (
  approval_id TEXT PRIMARY KEY,
  session_id  TEXT NOT NULL,
  tool_use_id TEXT NOT NULL,
  decision    TEXT NOT NULL,
  decided_by  TEXT,
  message     TEXT
) STRICT;
CREATE INDEX transcript_approvals_by_tool_use ON transcript_approvals (session_id, tool_use_id);
-- Full-text search over what was said and done: the entry's text, the tool's name, its
-- input and its result. An external-content index of the transcript rows (by rowid, which
-- nothing renumbers: read.db is rebuilt, never vacuumed), kept in step by the triggers
-- transcriptSearchIndex makes, so the handler writes each entry once.
CREATE VIRTUAL TABLE transcript_search USING fts5(
  text, tool_name, input, result_text,
  content = 'transcript', content_rowid = 'rowid', tokenize = 'unicode61 remove_diacritics 2'
);
`

const triggers = `
CREATE TRIGGER transcript_search_insert AFTER INSERT ON transcript BEGIN
  INSERT INTO transcript_search (rowid, text, tool_name, input, result_text)
  VALUES (new.rowid, new.text, new.tool_name, new.input, new.result_text);
END;
CREATE TRIGGER transcript_search_delete AFTER DELETE ON transcript BEGIN
  INSERT INTO transcript_search (transcript_search, rowid, text, tool_name, input, result_text)
  VALUES ('delete', old.rowid, old.text, old.tool_name, old.input, old.result_text);
END;
CREATE TRIGGER transcript_search_update AFTER UPDATE OF text, tool_name, input, result_text ON transcript BEGIN
  INSERT INTO transcript_search (transcript_search, rowid, text, tool_name, input, result_text)
  VALUES ('delete', old.rowid, old.text, old.tool_name, old.input, old.result_text);
  INSERT INTO transcript_search (rowid, text, tool_name, input, result_text)
  VALUES (new.rowid, new.text, new.tool_name, new.input, new.result_text);
END;
`

/**
 * The search index's triggers. Only the queries need them, so a rebuild from zero fills
 * the transcript without them and then fills the index with one FTS5 'rebuild' (a bulk
 * build, about ten times cheaper than an index insert per row, and a delete plus an
 * insert per merged tool result). The triggers' absence is what says the index is behind
 * its rows: a rebuild interrupted before its end leaves them missing, and the next
 * prepare of the projections makes the index whole before anything else is applied.
 */
export const transcriptSearchIndex = (db: DatabaseSync): void => {
  if (db.prepare("SELECT 1 AS x FROM sqlite_schema WHERE type = 'trigger' AND name = 'transcript_search_insert'").get() !== undefined) return
  db.exec("INSERT INTO transcript_search (transcript_search) VALUES ('rebuild')")
  db.exec(triggers)
}
