// The read models' SQLite file, `<dataDir>/read.db`: opening it, the runner's own tables
// (checkpoints, per-event handler errors) and two small helpers every projection uses.
// Read models can always be rebuilt from the event store, so synchronous=NORMAL is
// enough; what must hold is that a batch's writes and its checkpoint commit together.
import { DatabaseSync, type StatementSync } from "node:sqlite"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Context, Data, Effect, Layer } from "effect"
import { faultPageLimit } from "../sqlitePageLimit.ts"

export class ReadDbError extends Data.TaggedError("ReadDbError")<{ readonly reason: string }> {
  override get message() {
    return this.reason
  }
}

const runnerSchema = `
CREATE TABLE IF NOT EXISTS projection_checkpoints (
  name             TEXT PRIMARY KEY,
  version          INTEGER NOT NULL,
  commit_position  INTEGER,            -- NULL: nothing applied yet
  prepare_position INTEGER
) STRICT;
CREATE TABLE IF NOT EXISTS projection_errors (
  name             TEXT NOT NULL,
  commit_position  INTEGER NOT NULL,
  prepare_position INTEGER NOT NULL,
  event_id         TEXT NOT NULL,
  event_type       TEXT NOT NULL,
  error            TEXT NOT NULL,
  PRIMARY KEY (name, commit_position, prepare_position)
) STRICT;
`

export const readDbFile = (dataDir: string): string => path.resolve(dataDir, "read.db")

/** Opens (creating if needed) read.db in WAL mode with the runner's tables. Throws ReadDbError. */
export const openReadDb = (dataDir: string): DatabaseSync => openReadDbFile(readDbFile(dataDir), "wal")

/**
 * How a connection journals its writes. "wal": read.db itself, read while it is written,
 * every batch durable with its checkpoint. "bulk": a new file that nothing else opens
 * until it is complete (a rebuild's, renamed into place at the end): the rollback journal
 * in memory (a handler that throws still rolls its batch back), pages written once
 * instead of to the WAL and again at each checkpoint, and no fsync until the end. A crash
 * leaves a file that is never used: the rebuild starts it afresh.
 */
export type Journal = "wal" | "bulk"

export const openReadDbFile = (file: string, journal: Journal): DatabaseSync => {
  let db: DatabaseSync | undefined
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true })
    db = new DatabaseSync(file, { timeout: 5_000 })
    // 16 KiB pages (SQLite's default is 4 KiB): a rebuild of 0.5M events took a fifth less
    // CPU. It applies only to a new file, before WAL mode is set.
    db.exec("PRAGMA page_size = 16384")
    const want = journal === "wal" ? "wal" : "memory"
    const mode = db.prepare(`PRAGMA journal_mode = ${want}`).get() as { journal_mode: string }
    if (mode.journal_mode !== want) throw new Error(`cannot switch to ${want} journal mode (got ${mode.journal_mode})`)
    db.exec(journal === "wal" ? "PRAGMA synchronous = NORMAL" : "PRAGMA synchronous = OFF")
    if (journal === "bulk") db.exec("PRAGMA locking_mode = EXCLUSIVE")
    // The runner wraps every event in a savepoint: with the default temp_store its
    // sub-journal is a temp file, written (page by page) for every event. In memory it
    // costs a copy instead of a system call per page, and halves the projections' time.
    db.exec("PRAGMA temp_store = MEMORY")
    db.exec(runnerSchema)
    faultPageLimit(db, file)
    return db
  } catch (e) {
    try {
      db?.close()
    } catch {
      // the original error is the one to report
    }
    throw new ReadDbError({ reason: `cannot open read models ${file}: ${e instanceof Error ? e.message : String(e)}` })
  }
}

/** The open read.db, shared by the projection runner (the only writer) and the queries. */
export class ReadDb extends Context.Service<ReadDb, { readonly db: DatabaseSync; readonly file: string }>()(
  "agentlog/ReadDb"
) {}

/** read.db for the layer's lifetime; closed when the scope closes. */
export const ReadDbLive = (dataDir: string): Layer.Layer<ReadDb, ReadDbError> =>
  Layer.effect(
    ReadDb,
    Effect.acquireRelease(
      Effect.try({
        try: () => ({ db: openReadDb(dataDir), file: readDbFile(dataDir) }),
        catch: (e) => (e instanceof ReadDbError ? e : new ReadDbError({ reason: String(e) }))
      }),
      ({ db }) =>
        Effect.sync(() => {
          if (db.isOpen) db.close()
        })
    )
  )

/**
 * Settings for applying a backlog (a rebuild, a start after downtime) or for following
 * live. Catching up, a bigger page cache and ten times fewer WAL checkpoints (each one
 * copies pages back and fsyncs read.db): a rebuild of 1M events went from 24k to 34k
 * events/s. Live, SQLite's defaults keep memory low and each checkpoint short (it runs
 * inside a projection's commit, on the event loop).
 */
export const catchUpMode = (db: DatabaseSync, catchingUp: boolean): void => {
  if (!db.isOpen) return
  db.exec(catchingUp ? "PRAGMA cache_size = -65536" : "PRAGMA cache_size = -2000")
  db.exec(catchingUp ? "PRAGMA wal_autocheckpoint = 10000" : "PRAGMA wal_autocheckpoint = 1000")
}

/**
 * A bulk rebuild's page cache, per connection: a sixteenth of the machine's memory, from
 * 64 MiB up to 512 MiB. At 5M events (a 5 GB read.db) the rebuild slowed as the file
 * outgrew the 64 MiB of catchUpMode: every index insert became a page read.
 */
export const bulkCache = (db: DatabaseSync): void => {
  const kib = Math.min(512 * 1024, Math.max(64 * 1024, Math.floor(os.totalmem() / 16 / 1024)))
  db.exec(`PRAGMA cache_size = -${kib}`)
}

/** A table's or column's name as an SQL identifier (names cannot be bound as parameters). */
export const sqlName = (name: string): string => `"${name.replaceAll('"', '""')}"`

const statementCache = new WeakMap<DatabaseSync, Map<string, StatementSync>>()

/** A prepared statement, cached per connection (SQLite re-prepares it after schema changes). */
export const sql = (db: DatabaseSync, text: string): StatementSync => {
  let cache = statementCache.get(db)
  if (cache === undefined) {
    cache = new Map()
    statementCache.set(db, cache)
  }
  let s = cache.get(text)
  if (s === undefined) {
    s = db.prepare(text)
    cache.set(text, s)
  }
  return s
}

/** Runs `f` in one write transaction: all of it commits, or none of it. */
export const transaction = <A>(db: DatabaseSync, f: () => A): A => {
  db.exec("BEGIN IMMEDIATE")
  try {
    const a = f()
    db.exec("COMMIT")
    return a
  } finally {
    if (db.isTransaction) db.exec("ROLLBACK")
  }
}
