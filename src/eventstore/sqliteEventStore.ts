// The embedded EventStore adapter on node:sqlite: one `events` table whose INTEGER
// PRIMARY KEY is the global position (1..n, gap-free, commit order), appends in one
// BEGIN IMMEDIATE transaction, reads paged from the table, and live subscriptions woken
// in-process by the appending code (no polling). See sqliteSchema.ts for the file itself.
//
// Filters: an empty or absent `streamPrefix`/`eventTypes` list does not filter; both
// present means both must match.
import type { DatabaseSync, StatementSync } from "node:sqlite"
import { Effect, Layer, Option, Stream } from "effect"
import {
  EventStore,
  EventStoreFailure,
  EventStoreUnavailable,
  StreamNotFound,
  WrongExpectedVersion,
  type AllFilter,
  type AppendResult,
  type CaughtUp,
  type EventData,
  type EventStoreShape,
  type ExpectedRevision,
  type Position,
  type ReadAllOptions,
  type ReadError,
  type ReadStreamOptions,
  type RecordedEvent,
  type SubscribeAllOptions
} from "./eventStore.ts"
import { openEventsDb } from "./sqliteSchema.ts"

export interface SqliteEventStore extends EventStoreShape {
  /** Absolute path of events.db. */
  readonly file: string
  /** Closes the database; live subscriptions then fail. Idempotent. */
  close(): Effect.Effect<void>
}

/** Rows fetched per query while paging through reads and subscriptions. */
const pageSize = 500

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

const columns = "position, stream, revision, id, type, data, metadata, created"

interface Row {
  position: bigint
  stream: string
  revision: bigint
  id: string
  type: string
  data: string
  metadata: string
  created: bigint
}

const at = (n: bigint): Position => ({ commit: n, prepare: n })

const toRecorded = (r: Row): RecordedEvent => ({
  _tag: "RecordedEvent",
  stream: r.stream,
  revision: r.revision,
  position: at(r.position),
  id: r.id,
  type: r.type,
  data: JSON.parse(r.data),
  metadata: JSON.parse(r.metadata),
  created: new Date(Number(r.created))
})

/** SQLITE_BUSY / SQLITE_LOCKED are retryable; everything else is a failure. */
const toStoreError = (file: string) => (e: unknown): EventStoreUnavailable | EventStoreFailure => {
  const err = e as { errcode?: number; code?: string; message?: string }
  if (err.errcode === 5 || err.errcode === 6) return new EventStoreUnavailable({ reason: `${file}: ${err.message}` })
  if (err.code === "ERR_INVALID_STATE") return new EventStoreFailure({ reason: `event store ${file} is closed` })
  return new EventStoreFailure({ reason: `event store ${file}: ${err.message ?? String(e)}` })
}

const limitOf = (maxCount: number | undefined): number =>
  maxCount === undefined || maxCount === Infinity ? Infinity : Math.max(0, Math.floor(maxCount))

/** SQL condition and parameters for an $all filter (appended after a position condition). */
const filterSql = (filter: AllFilter | undefined): { sql: string; params: Array<string | number> } => {
  let sql = ""
  const params: Array<string | number> = []
  const prefixes = filter?.streamPrefix ?? []
  if (prefixes.length > 0) {
    // substr counts characters (code points) in SQLite, so compare by code-point length.
    sql += ` AND (${prefixes.map(() => "substr(stream, 1, ?) = ?").join(" OR ")})`
    for (const p of prefixes) params.push([...p].length, p)
  }
  const types = filter?.eventTypes ?? []
  if (types.length > 0) {
    sql += ` AND type IN (${types.map(() => "?").join(", ")})`
    params.push(...types)
  }
  return { sql, params }
}

export const makeSqliteEventStore = (dataDir: string): Effect.Effect<SqliteEventStore, EventStoreFailure> =>
  Effect.try({
    try: () => openEventsDb(dataDir),
    catch: (e) => new EventStoreFailure({ reason: e instanceof Error ? e.message : String(e) })
  }).pipe(Effect.map(({ db, file }) => build(db, file)))

