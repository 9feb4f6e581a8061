// A rebuild of every read model from zero, as fast as this machine allows (for
// `npm run rebuild-projections`; the service's own catch-up is projectionRunner's).
//
// - It writes a new file beside read.db (`read.db-rebuild`, journal in memory, no fsync
//   until the end) and renames it into place when it is complete, so read.db is only ever
//   a whole rebuild. A rebuild cut off leaves no read.db: the service builds the read
//   models at its next start, or the command runs again.
// - With a second core, a worker thread applies a share of the projections (events_index,
//   tool_calls, sessions: about half of the work) to a file of its own, fed the events as
//   JSON text in the same batches; at the end its tables are copied in. SQLite's transfer
//   optimisation copies a table and its indexes record by record, so the copy costs a
//   small part of what applying the events did.
// - Query indexes (secondary indexes, the search index) are built once at the end, on
//   both threads at once.
import * as fs from "node:fs"
import { availableParallelism } from "node:os"
import { Worker } from "node:worker_threads"
import type { DatabaseSync } from "node:sqlite"
import { Effect, Stream } from "effect"
import { streamPrefix } from "../../domain/streamName.ts"
import { parseRecordedJson, type EventStoreShape, type ReadError, type RecordedEventJson } from "../../eventstore/eventStore.ts"
import { allProjections } from "../allProjections.ts"
import type { Projection } from "../projection.ts"
import { prepareProjections, type ProjectionError } from "../projectionRunner.ts"
import { bulkCache, openReadDbFile, ReadDbError, readDbFile, sqlName, transaction } from "../readDb.ts"
import { threadCpuMs } from "./threadCpu.ts"
import type { FromWorker, ToWorker, WorkerInput } from "./protocol.ts"

/** The worker's share: about half of a rebuild's time (CPU profile of 1M events). */
const workerShare: ReadonlySet<string> = new Set(["events_index", "tool_calls", "sessions"])

export interface BulkRebuildOptions {
  /** Events per transaction (and per message to the worker). */
  readonly batch: number
  /** Use a worker thread (default: when the machine has more than one core). */
  readonly worker?: boolean
  /** After each batch: events applied on both threads so far. */
  readonly onProgress?: (events: number) => void
  /** Once the events are applied, before the query indexes. */
  readonly onIndexing?: () => void
}

export interface BulkRebuildResult {
  readonly events: number
  readonly errors: ReadonlyArray<ProjectionError>
  readonly projections: ReadonlyArray<string>
  /**
   * After the events: this thread's query indexes, the wait for the worker's, the copy of
   * its tables, and writing the file to disk and putting it in place.
   */
  readonly phasesMs: { readonly indexes: number; readonly waited: number; readonly copied: number; readonly synced: number }
  readonly worker: boolean
  /** CPU time of each thread, in ms (on an idle machine the rebuild takes about the larger). */
  readonly cpuMs: { readonly main: number; readonly worker: number }
}

const suffixes = ["", "-journal", "-wal", "-shm"]
const remove = (file: string) => suffixes.forEach((s) => fs.rmSync(file + s, { force: true }))
const describe = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/** The worker thread, as Effects: `send` waits while two batches are in flight. */
const startWorker = (input: WorkerInput) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const worker = new Worker(new URL("./worker.ts", import.meta.url), { workerData: input })
      let inFlight = 0
      let applied = 0
      let finished = false
      let cpuMs = 0
      let failure: unknown
      let waiter: (() => void) | undefined
      const errors: Array<ProjectionError> = []
      const wake = () => {
        const w = waiter
        waiter = undefined
        w?.()
      }
      worker.on("message", (m: FromWorker) => {
        if (m.kind === "applied") {
          inFlight--
          applied += m.events
          errors.push(...m.errors)
        } else {
          finished = true
          cpuMs = m.cpuMs
        }
        wake()
      })
      worker.on("error", (e) => {
        failure ??= e
        wake()
      })
      worker.on("exit", (code) => {
        if (!finished) failure ??= new Error(`the rebuild's worker thread exited (${code})`)
        wake()
      })
      const until = (ready: () => boolean) =>
        Effect.tryPromise({
          try: () =>
            new Promise<void>((ok, fail) => {
              const check = () => (failure !== undefined ? fail(failure) : ready() ? ok() : (waiter = check))
              check()
            }),
          catch: (e) => new ReadDbError({ reason: `rebuild worker: ${describe(e)}` })
        })
      const post = (m: ToWorker) => worker.postMessage(m)
      return {
        worker,
        applied: () => applied,
        cpuMs: () => cpuMs,
        errors,
        send: (events: ReadonlyArray<RecordedEventJson>) =>
          until(() => inFlight < 2).pipe(
            Effect.andThen(
              Effect.sync(() => {
                inFlight++
                post({ kind: "events", events })
              })
            )
          ),
        finish: () => Effect.sync(() => post({ kind: "finish" })),
        finished: () => until(() => finished)
      }
    }),
    (w) => Effect.promise(() => w.worker.terminate())
  )

/**
 * The worker's tables into read.db, with their checkpoints and recorded handler errors,
 * in one transaction. Their query indexes are made on the empty tables first: with the
 * same indexes on both sides, SQLite copies index records too instead of inserting.
 */
