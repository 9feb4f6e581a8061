// Applies recorded events to a set of projections with exactly-once checkpoints.
//
// - prepareProjections: per projection, compares the stored version with the code's and
//   drops and recreates the projection's tables (checkpoint back to zero) when they differ.
// - applyEvents: one transaction per batch. Inside it the checkpoints are read again, each
//   event goes to every projection whose checkpoint is below the event's position, and the
//   advanced checkpoints are written before COMMIT, so a crash anywhere loses nothing and
//   applies nothing twice. A handler that throws on an event has that event's writes
//   (for that projection only) rolled back to a savepoint and the error recorded in
//   projection_errors: deterministic, so a rebuild records the same. (Batches first run
//   without savepoints; one whose handler throws is rolled back and run again with a
//   savepoint per event: see applySlice.) Database failures
//   (disk full, I/O, locks) abort the batch instead; it is retried from the checkpoint.
// - runSubscription: feeds a subscribeAll stream (from the oldest checkpoint, session
//   streams only) into applyEvents, one transaction per delivered chunk.
import type { DatabaseSync } from "node:sqlite"
import { Effect, Stream } from "effect"
import { streamPrefix } from "../domain/streamName.ts"
import type { CaughtUp, EventStoreShape, Position, ReadError, RecordedEvent } from "../eventstore/eventStore.ts"
import { comparePositions } from "../eventstore/position.ts"
import type { Projection } from "./projection.ts"
import { toProjected } from "./projectedEvent.ts"
import { ReadDbError, sql, sqlName, transaction } from "./readDb.ts"

export interface ProjectionError {
  readonly projection: string
  readonly eventId: string
  readonly eventType: string
  readonly position: Position
  readonly error: string
}

export interface BatchResult {
  /** Events delivered in the batch (including ones every projection had already applied). */
  readonly events: number
  /** The runner's position after the batch (see ProjectionRunner.position). */
  readonly position: Position | null
  readonly errors: ReadonlyArray<ProjectionError>
}

export interface CheckpointInfo {
  readonly name: string
  readonly version: number
  readonly position: Position | null
}

export interface ProjectionRunner {
  readonly projections: ReadonlyArray<Projection>
  /** Projections whose tables were (re)created from zero by prepare. */
  readonly rebuilt: ReadonlyArray<string>
  /** Every projection has applied every event at or before this position (null: not even one). */
  readonly position: () => Position | null
  /** Where a subscription must start (exclusive) so that no projection misses an event. */
  readonly startFrom: () => Position | "start"
  readonly checkpoints: () => ReadonlyArray<CheckpointInfo>
  /** Applies events in order, in transactions of at most `maxBatch` events. Throws on database failure. */
  readonly applyEvents: (events: ReadonlyArray<RecordedEvent>) => BatchResult
  /** Makes every projection's missing query indexes, in one transaction (see deferQueryIndexes). */
  readonly buildQueryIndexes: () => void
}

export interface RunnerOptions {
  /** Drop every projection's tables and start from zero, whatever the stored versions. */
  readonly reset?: boolean
  /** Most events per transaction (default 1000). */
  readonly maxBatch?: number
  /**
   * Leave the rebuilt projections' query indexes for `buildQueryIndexes` (a bulk load). Until
   * it runs, their queries are slow or (search) incomplete; a later prepare builds them.
   */
  readonly deferQueryIndexes?: boolean
}

interface CheckpointRow {
  version: bigint
  commit_position: bigint | null
  prepare_position: bigint | null
}

const readCheckpoint = (db: DatabaseSync, name: string): CheckpointRow | undefined => {
  const s = sql(db, "SELECT version, commit_position, prepare_position FROM projection_checkpoints WHERE name = ?")
  s.setReadBigInts(true)
  return s.get(name) as CheckpointRow | undefined
}

const positionOf = (row: CheckpointRow | undefined): Position | null =>
  row === undefined || row.commit_position === null
    ? null
    : { commit: row.commit_position, prepare: row.prepare_position ?? row.commit_position }

const tableExists = (db: DatabaseSync, name: string): boolean =>
  sql(db, "SELECT 1 AS x FROM sqlite_schema WHERE type = 'table' AND name = ?").get(name) !== undefined

