// The files a session touched, and one file's history.
import type { DatabaseSync } from "node:sqlite"
import type { DiffHunk } from "../../workspaces/diff.ts"
import { sql } from "../readDb.ts"

export interface FileTouchedRow {
  readonly path: string
  readonly reads: number
  readonly edits: number
  readonly writes: number
  readonly lastAction: string
  readonly lastAt: string
  readonly lastRevision: number
}

export interface FileHistoryRow {
  readonly revision: number
  readonly resultRevision: number | null
  readonly runId: string | null
  readonly toolUseId: string
  readonly toolName: string
  readonly action: string
  readonly at: string
  readonly isError: boolean | null
  readonly content: string | null
  readonly diff: ReadonlyArray<DiffHunk> | null
  readonly error: string | null
}

export const fileQueries = (db: DatabaseSync) => ({
  filesTouched: (sessionId: string): ReadonlyArray<FileTouchedRow> =>
    (
      sql(
        db,
        `SELECT path, sum(action = 'read') AS reads, sum(action = 'edit') AS edits, sum(action = 'write') AS writes,
           max(revision) AS last_revision
         FROM file_touches WHERE session_id = ? GROUP BY path ORDER BY path`
      ).all(sessionId) as unknown as ReadonlyArray<{ path: string; reads: number; edits: number; writes: number; last_revision: number }>
    ).map((r) => {
      const last = sql(db, "SELECT action, at FROM file_touches WHERE session_id = ? AND path = ? ORDER BY revision DESC, rowid DESC LIMIT 1").get(
        sessionId,
        r.path
      ) as unknown as { action: string; at: string }
      return { path: r.path, reads: r.reads, edits: r.edits, writes: r.writes, lastAction: last.action, lastAt: last.at, lastRevision: r.last_revision }
    }),
  fileHistory: (sessionId: string, path: string): ReadonlyArray<FileHistoryRow> =>
    (
      sql(db, "SELECT * FROM file_touches WHERE session_id = ? AND path = ? ORDER BY revision, rowid").all(sessionId, path) as ReadonlyArray<
        Record<string, unknown>
      >
    ).map((r) => ({
      revision: r.revision as number,
      resultRevision: r.result_revision as number | null,
      runId: r.run_id as string | null,
      toolUseId: r.tool_use_id as string,
      toolName: r.tool_name as string,
      action: r.action as string,
      at: r.at as string,
      isError: r.is_error === null ? null : Number(r.is_error) !== 0,
      content: r.content as string | null,
      diff: r.diff === null ? null : (JSON.parse(r.diff as string) as ReadonlyArray<DiffHunk>),
      error: r.error as string | null
    }))
})
