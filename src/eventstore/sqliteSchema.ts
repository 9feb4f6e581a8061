// Opening and checking the embedded store's file: pragmas, schema, and the refusal to
// start on anything that is not an agentlog event store (never a silent fresh start).
import { DatabaseSync } from "node:sqlite"
import * as fs from "node:fs"
import * as path from "node:path"

/** Bumped when the table layout changes; a newer file is refused, never rewritten. */
export const schemaVersion = 1n

const schema = `
CREATE TABLE events (
  position INTEGER PRIMARY KEY,          -- global order, 1..n without gaps (no deletes)
  stream   TEXT    NOT NULL,
  revision INTEGER NOT NULL,             -- 0-based within the stream
  id       TEXT    NOT NULL UNIQUE,      -- lower-case UUID
  type     TEXT    NOT NULL,
  data     TEXT    NOT NULL,             -- JSON
  metadata TEXT    NOT NULL,             -- JSON
  created  INTEGER NOT NULL,             -- unix milliseconds
  UNIQUE (stream, revision)
) STRICT;
CREATE INDEX events_by_type ON events (type, position);
`

/** Thrown by openEventsDb; the message always names the file. */
export class OpenError extends Error {}

const describe = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/**
 * Opens (creating if needed) `<dataDir>/events.db` in WAL mode with synchronous=FULL and
 * an exclusive lock, so a second process cannot write behind this one's back (live
 * subscribers are woken in-process). Throws OpenError naming the file on any problem.
 */
export const openEventsDb = (dataDir: string): { db: DatabaseSync; file: string } => {
  const file = path.resolve(dataDir, "events.db")
  const refuse = (why: string): never => {
    throw new OpenError(`cannot open event store ${file}: ${why}`)
  }
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true })
  } catch (e) {
    refuse(`data directory ${path.dirname(file)} is unusable (${describe(e)})`)
  }
  let stat: fs.Stats | undefined
  try {
    stat = fs.statSync(file)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") refuse(describe(e))
  }
  if (stat !== undefined) {
    if (!stat.isFile()) refuse("not a regular file")
    try {
      fs.accessSync(file, fs.constants.R_OK | fs.constants.W_OK)
    } catch (e) {
      refuse(`not readable and writable (${describe(e)})`)
    }
  }

  let db: DatabaseSync | undefined
  try {
    db = new DatabaseSync(file, { readBigInts: true, timeout: 1_000 })
    db.exec("PRAGMA locking_mode = EXCLUSIVE")
    const mode = db.prepare("PRAGMA journal_mode = WAL").get() as { journal_mode: string }
    if (mode.journal_mode !== "wal") refuse(`cannot switch to WAL mode (got ${mode.journal_mode})`)
    db.exec("PRAGMA synchronous = FULL")
    // Takes the exclusive lock now, so a second opener fails here rather than later.
    db.exec("BEGIN IMMEDIATE")
    try {
      ensureSchema(db, refuse)
      db.exec("COMMIT")
    } finally {
      if (db.isTransaction) db.exec("ROLLBACK")
    }
    return { db, file }
  } catch (e) {
    try {
      db?.close()
    } catch {
      // already failing; the original error is the one to report
    }
    if (e instanceof OpenError) throw e
    const code = (e as { errcode?: number }).errcode
    return refuse(code === 5 ? `locked by another process (${describe(e)})` : describe(e))
  }
}

const ensureSchema = (db: DatabaseSync, refuse: (why: string) => never): void => {
  const version = (db.prepare("PRAGMA user_version").get() as { user_version: bigint }).user_version
  const tables = (
    db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as Array<{
      name: string
    }>
  ).map((t) => t.name)
  if (version === 0n) {
    if (tables.length > 0) refuse(`not an agentlog event store (has tables ${tables.join(", ")})`)
    db.exec(schema)
    db.exec(`PRAGMA user_version = ${schemaVersion}`)
    return
  }
  if (version > schemaVersion) refuse(`written by a newer agentlog (schema ${version}, this one knows ${schemaVersion})`)
  if (!tables.includes("events")) refuse("the events table is missing")
}