/** Drops and recreates a projection's tables and puts its checkpoint back to zero. */
const recreate = (db: DatabaseSync, p: Projection): void => {
  for (const t of p.tables) db.exec(`DROP TABLE IF EXISTS ${sqlName(t)}`)
  db.exec(p.schema)
  sql(
    db,
    `INSERT INTO projection_checkpoints (name, version, commit_position, prepare_position) VALUES (?, ?, NULL, NULL)
     ON CONFLICT (name) DO UPDATE SET version = excluded.version, commit_position = NULL, prepare_position = NULL`
  ).run(p.name, p.version)
  sql(db, "DELETE FROM projection_errors WHERE name = ?").run(p.name)
}

/** SQLite primary result codes that mean the database, not the handler, failed. */
const environmental = new Set([5, 6, 7, 8, 10, 11, 13, 14, 26])
const isDatabaseFailure = (e: unknown): boolean => {
  const err = e as { errcode?: unknown; code?: unknown }
  if (err?.code === "ERR_INVALID_STATE") return true
  return typeof err?.errcode === "number" && environmental.has(err.errcode & 0xff)
}

const describe = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e))

/** Thrown out of an unguarded slice's transaction when a handler threw (see applySlice). */
const handlerThrew = new Error("a projection handler threw; the slice runs again with a savepoint per event")

const after = (a: Position, b: Position | null | undefined): boolean => b == null || comparePositions(a, b) > 0

export const prepareProjections = (
  db: DatabaseSync,
  projections: ReadonlyArray<Projection>,
  options: RunnerOptions = {}
): ProjectionRunner => {
  const names = new Set<string>()
  for (const p of projections) {
    if (names.has(p.name)) throw new Error(`two projections are named ${p.name}`)
    names.add(p.name)
  }
  const maxBatch = Math.max(1, options.maxBatch ?? 1000)

  const rebuilt: Array<string> = []
  const checkpoints = new Map<string, Position | null>()
  transaction(db, () => {
    for (const p of projections) {
      const row = readCheckpoint(db, p.name)
      const stale =
        options.reset === true ||
        row === undefined ||
        row.version !== BigInt(p.version) ||
        p.tables.some((t) => !tableExists(db, t))
      if (stale) {
        recreate(db, p)
        rebuilt.push(p.name)
        checkpoints.set(p.name, null)
      } else {
        checkpoints.set(p.name, positionOf(row))
      }
      if (!(stale && options.deferQueryIndexes === true)) p.queryIndexes?.(db)
    }
  })

  const position = (): Position | null => {
    let min: Position | null = null
    for (const p of projections) {
      const c = checkpoints.get(p.name) ?? null
      if (c === null) return null
      if (min === null || comparePositions(c, min) < 0) min = c
    }
    return min
  }

  const applyOne = (p: Projection, e: ReturnType<typeof toProjected>, errors: Array<ProjectionError>) => {
    db.exec("SAVEPOINT projection_one")
    try {
      p.apply(db, e)
    } catch (err) {
      // A database failure aborts the whole transaction (the caller rolls back).
      if (isDatabaseFailure(err)) throw err
      db.exec("ROLLBACK TO projection_one")
      p.discard?.(db)
      const error = describe(err)
      sql(
        db,
        `INSERT OR REPLACE INTO projection_errors (name, commit_position, prepare_position, event_id, event_type, error)
         VALUES (?, ?, ?, ?, ?, ?)`
      ).run(p.name, e.position.commit, e.position.prepare, e.recorded.id, e.type, error)
      errors.push({ projection: p.name, eventId: e.recorded.id, eventType: e.type, position: e.position, error })
    }
    db.exec("RELEASE projection_one")
  }

  /** Runs a transaction; when it does not commit, the handlers forget what they held back for it. */
  const rolledBackDiscards = <A>(f: () => A): A => {
    try {
      return f()
    } catch (e) {
      for (const p of projections) p.discard?.(db)
      throw e
    }
  }

  /**
   * One transaction for the slice. `guarded`: every event under its own savepoint, so a
   * handler that throws loses only that event's writes (and has them recorded). Unguarded
   * (the fast path): no savepoints at all, and the first handler that throws aborts the
   * transaction with HandlerThrew, for the caller to run the slice again guarded.
   */
  const runSlice = (events: ReadonlyArray<RecordedEvent>, errors: Array<ProjectionError>, guarded: boolean): void => {
    const committed = rolledBackDiscards(() => transaction(db, () => {
      // Read again inside the write transaction: another writer of this file may have moved them.
      const current = new Map<string, Position | null>()
      for (const p of projections) current.set(p.name, positionOf(readCheckpoint(db, p.name)))
      const advanced = new Set<string>()
      for (const r of events) {
        const targets = projections.filter((p) => after(r.position, current.get(p.name)))
        if (targets.length === 0) continue
        const e = toProjected(r)
        if (!guarded) {
          try {
            for (const p of targets) p.apply(db, e)
          } catch (err) {
            if (isDatabaseFailure(err)) throw err
            throw handlerThrew
          }
        } else {
          // One savepoint for all projections; only a failure goes one by one. Nothing is
          // held back across a savepoint, so a rollback to it forgets exactly this event's.
          // (Prepared once: db.exec would parse the statement again for every event.)
          for (const p of projections) p.flush?.(db)
          sql(db, "SAVEPOINT projection_event").run()
          try {
            for (const p of targets) p.apply(db, e)
          } catch (err) {
            if (isDatabaseFailure(err)) throw err
            db.exec("ROLLBACK TO projection_event")
            for (const p of targets) p.discard?.(db)
            for (const p of targets) applyOne(p, e, errors)
          }
          sql(db, "RELEASE projection_event").run()
        }
        for (const p of targets) {
          current.set(p.name, r.position)
          advanced.add(p.name)
        }
      }
      for (const p of projections) if (advanced.has(p.name)) p.flush?.(db)
      const update = sql(
        db,
        "UPDATE projection_checkpoints SET commit_position = ?, prepare_position = ? WHERE name = ?"
      )
      for (const name of advanced) {
        const c = current.get(name)!
        update.run(c.commit, c.prepare, name)
      }
      return current
    }))
    for (const [name, c] of committed) checkpoints.set(name, c)
  }

  // Handlers are written never to throw, so a slice first runs without a savepoint per
  // event (a savepoint per event cost about a fifth of the projections' time); when one
  // does throw, that transaction is rolled back whole and the slice runs again guarded,
  // which leaves exactly what guarded runs always leave.
  const applySlice = (events: ReadonlyArray<RecordedEvent>, errors: Array<ProjectionError>): void => {
    try {
      runSlice(events, errors, false)
    } catch (e) {
      if (e !== handlerThrew) throw e
      runSlice(events, errors, true)
    }
  }

  const applyEvents = (events: ReadonlyArray<RecordedEvent>): BatchResult => {
    const errors: Array<ProjectionError> = []
    for (let i = 0; i < events.length; i += maxBatch) applySlice(events.slice(i, i + maxBatch), errors)
    return { events: events.length, position: position(), errors }
  }

  return {
    projections,
    rebuilt,
    position,
    startFrom: () => position() ?? "start",
    checkpoints: () => projections.map((p) => ({ name: p.name, version: p.version, position: checkpoints.get(p.name) ?? null })),
    applyEvents,
    buildQueryIndexes: () => transaction(db, () => projections.forEach((p) => p.queryIndexes?.(db)))
  }
}

