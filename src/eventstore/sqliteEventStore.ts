// The embedded EventStore adapter on node:sqlite: one `events` table whose INTEGER
// PRIMARY KEY is the global position (1..n, gap-free, commit order), appends in one
// BEGIN IMMEDIATE transaction, reads paged from the table, and live subscriptions woken
// in-process by the appending code (no polling); one stream's subscription reads it by the
// (stream, revision) index. See sqliteSchema.ts for the file itself.
//
// Filters: an empty or absent `streamPrefix`/`eventTypes` list does not filter; both
// present means both must match.
import { backup as sqliteBackup, type DatabaseSync, type StatementSync } from "node:sqlite"
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
  type RecordedEventJson,
  type SubscribeAllOptions
} from "./eventStore.ts"
import { checkAppend, checkLimits, defaultStoreLimits, type StoreLimits } from "./appendInput.ts"
import { openEventsDb } from "./sqliteSchema.ts"
import { faultPageLimit } from "../sqlitePageLimit.ts"

export interface SqliteEventStore extends EventStoreShape {
  /** Absolute path of events.db. */
  readonly file: string
  /**
   * A consistent copy of the store at `to` (SQLite's online backup, through this
   * connection, so appends made meanwhile are in it); the head position it holds.
   */
  backup(to: string): Effect.Effect<Position | null, EventStoreFailure | EventStoreUnavailable>
}

/** Rows fetched per query while paging through reads and subscriptions. */
const pageSize = 500


const columns = "position, stream, revision, id, type, data, metadata, created"

/**
 * A row of `columns`, as node:sqlite returns it with setReturnArrays: an array per row is
 * a quarter cheaper to read than an object with named keys, on every read path.
 */
type Row = readonly [
  position: bigint,
  stream: string,
  revision: bigint,
  id: string,
  type: string,
  data: string,
  metadata: string,
  created: bigint
]
const POSITION = 0
const REVISION = 2

const at = (n: bigint): Position => ({ commit: n, prepare: n })

const toRecordedJson = ([position, stream, revision, id, type, data, metadata, created]: Row): RecordedEventJson => ({
  _tag: "RecordedEventJson",
  stream,
  revision,
  position: at(position),
  id,
  type,
  dataJson: data,
  metadataJson: metadata,
  created: new Date(Number(created))
})

const toRecorded = ([position, stream, revision, id, type, data, metadata, created]: Row): RecordedEvent => ({
  _tag: "RecordedEvent",
  stream,
  revision,
  position: at(position),
  id,
  type,
  data: JSON.parse(data),
  metadata: JSON.parse(metadata),
  created: new Date(Number(created))
})

/**
 * SQLITE_BUSY / SQLITE_LOCKED, and SQLITE_FULL (the disk, or max_page_count): retryable,
 * the store is unavailable until they pass (a full disk gets space back without a
 * restart); everything else is a failure.
 */
const unavailableCodes = new Set([5, 6, 13])
const toStoreError = (file: string) => (e: unknown): EventStoreUnavailable | EventStoreFailure => {
  const err = e as { errcode?: number; code?: string; message?: string }
  if (err.errcode !== undefined && unavailableCodes.has(err.errcode & 0xff)) return new EventStoreUnavailable({ reason: `${file}: ${err.message}` })
  if (err.code === "ERR_INVALID_STATE") return new EventStoreFailure({ reason: `event store ${file} is closed` })
  return new EventStoreFailure({ reason: `event store ${file}: ${err.message ?? String(e)}` })
}

const limitOf = (maxCount: number | undefined): number =>
  maxCount === undefined || maxCount === Infinity ? Infinity : Math.max(0, Math.floor(maxCount))

/** SQL condition and parameters for the stream-prefix part of a filter (appended after another condition). */
const prefixSql = (prefixes: ReadonlyArray<string>): { sql: string; params: Array<string | number> } => {
  if (prefixes.length === 0) return { sql: "", params: [] }
  // substr counts characters (code points) in SQLite, so compare by code-point length.
  const params: Array<string | number> = []
  for (const p of prefixes) params.push([...p].length, p)
  return { sql: ` AND (${prefixes.map(() => "substr(stream, 1, ?) = ?").join(" OR ")})`, params }
}

