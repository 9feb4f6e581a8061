// npm run rebuild-projections: rebuilds every read model in $AGENTLOG_DATA_DIR/read.db
// from the embedded event store, from position zero, printing progress. The service must
// be stopped (the store's file is locked while it runs). read.db is replaced only by a
// complete rebuild: one that is interrupted leaves none, and the next start of the
// service builds the read models itself (see rebuild/bulkRebuild.ts).
import * as fs from "node:fs"
import * as path from "node:path"
import { Cause, Effect, Exit } from "effect"
import { encodePosition } from "../eventstore/position.ts"
import { makeSqliteEventStore } from "../eventstore/sqliteEventStore.ts"
import { allProjections } from "./allProjections.ts"
import { readDbFile } from "./readDb.ts"
import { bulkRebuild } from "./rebuild/bulkRebuild.ts"

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
// 0: one thread; 1: a worker thread too; unset: a worker thread when there is a second core.
const workerSetting = process.env.AGENTLOG_REBUILD_WORKER

const rate = (n: number, ms: number) => Math.round(n / Math.max(ms / 1000, 0.001)).toLocaleString("en-US")

const program = Effect.gen(function* () {
  const store = yield* Effect.acquireRelease(makeSqliteEventStore(dataDir), (s) => s.close())
  const head = yield* store.headPosition()
  const total = head === null ? "0" : encodePosition(head)
  const started = performance.now()
  let lastPrint = started
  let indexing = started
  process.stdout.write(`rebuilding ${allProjections.map((p) => p.name).join(", ")} in ${readDbFile(dataDir)} from ${store.file} (head ${total})\n`)
  // Only now: holding the store's lock says no service is using read.db.
  const result = yield* bulkRebuild(store, dataDir, {
    batch: rebuildBatch,
    ...(workerSetting === "0" || workerSetting === "1" ? { worker: workerSetting === "1" } : {}),
    onProgress: (events) => {
      const now = performance.now()
      if (now - lastPrint < 1000) return
      lastPrint = now
      process.stdout.write(`  ${events.toLocaleString("en-US")} events, ${rate(events, now - started)} events/s\n`)
    },
    onIndexing: () => {
      indexing = performance.now()
      process.stdout.write(`  building the query indexes and the search index\n`)
    }
  })
  const sec = (ms: number) => `${(ms / 1000).toFixed(1)}s`
  const p = result.phasesMs
  process.stdout.write(
    `  indexes built in ${((performance.now() - indexing) / 1000).toFixed(2)}s` +
      (result.worker
        ? ` (two threads: search and own indexes ${sec(p.indexes)}, then the worker's ${sec(p.waited)} more, its tables copied in ${sec(p.copied)}, written to disk ${sec(p.synced)})`
        : ` (written to disk ${sec(p.synced)})`) +
      "\n"
  )
  const ms = performance.now() - started
  process.stdout.write(
    `done: ${result.events.toLocaleString("en-US")} events in ${(ms / 1000).toFixed(2)}s (${rate(result.events, ms)} events/s)` +
      (result.errors.length > 0 ? `; ${result.errors.length} handler errors recorded in projection_errors` : "") +
      `; CPU ${sec(result.cpuMs.main)}` +
      (result.worker ? ` + ${sec(result.cpuMs.worker)} (worker thread)` : "") +
      "\n"
  )
}).pipe(Effect.scoped)

const exit = await Effect.runPromiseExit(program)
if (Exit.isFailure(exit)) fail(Cause.pretty(exit.cause))
