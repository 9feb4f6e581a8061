// A read.db for the search tests: the real schema (and its search index), with transcript
// entries written straight into it, each session's numbered 1, 2, 3, … in the order given.
import type { DatabaseSync } from "node:sqlite"
import { allProjections } from "../../src/projections/allProjections.ts"
import { prepareProjections } from "../../src/projections/projectionRunner.ts"
import { openReadDb, tempDir } from "./projectionsFixtures.ts"

export interface SearchEntry {
  readonly session?: string
  readonly text: string | null
  readonly tool?: string
  readonly input?: string
  readonly result?: string
}

export const openSearchDb = (): { readonly db: DatabaseSync; readonly close: () => void } => {
  const tmp = tempDir()
  const db = openReadDb(tmp.dir)
  prepareProjections(db, allProjections)
  return {
    db,
    close: () => {
      db.close()
      tmp.remove()
    }
  }
}

export const insertEntries = (db: DatabaseSync, entries: ReadonlyArray<SearchEntry>): void => {
  const insert = db.prepare(
    `INSERT INTO transcript (session_id, seq, revision, kind, text, tool_name, input, result_text, created_at)
     VALUES (?1, (SELECT coalesce(max(seq), 0) + 1 FROM transcript WHERE session_id = ?1), 0, ?, ?, ?, ?, ?, '2026-11-30T10:00:00.000Z')`
  )
  db.exec("BEGIN")
  for (const e of entries)
    insert.run(e.session ?? "s", e.tool ? "tool_call" : "assistant_text", e.text, e.tool ?? null, e.input ?? null, e.result ?? null)
  db.exec("COMMIT")
}
