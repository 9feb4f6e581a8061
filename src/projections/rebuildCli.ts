// npm run rebuild-projections: rebuilds every read model in $AGENTLOG_DATA_DIR/read.db
// from the embedded event store, from position zero, printing progress. The service must
// be stopped (the store's file is locked while it runs). A rebuild that is interrupted
// leaves consistent checkpoints: the next start of the service carries on from them.
import * as fs from "node:fs"
import * as path from "node:path"
import { Cause, Effect, Exit } from "effect"
import { encodePosition } from "../eventstore/position.ts"
import { makeSqliteEventStore } from "../eventstore/sqliteEventStore.ts"
import { allProjections } from "./allProjections.ts"
import { prepareProjections, runSubscription } from "./projectionRunner.ts"
import { catchUpMode, openReadDb, ReadDbError, readDbFile } from "./readDb.ts"

const dataDir = process.env.AGENTLOG_DATA_DIR ?? "./data"
const storeSetting = process.env.AGENTLOG_EVENTSTORE ?? "sqlite"

const fail = (message: string): never => {
  process.stderr.write(`rebuild-projections: ${message}\n`)
  process.exit(1)
}

if (storeSetting !== "sqlite") {
  fail(
    `AGENTLOG_EVENTSTORE=${storeSetting}: this command rebuilds from the embedded store only. ` +
      `With EventStoreDB, stop the service and delete ${readDbFile(dataDir)}: the read models rebuild at start-up.`
  )
}
const eventsFile = path.resolve(dataDir, "events.db")
if (!fs.existsSync(eventsFile)) fail(`no event store at ${eventsFile} (set AGENTLOG_DATA_DIR)`)

const rebuildBatch = 10_000

const rate = (n: number, ms: number) => Math.round(n / Math.max(ms / 1000, 0.001)).toLocaleString("en-US")

const program = Effect.gen(function* () {
  const store = yield* Effect.acquireRelease(makeSqliteEventStore(dataDir), (s) => s.close())
  const head = yield* store.headPosition()
  // Everything in read.db is rebuilt, so it starts as a new file: one that takes the page
  // size openReadDb gives new files, whatever an older agentlog made it with. (Only now:
  // holding the store's lock says no service is using read.db.)
  for (const suffix of ["", "-wal", "-shm"]) fs.rmSync(readDbFile(dataDir) + suffix, { force: true })
  const db = yield* Effect.acquireRelease(
    Effect.try({
      try: () => openReadDb(dataDir),
      catch: (e) => (e instanceof ReadDbError ? e : new ReadDbError({ reason: String(e) }))
    }),
    (db) => Effect.sync(() => db.close())
  )
  // Big transactions: every commit writes the pages of every index it touched, again.
  // Query indexes at the end: a bulk build, not an index insert per row.
  const runner = prepareProjections(db, allProjections, { reset: true, maxBatch: rebuildBatch, deferQueryIndexes: true })
  catchUpMode(db, true)
  const started = performance.now()
  let events = 0
  let errors = 0
  let lastPrint = started
  const total = head === null ? "0" : encodePosition(head)
  process.stdout.write(
    `rebuilding ${runner.rebuilt.join(", ")} in ${readDbFile(dataDir)} from ${store.file} (head ${total})\n`
  )
  yield* runSubscription(store, runner, {
    untilCaughtUp: true,
    batch: rebuildBatch,
    onBatch: (r) => {
      events += r.events
      errors += r.errors.length
      const now = performance.now()
      if (now - lastPrint >= 1000) {
        lastPrint = now
        const at = r.position === null ? "0" : encodePosition(r.position)
        process.stdout.write(`  ${events.toLocaleString("en-US")} events, position ${at}/${total}, ${rate(events, now - started)} events/s\n`)
      }
    }
  })
  const indexing = performance.now()
  process.stdout.write(`  building the query indexes and the search index\n`)
  runner.buildQueryIndexes()
  process.stdout.write(`  indexes built in ${((performance.now() - indexing) / 1000).toFixed(2)}s\n`)
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)")
  const ms = performance.now() - started
  process.stdout.write(
    `done: ${events.toLocaleString("en-US")} events in ${(ms / 1000).toFixed(2)}s (${rate(events, ms)} events/s)` +
      (errors > 0 ? `; ${errors} handler errors recorded in projection_errors` : "") +
      "\n"
  )
}).pipe(Effect.scoped)

const exit = await Effect.runPromiseExit(program)
if (Exit.isFailure(exit)) fail(Cause.pretty(exit.cause))