const copyIn = (db: DatabaseSync, part: string, projections: ReadonlyArray<Projection>) => {
  for (const p of projections) p.queryIndexes?.(db)
  db.prepare("ATTACH DATABASE ? AS part").run(part)
  try {
    transaction(db, () => {
      for (const p of projections)
        for (const t of p.tables) db.exec(`INSERT INTO main.${sqlName(t)} SELECT * FROM part.${sqlName(t)}`)
      const names = JSON.stringify(projections.map((p) => p.name))
      db.prepare(
        `UPDATE main.projection_checkpoints AS m SET commit_position = w.commit_position, prepare_position = w.prepare_position
         FROM part.projection_checkpoints AS w WHERE w.name = m.name AND m.name IN (SELECT value FROM json_each(?))`
      ).run(names)
      db.prepare(
        "INSERT INTO main.projection_errors SELECT * FROM part.projection_errors WHERE name IN (SELECT value FROM json_each(?))"
      ).run(names)
    })
  } finally {
    db.exec("DETACH DATABASE part")
  }
}

/** Flushes a file (and the directory entry of a rename) to disk. */
const fsyncPath = (p: string) => {
  const fd = fs.openSync(p, "r")
  try {
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
}

/**
 * Rebuilds `<dataDir>/read.db` from every session event in `store`. The caller holds the
 * store (no service is running). Fails with ReadDbError, or the store's ReadError.
 */
export const bulkRebuild = (
  store: EventStoreShape,
  dataDir: string,
  options: BulkRebuildOptions
): Effect.Effect<BulkRebuildResult, ReadError | ReadDbError> =>
  Effect.scoped(
    Effect.gen(function* () {
      const target = readDbFile(dataDir)
      const file = `${target}-rebuild`
      const part = `${target}-rebuild-part`
      const useWorker = options.worker ?? availableParallelism() > 1
      // read.db goes first: from here until the rename, a start of the service rebuilds.
      for (const f of [target, file, part]) remove(f)
      const db = yield* Effect.acquireRelease(
        Effect.try({
          try: () => openReadDbFile(file, "bulk"),
          catch: (e) => (e instanceof ReadDbError ? e : new ReadDbError({ reason: describe(e) }))
        }),
        (db) => Effect.sync(() => db.isOpen && db.close())
      )
      bulkCache(db)
      const shared = useWorker ? allProjections.filter((p) => workerShare.has(p.name)) : []
      const own = allProjections.filter((p) => !shared.includes(p))
      const runner = prepareProjections(db, own, { reset: true, maxBatch: options.batch, deferQueryIndexes: true })
      // The worker's tables, empty at checkpoint zero until copyIn fills them.
      prepareProjections(db, shared, { reset: true, deferQueryIndexes: true })
      const helper =
        shared.length > 0
          ? yield* startWorker({ file: part, projections: shared.map((p) => p.name), maxBatch: options.batch })
          : undefined

      let events = 0
      const errors: Array<ProjectionError> = []
      const all = store.readAllJson({ fromPosition: "start", filter: { streamPrefix: [streamPrefix] } })
      yield* Stream.runForEachArray(Stream.rechunk(all, options.batch), (chunk) =>
        Effect.gen(function* () {
          if (helper !== undefined) yield* helper.send(chunk)
          const r = yield* Effect.try({
            try: () => runner.applyEvents(chunk.map(parseRecordedJson)),
            catch: (e) => new ReadDbError({ reason: `projecting events: ${describe(e)}` })
          })
          events += r.events
          errors.push(...r.errors)
          options.onProgress?.(helper === undefined ? events : Math.min(events, helper.applied()))
        })
      )
      options.onIndexing?.()
      let mark = performance.now()
      const lap = () => {
        const now = performance.now()
        const ms = now - mark
        mark = now
        return ms
      }
      if (helper !== undefined) yield* helper.finish()
      yield* Effect.try({
        try: () => runner.buildQueryIndexes(),
        catch: (e) => new ReadDbError({ reason: `building query indexes: ${describe(e)}` })
      })
      const indexes = lap()
      let waited = 0
      let copied = 0
      if (helper !== undefined) {
        // While the worker still builds its indexes: what is written so far goes to disk
        // now, not in the one fsync at the end.
        yield* Effect.try({ try: () => fsyncPath(file), catch: (e) => new ReadDbError({ reason: describe(e) }) })
        yield* helper.finished()
        waited = lap()
        errors.push(...helper.errors)
        yield* Effect.try({
          try: () => copyIn(db, part, shared),
          catch: (e) => new ReadDbError({ reason: `copying the worker's read models: ${describe(e)}` })
        })
        copied = lap()
      }
      yield* Effect.try({
        try: () => {
          // The file read.db becomes: what openReadDb expects, written to disk, then in place.
          db.exec("PRAGMA journal_mode = WAL")
          db.close()
          fsyncPath(file)
          fs.renameSync(file, target)
          fsyncPath(dataDir)
          remove(part)
        },
        catch: (e) => new ReadDbError({ reason: `putting the rebuilt read models in place: ${describe(e)}` })
      })
      const synced = lap()
      return {
        events,
        errors,
        projections: allProjections.map((p) => p.name),
        phasesMs: { indexes, waited, copied, synced },
        worker: helper !== undefined,
        cpuMs: { main: threadCpuMs(), worker: helper?.cpuMs() ?? 0 }
      }
    })
  )
