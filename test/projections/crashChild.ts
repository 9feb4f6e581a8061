// Run as a child process by rebuild.test.ts: projects the store in `dataDir` and kills
// itself with SIGKILL in the middle of a transaction, after `killAfter` events were
// applied (counted on the last projection). No finalizer, no rollback: a real crash.
import { Effect } from "effect"
import { makeSqliteEventStore } from "../../src/eventstore/sqliteEventStore.ts"
import { allProjections } from "../../src/projections/allProjections.ts"
import { prepareProjections, runSubscription } from "../../src/projections/projectionRunner.ts"
import { openReadDb } from "../../src/projections/readDb.ts"

const [dataDir, killAfterText, maxBatchText] = process.argv.slice(2)
const killAfter = Number(killAfterText)
let applied = 0
const last = allProjections[allProjections.length - 1]!
const projections = allProjections.map((p) =>
  p !== last
    ? p
    : {
        ...p,
        apply: (db: Parameters<typeof p.apply>[0], e: Parameters<typeof p.apply>[1]) => {
          p.apply(db, e)
          if (++applied === killAfter) process.kill(process.pid, "SIGKILL")
        }
      }
)
const store = await Effect.runPromise(makeSqliteEventStore(dataDir!))
const db = openReadDb(dataDir!)
const runner = prepareProjections(db, projections, { maxBatch: Number(maxBatchText) })
process.stdout.write(`resuming from ${JSON.stringify(runner.position(), (_k, v) => (typeof v === "bigint" ? `${v}` : v))}\n`)
await Effect.runPromise(runSubscription(store, runner, { untilCaughtUp: true }))
process.stdout.write("caught up without crashing\n")