/** Event types of a filter, without repeats ([] when it does not filter by type). */
const typesOf = (filter: AllFilter | undefined): ReadonlyArray<string> => [...new Set(filter?.eventTypes ?? [])]

/** Most types one type-filtered query merges (one ordered index range per type). */
const maxMergedTypes = 100

/**
 * Every stream name that starts with `prefix` is in [from, to) under SQLite's BINARY
 * collation (UTF-8 byte order is code-point order), so the (stream, revision) index can
 * find them. Only worked out for printable ASCII prefixes (stream names are); null otherwise.
 */
export const prefixRange = (prefix: string): readonly [string, string] | null => {
  if (!/^[\x20-\x7e]+$/.test(prefix)) return null
  return [prefix, prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1)]
}

/** Index of UNIQUE (stream, revision): the second unique constraint of the events table. */
const streamIndex = "sqlite_autoindex_events_2"
/** A subscription only looks up its prefix in the stream index when more rows than this lie ahead. */
const indexedCatchUpMinRows = 2_000n
/** ... and only while the prefix names fewer events than this (a stream, not a category). */
const indexedCatchUpMaxEvents = 20_000

export const makeSqliteEventStore = (
  dataDir: string,
  limits: StoreLimits = defaultStoreLimits
): Effect.Effect<SqliteEventStore, EventStoreFailure> =>
  Effect.try({
    try: () => openEventsDb(dataDir),
    catch: (e) => new EventStoreFailure({ reason: e instanceof Error ? e.message : String(e) })
  }).pipe(Effect.map(({ db, file }) => build(db, file, limits)))