export interface SubscriptionHooks {
  /** Stop once the subscription reports it caught up (for rebuilds); otherwise follow live. */
  readonly untilCaughtUp?: boolean
  /** After each committed batch. */
  readonly onBatch?: (result: BatchResult) => void
  /** When the store says everything that existed at subscription time was delivered. */
  readonly onCaughtUp?: () => void
}

const isRecorded = (x: RecordedEvent | CaughtUp): x is RecordedEvent => x._tag === "RecordedEvent"

/** Subscribes from the runner's position and applies what arrives, one transaction per delivered chunk. */
export const runSubscription = (
  store: EventStoreShape,
  runner: ProjectionRunner,
  hooks: SubscriptionHooks = {}
): Effect.Effect<void, ReadError | ReadDbError> =>
  Effect.suspend(() => {
    const all = store.subscribeAll({ from: runner.startFrom(), filter: { streamPrefix: [streamPrefix] } })
    const stream =
      hooks.untilCaughtUp === true
        ? all.pipe(Stream.takeUntil((x) => x._tag === "CaughtUp"))
        : all
    return Stream.runForEachArray(stream, (chunk) =>
      Effect.gen(function* () {
        const events = chunk.filter(isRecorded)
        if (events.length > 0) {
          const result = yield* Effect.try({
            try: () => runner.applyEvents(events),
            catch: (e) => new ReadDbError({ reason: `projecting events: ${describe(e)}` })
          })
          for (const err of result.errors) {
            yield* Effect.logWarning(
              `projection ${err.projection} failed on ${err.eventType} ${err.eventId}; recorded in projection_errors: ${err.error}`
            )
          }
          hooks.onBatch?.(result)
        }
        if (events.length < chunk.length) hooks.onCaughtUp?.()
      })
    )
  })