const build = (db: DatabaseSync, file: string): SqliteEventStore => {
  const storeError = toStoreError(file)
  const statements = new Map<string, StatementSync>()
  const stmt = (sql: string): StatementSync => {
    let s = statements.get(sql)
    if (s === undefined) {
      s = db.prepare(sql)
      statements.set(sql, s)
    }
    return s
  }
  /** Runs synchronous database work as an Effect, mapping SQLite errors. */
  const sync = <A>(f: () => A) => Effect.try({ try: f, catch: storeError })

  // ---- in-process notifier: the head (last committed position) and who waits for it ----
  let head: bigint = (stmt("SELECT max(position) AS head FROM events").get() as { head: bigint | null }).head ?? 0n
  let closed = false
  const waiters = new Set<() => void>()
  const wake = () => {
    const ws = [...waiters]
    waiters.clear()
    for (const w of ws) w()
  }
  const closedError = () => new EventStoreFailure({ reason: `event store ${file} is closed` })
  /** Resumes once something past `seen` was committed, or fails once the store closed. */
  const waitForCommitAfter = (seen: bigint) =>
    Effect.callback<void, EventStoreFailure>((resume) => {
      const ready = (): boolean => {
        if (closed) resume(Effect.fail(closedError()))
        else if (head > seen) resume(Effect.void)
        else return false
        return true
      }
      if (ready()) return
      const waiter = () => {
        if (!ready()) waiters.add(waiter)
      }
      waiters.add(waiter)
      return Effect.sync(() => {
        waiters.delete(waiter)
      })
    })

  // ---- append ----
  const lastRevision = (stream: string): bigint | null =>
    (stmt("SELECT max(revision) AS last FROM events WHERE stream = ?").get(stream) as { last: bigint | null }).last

  const appendSync = (
    stream: string,
    events: ReadonlyArray<EventData>,
    expected: ExpectedRevision
  ): AppendResult | WrongExpectedVersion | EventStoreFailure => {
    const invalid = (reason: string) => new EventStoreFailure({ reason: `append to ${stream}: ${reason}` })
    if (typeof stream !== "string" || stream.length === 0) return invalid("the stream name is empty")
    if (events.length === 0) return invalid("no events to append")
    if (typeof expected === "bigint" && expected < 0n) return invalid(`invalid expected revision ${expected}`)
    const rows: Array<{ id: string; type: string; data: string; metadata: string }> = []
    const ids = new Set<string>()
    for (const e of events) {
      if (typeof e.id !== "string" || !uuidPattern.test(e.id)) return invalid(`event id ${String(e.id)} is not a UUID`)
      const id = e.id.toLowerCase()
      if (ids.has(id)) return invalid(`event id ${id} appears twice in one append`)
      ids.add(id)
      if (typeof e.type !== "string" || e.type.length === 0) return invalid(`event ${id} has no type`)
      let data: string | undefined
      let metadata: string | undefined
      try {
        data = JSON.stringify(e.data)
        metadata = JSON.stringify(e.metadata ?? null)
      } catch (err) {
        return invalid(`event ${id} is not JSON-serializable (${err instanceof Error ? err.message : String(err)})`)
      }
      if (data === undefined || metadata === undefined) return invalid(`event ${id} has no JSON data`)
      rows.push({ id, type: e.type, data, metadata })
    }

    db.exec("BEGIN IMMEDIATE")
    try {
      const last = lastRevision(stream)
      const actual = last ?? ("no_stream" as const)

      // Idempotency (ESDB semantics): the same ids, in order, where this append would
      // have put them, mean the append already happened: answer as it did then.
      const stored = rows.map(
        (r) => stmt("SELECT stream, revision, position FROM events WHERE id = ?").get(r.id) as
          | { stream: string; revision: bigint; position: bigint }
          | undefined
      )
      const firstStored = stored.findIndex((s) => s !== undefined)
      if (firstStored >= 0) {
        const first = stored[0]
        const r0 = first?.revision ?? -1n
        const inPlace =
          first !== undefined &&
          stored.every((s, i) => s !== undefined && s.stream === stream && s.revision === r0 + BigInt(i)) &&
          (expected === "any" || expected === "exists" || r0 === (expected === "no_stream" ? 0n : expected + 1n))
        if (inPlace) {
          const lastStored = stored[stored.length - 1]!
          return { nextRevision: lastStored.revision, position: at(lastStored.position) }
        }
        const s = stored[firstStored]!
        return new EventStoreFailure({
          reason: `append to ${stream}: event id ${rows[firstStored]!.id} is already stored in stream ${s.stream} at revision ${s.revision}`
        })
      }

      const ok =
        expected === "any" ||
        (expected === "no_stream" && last === null) ||
        (expected === "exists" && last !== null) ||
        (typeof expected === "bigint" && last === expected)
      if (!ok) return new WrongExpectedVersion({ stream, expected, actual })

      const insert = stmt(
        "INSERT INTO events (stream, revision, id, type, data, metadata, created) VALUES (?, ?, ?, ?, ?, ?, ?)"
      )
      const created = Date.now()
      let revision = last ?? -1n
      let position = 0n
      for (const r of rows) {
        revision += 1n
        position = BigInt(insert.run(stream, revision, r.id, r.type, r.data, r.metadata, created).lastInsertRowid)
      }
      db.exec("COMMIT")
      // Same synchronous block as the commit: a reader that saw `head` also sees the rows.
      head = position
      wake()
      return { nextRevision: revision, position: at(position) }
    } finally {
      if (db.isTransaction) db.exec("ROLLBACK")
    }
  }

  const append: EventStoreShape["append"] = (stream, events, expected) =>
    sync(() => appendSync(stream, events, expected)).pipe(
      Effect.flatMap((r) =>
        r instanceof WrongExpectedVersion || r instanceof EventStoreFailure ? Effect.fail(r) : Effect.succeed(r)
      )
    )

  // ---- reads ----
  const readStream: EventStoreShape["readStream"] = (stream, options: ReadStreamOptions = {}) =>
    Stream.unwrap(
      sync((): Stream.Stream<RecordedEvent, ReadError> => {
        const last = lastRevision(stream)
        if (last === null) return Stream.fail(new StreamNotFound({ stream }))
        const forwards = options.direction !== "backwards"
        const from = options.fromRevision ?? (forwards ? "start" : "end")
        const start = from === "start" ? 0n : from === "end" ? (forwards ? last + 1n : last) : from
        const sql = forwards
          ? `SELECT ${columns} FROM events WHERE stream = ? AND revision >= ? ORDER BY revision LIMIT ?`
          : `SELECT ${columns} FROM events WHERE stream = ? AND revision <= ? ORDER BY revision DESC LIMIT ?`
        return pages(limitOf(options.maxCount), start, (cursor, limit) => {
          const rows = stmt(sql).all(stream, cursor, limit) as unknown as Array<Row>
          const tail = rows[rows.length - 1]
          return [rows, tail === undefined ? undefined : forwards ? tail.revision + 1n : tail.revision - 1n]
        })
      })
    )

  const readAll: EventStoreShape["readAll"] = (options: ReadAllOptions = {}) =>
    Stream.suspend(() => {
      const forwards = options.direction !== "backwards"
      const from = options.fromPosition
      // Backwards with no position reads from the newest event; "start" is the beginning in both directions.
      const start = from === undefined ? (forwards ? 0n : head) : from === "start" ? 0n : from.commit
      const f = filterSql(options.filter)
      const sql = forwards
        ? `SELECT ${columns} FROM events WHERE position >= ?${f.sql} ORDER BY position LIMIT ?`
        : `SELECT ${columns} FROM events WHERE position <= ?${f.sql} ORDER BY position DESC LIMIT ?`
      return pages(limitOf(options.maxCount), start, (cursor, limit) => {
        const rows = stmt(sql).all(cursor, ...f.params, limit) as unknown as Array<Row>
        const tail = rows[rows.length - 1]
        return [rows, tail === undefined ? undefined : forwards ? tail.position + 1n : tail.position - 1n]
      })
    })

  /** Pages through a query until it runs dry or `max` rows were emitted. */
  const pages = (
    max: number,
    start: bigint,
    page: (cursor: bigint, limit: number) => readonly [Array<Row>, bigint | undefined]
  ): Stream.Stream<RecordedEvent, EventStoreFailure | EventStoreUnavailable> =>
    max === 0
      ? Stream.empty
      : Stream.paginate({ cursor: start, left: max }, (s) =>
          sync(() => {
            const limit = Math.min(pageSize, s.left)
            const [rows, next] = page(s.cursor, limit)
            const left = s.left - rows.length
            const more = rows.length === limit && left > 0 && next !== undefined && next >= 0n
            return [rows.map(toRecorded), more ? Option.some({ cursor: next, left }) : Option.none()] as const
          })
        )

  // ---- subscriptions ----
  const subscribeAll: EventStoreShape["subscribeAll"] = (options: SubscribeAllOptions) =>
    Stream.suspend(() => {
      const f = filterSql(options.filter)
      const sql = `SELECT ${columns} FROM events WHERE position > ?${f.sql} ORDER BY position LIMIT ?`
      const from = options.from === "start" ? 0n : options.from === "end" ? head : options.from.commit
      // `scanned`: every event at or before it was looked at (delivered or filtered out);
      // `delivered`: the last position handed downstream (for the CaughtUp marker).
      type State = { readonly scanned: bigint; readonly delivered: bigint; readonly live: boolean }
      // Everything runs on one thread and `head` moves in the same synchronous block as
      // each COMMIT, so "note the head, read a page" is atomic with respect to appends:
      // a page shorter than pageSize means every event up to that head was scanned, and
      // anything newer bumps head past it and wakes us. `scanned` only grows and each
      // query asks for positions above it, so nothing is delivered twice or skipped.
      const step = (
        s: State
      ): Effect.Effect<readonly [Array<RecordedEvent | CaughtUp>, Option.Option<State>], EventStoreFailure | EventStoreUnavailable> =>
        Effect.flatMap(
          sync(() => {
            const seen = head
            const rows = stmt(sql).all(s.scanned, ...f.params, pageSize) as unknown as Array<Row>
            const last = rows[rows.length - 1]?.position
            const scanned = rows.length === pageSize ? last! : seen > s.scanned ? seen : s.scanned
            return { scanned, last, events: rows.map(toRecorded) }
          }),
          ({ scanned, last, events }) => {
            if (last !== undefined) {
              return Effect.succeed([events, Option.some({ scanned, delivered: last, live: s.live })] as const)
            }
            if (!s.live) {
              const caughtUp: CaughtUp = { _tag: "CaughtUp", position: s.delivered > 0n ? at(s.delivered) : undefined }
              return Effect.succeed([[caughtUp], Option.some({ ...s, scanned, live: true })] as const)
            }
            return Effect.flatMap(waitForCommitAfter(scanned), () => step({ ...s, scanned }))
          }
        )
      return Stream.paginate<State, RecordedEvent | CaughtUp, EventStoreFailure | EventStoreUnavailable>(
        { scanned: from, delivered: from, live: false },
        step
      )
    })

  const headPosition: EventStoreShape["headPosition"] = () =>
    sync(() => {
      const h = (stmt("SELECT max(position) AS head FROM events").get() as { head: bigint | null }).head
      return h === null ? null : at(h)
    })

  const close = () =>
    Effect.sync(() => {
      if (closed) return
      closed = true
      wake()
      db.close()
    })

  return { kind: "sqlite", file, append, readStream, readAll, subscribeAll, headPosition, close }
}

/** The embedded store as the EventStore service; the database closes with the layer's scope. */
export const SqliteEventStoreLive = (dataDir: string): Layer.Layer<EventStore, EventStoreFailure> =>
  Layer.effect(
    EventStore,
    Effect.acquireRelease(makeSqliteEventStore(dataDir), (store) => store.close())
  )