const build = (db: DatabaseSync, file: string, limits: StoreLimits): SqliteEventStore => {
  faultPageLimit(db, file)
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
  const columnsOf = (index: string) =>
    (db.prepare(`PRAGMA index_info("${index}")`).all() as Array<{ name: string }>).map((c) => c.name).join(",")
  /** The stream index is there as the schema makes it (else narrow subscriptions just scan). */
  const hasStreamIndex = columnsOf(streamIndex) === "stream,revision"

  const rowStatements = new Map<string, StatementSync>()
  /** A prepared statement of `columns` rows, returned as arrays (see Row). */
  const rowsOf = (sql: string, ...params: Array<string | number | bigint>): Array<Row> => {
    let s = rowStatements.get(sql)
    if (s === undefined) {
      s = db.prepare(sql)
      s.setReturnArrays(true)
      rowStatements.set(sql, s)
    }
    return s.all(...params) as unknown as Array<Row>
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

  type StoredAt = { stream: string; revision: bigint; position: bigint }
  /**
   * Where the given ids are already stored, in one query per 512 ids rather than one per
   * id (a batch of 100 spent a quarter of its time in those lookups). The list of
   * parameters is padded to a power of two with its last id, so a handful of prepared
   * statements serve every size.
   */
  const storedByIds = (ids: ReadonlyArray<string>): Map<string, StoredAt> => {
    const found = new Map<string, StoredAt>()
    for (let i = 0; i < ids.length; i += 512) {
      const chunk = ids.slice(i, i + 512)
      let size = 1
      while (size < chunk.length) size *= 2
      while (chunk.length < size) chunk.push(chunk[chunk.length - 1]!)
      const rows = stmt(
        `SELECT id, stream, revision, position FROM events WHERE id IN (${"?, ".repeat(size - 1)}?)`
      ).all(...chunk) as unknown as Array<StoredAt & { id: string }>
      for (const r of rows) found.set(r.id, { stream: r.stream, revision: r.revision, position: r.position })
    }
    return found
  }

  const appendSync = (
    stream: string,
    events: ReadonlyArray<EventData>,
    expected: ExpectedRevision
  ): AppendResult | WrongExpectedVersion | EventStoreFailure => {
    const rows = checkAppend(stream, events, expected)
    if (rows instanceof EventStoreFailure) return rows
    const tooLarge = checkLimits(stream, rows, limits)
    if (tooLarge !== undefined) return tooLarge

    db.exec("BEGIN IMMEDIATE")
    try {
      const last = lastRevision(stream)
      const actual = last ?? ("no_stream" as const)

      // Idempotency (ESDB semantics): the same ids, in order, where this append would
      // have put them, mean the append already happened: answer as it did then.
      const found = storedByIds(rows.map((r) => r.id))
      const stored = rows.map((r) => found.get(r.id))
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
        position = BigInt(insert.run(stream, revision, r.id, r.type, r.dataJson, r.metadataJson, created).lastInsertRowid)
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
  const streamRows = <A>(stream: string, options: ReadStreamOptions, map: (r: Row) => A) =>
    Stream.unwrap(
      sync((): Stream.Stream<A, ReadError> => {
        const last = lastRevision(stream)
        if (last === null) return Stream.fail(new StreamNotFound({ stream }))
        const forwards = options.direction !== "backwards"
        const from = options.fromRevision ?? (forwards ? "start" : "end")
        const start = from === "start" ? 0n : from === "end" ? (forwards ? last + 1n : last) : from
        const sql = forwards
          ? `SELECT ${columns} FROM events WHERE stream = ? AND revision >= ? ORDER BY revision LIMIT ?`
          : `SELECT ${columns} FROM events WHERE stream = ? AND revision <= ? ORDER BY revision DESC LIMIT ?`
        return pages(
          limitOf(options.maxCount),
          start,
          (cursor, limit) => {
            const rows = rowsOf(sql, stream, cursor, limit)
            const tail = rows[rows.length - 1]?.[REVISION]
            return [rows, tail === undefined ? undefined : forwards ? tail + 1n : tail - 1n]
          },
          map
        )
      })
    )

  const readStream: EventStoreShape["readStream"] = (stream, options: ReadStreamOptions = {}) =>
    streamRows(stream, options, toRecorded)

  // The text in the table is what JSON.stringify wrote at append, so it is already the
  // JSON of the parsed value: no parse and stringify again to pass it on.
  const readStreamJson: EventStoreShape["readStreamJson"] = (stream, options: ReadStreamOptions = {}) =>
    streamRows(stream, options, toRecordedJson)

  /**
   * One page of events in $all order, from `cursor` (inclusive or not), at most `limit`.
   * `last` is the last position the page looked at and `full` whether it looked at
   * `limit` of them: with a type filter the page may look at events that the stream
   * filter then drops, so the caller pages on from `last`, not from the last row.
   *
   * With a type filter the events come from the type index: one ordered range per type,
   * merged, then the rows by position. (`type IN (…) ORDER BY position` made SQLite
   * gather and sort every matching event after the cursor for every page: a read of all
   * the run lifecycle events of 5 million took minutes.) Without one, a scan in position
   * order, or for a narrow stream prefix the stream index (see subscribeAll).
   */
  type Page = { readonly rows: Array<Row>; readonly last: bigint | undefined; readonly full: boolean }
  const pager = (filter: AllFilter | undefined, forwards: boolean, inclusive: boolean) => {
    const op = forwards ? (inclusive ? ">=" : ">") : inclusive ? "<=" : "<"
    const order = forwards ? "" : " DESC"
    const prefix = prefixSql(filter?.streamPrefix ?? [])
    const types = typesOf(filter)
    if (types.length > 0 && types.length <= maxMergedTypes) {
      const arm = `SELECT position FROM (SELECT position FROM events WHERE type = ? AND position ${op} ? ORDER BY position${order} LIMIT ?)`
      const positionsSql = `${types.map(() => arm).join(" UNION ALL ")} ORDER BY 1${order} LIMIT ?`
      const rowsSql = `SELECT ${columns} FROM events WHERE position IN (SELECT value FROM json_each(?))${prefix.sql} ORDER BY position${order}`
      return (cursor: bigint, limit: number): Page => {
        const params: Array<string | number | bigint> = []
        for (const t of types) params.push(t, cursor, limit)
        const positions = (stmt(positionsSql).all(...params, limit) as Array<{ position: bigint }>).map((r) => r.position)
        const rows = positions.length === 0 ? [] : rowsOf(rowsSql, `[${positions.join(",")}]`, ...prefix.params)
        return { rows, last: positions[positions.length - 1], full: positions.length === limit }
      }
    }
    const t = types.length > 0 ? ` AND type IN (${types.map(() => "?").join(", ")})` : ""
    const scanSql = `SELECT ${columns} FROM events WHERE position ${op} ?${prefix.sql}${t} ORDER BY position${order} LIMIT ?`
    return (cursor: bigint, limit: number): Page => {
      const rows = rowsOf(scanSql, cursor, ...prefix.params, ...types, limit)
      return { rows, last: rows[rows.length - 1]?.[POSITION], full: rows.length === limit }
    }
  }

  const allRows = <A>(options: ReadAllOptions, map: (r: Row) => A) =>
    Stream.suspend(() => {
      const forwards = options.direction !== "backwards"
      const from = options.fromPosition
      // Backwards with no position reads from the newest event; "start" is the beginning in both directions.
      const start = from === undefined ? (forwards ? 0n : head) : from === "start" ? 0n : from.commit
      const page = pager(options.filter, forwards, true)
      return pages(limitOf(options.maxCount), start, (cursor, limit) => {
        const p = page(cursor, limit)
        return [p.rows, p.last === undefined ? undefined : forwards ? p.last + 1n : p.last - 1n, p.full]
      }, map)
    })
  const readAll: EventStoreShape["readAll"] = (options: ReadAllOptions = {}) => allRows(options, toRecorded)
  const readAllJson: EventStoreShape["readAllJson"] = (options: ReadAllOptions = {}) => allRows(options, toRecordedJson)

  /** Pages through a query until it runs dry or `max` rows were emitted. */
  const pages = <A = RecordedEvent>(
    max: number,
    start: bigint,
    page: (cursor: bigint, limit: number) => readonly [Array<Row>, bigint | undefined, boolean?],
    map: (r: Row) => A = toRecorded as unknown as (r: Row) => A
  ): Stream.Stream<A, EventStoreFailure | EventStoreUnavailable> =>
    max === 0
      ? Stream.empty
      : Stream.paginate({ cursor: start, left: max }, (s) =>
          sync(() => {
            const limit = Math.min(pageSize, s.left)
            const [rows, next, full = rows.length === limit] = page(s.cursor, limit)
            const left = s.left - rows.length
            const more = full && left > 0 && next !== undefined && next >= 0n
            return [rows.map(map), more ? Option.some({ cursor: next, left }) : Option.none()] as const
          })
        )

  // ---- subscriptions ----
  const subscribeAll: EventStoreShape["subscribeAll"] = (options: SubscribeAllOptions) =>
    Stream.suspend(() => {
      const page = pager(options.filter, true, false)
      const from = options.from === "start" ? 0n : options.from === "end" ? head : options.from.commit
      // A subscription to one stream (or a few) that starts far behind the head, as a live
      // SSE client of an old session does, reads its catch-up from the stream index: the
      // scan in position order would read every event after it, millions, in one query.
      const prefixes = options.filter?.streamPrefix ?? []
      const range = hasStreamIndex && prefixes.length === 1 && typesOf(options.filter).length === 0 ? prefixRange(prefixes[0]!) : null
      let rangeIsLarge = false
      const indexedSql = `SELECT ${columns} FROM events INDEXED BY ${streamIndex}
        WHERE stream >= ? AND stream < ? AND position > ? ORDER BY position LIMIT ?`
      const countSql = `SELECT count(*) AS n FROM (SELECT 1 FROM events INDEXED BY ${streamIndex} WHERE stream >= ? AND stream < ? LIMIT ?)`
      const narrowPage = (scanned: bigint, seen: bigint): Page | undefined => {
        if (range === null || rangeIsLarge || seen - scanned <= indexedCatchUpMinRows) return undefined
        const { n } = stmt(countSql).get(range[0], range[1], indexedCatchUpMaxEvents) as { n: bigint }
        if (n >= BigInt(indexedCatchUpMaxEvents)) {
          // Streams only grow: once a category, always a category.
          rangeIsLarge = true
          return undefined
        }
        const rows = rowsOf(indexedSql, range[0], range[1], scanned, pageSize)
        return { rows, last: rows[rows.length - 1]?.[POSITION], full: rows.length === pageSize }
      }
      // `scanned`: every event at or before it was looked at (delivered or filtered out);
      // `delivered`: the last position handed downstream (for the CaughtUp marker).
      type State = { readonly scanned: bigint; readonly delivered: bigint; readonly live: boolean }
      // Everything runs on one thread and `head` moves in the same synchronous block as
      // each COMMIT, so "note the head, read a page" is atomic with respect to appends:
      // a page that is not full means every event up to that head was scanned, and
      // anything newer bumps head past it and wakes us. `scanned` only grows and each
      // query asks for positions above it, so nothing is delivered twice or skipped.
      const step = (
        s: State
      ): Effect.Effect<readonly [Array<RecordedEvent | CaughtUp>, Option.Option<State>], EventStoreFailure | EventStoreUnavailable> =>
        Effect.flatMap(
          sync(() => {
            const seen = head
            const p = narrowPage(s.scanned, seen) ?? page(s.scanned, pageSize)
            const last = p.rows[p.rows.length - 1]?.[POSITION]
            const scanned = p.full ? p.last! : seen > s.scanned ? seen : s.scanned
            return { scanned, last, full: p.full, events: p.rows.map(toRecorded) }
          }),
          ({ scanned, last, full, events }) => {
            if (last !== undefined) {
              return Effect.succeed([events, Option.some({ scanned, delivered: last, live: s.live })] as const)
            }
            // A full page whose events the stream filter all dropped: there may be more.
            if (full) return step({ ...s, scanned })
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

  // One stream from its index: rows after the last revision delivered, by revision. As in
  // subscribeAll, "note the head, read a page" is atomic with respect to appends, so a
  // page that comes back short means the stream had nothing more up to that head.
  const subscribeStream: EventStoreShape["subscribeStream"] = (stream, from) =>
    Stream.unwrap(
      sync(() => {
        const sql = `SELECT ${columns} FROM events WHERE stream = ? AND revision > ? ORDER BY revision LIMIT ?`
        type State = { readonly after: bigint; readonly delivered: Position | undefined; readonly live: boolean }
        const after = from === "start" ? -1n : from === "end" ? lastRevision(stream) ?? -1n : from
        const step = (
          s: State
        ): Effect.Effect<readonly [Array<RecordedEvent | CaughtUp>, Option.Option<State>], EventStoreFailure | EventStoreUnavailable> =>
          Effect.flatMap(
            sync(() => ({ seen: head, rows: rowsOf(sql, stream, s.after, pageSize) })),
            ({ seen, rows }) => {
              const last = rows[rows.length - 1]
              if (last !== undefined) {
                const state = { after: last[REVISION], delivered: at(last[POSITION]), live: s.live }
                return Effect.succeed([rows.map(toRecorded), Option.some(state)] as const)
              }
              if (!s.live) {
                const caughtUp: CaughtUp = { _tag: "CaughtUp", position: s.delivered }
                return Effect.succeed([[caughtUp], Option.some({ ...s, live: true })] as const)
              }
              return Effect.flatMap(waitForCommitAfter(seen), () => step(s))
            }
          )
        return Stream.paginate<State, RecordedEvent | CaughtUp, EventStoreFailure | EventStoreUnavailable>(
          { after, delivered: undefined, live: false },
          step
        )
      })
    )

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

  const backup: SqliteEventStore["backup"] = (to) =>
    Effect.tryPromise({ try: () => sqliteBackup(db, to), catch: storeError }).pipe(Effect.map(() => (head === 0n ? null : at(head))))

  return { file, append, readStream, readStreamJson, readAll, readAllJson, subscribeAll, subscribeStream, headPosition, close, backup }
}

/** The embedded store as the EventStore service; the database closes with the layer's scope. */
export const SqliteEventStoreLive = (dataDir: string): Layer.Layer<EventStore, EventStoreFailure> =>
  Layer.effect(
    EventStore,
    Effect.acquireRelease(makeSqliteEventStore(dataDir), (store) => store.close())
  )
