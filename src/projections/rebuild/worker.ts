// The worker thread of a bulk rebuild (see bulkRebuild.ts): it applies the events the main
// thread sends, as JSON text, to its share of the projections in a file of its own, then
// builds that file's query indexes. The main thread copies its tables into read.db.
import { parentPort, workerData } from "node:worker_threads"
import { parseRecordedJson } from "../../eventstore/eventStore.ts"
import { allProjections } from "../allProjections.ts"
import { prepareProjections } from "../projectionRunner.ts"
import { bulkCache, openReadDbFile } from "../readDb.ts"
import { threadCpuMs } from "./threadCpu.ts"
import type { FromWorker, ToWorker, WorkerInput } from "./protocol.ts"

const port = parentPort
if (port === null) throw new Error("rebuild/worker.ts runs as a worker thread")
const input = workerData as WorkerInput
const db = openReadDbFile(input.file, "bulk")
bulkCache(db)
const runner = prepareProjections(
  db,
  allProjections.filter((p) => input.projections.includes(p.name)),
  { reset: true, maxBatch: input.maxBatch, deferQueryIndexes: true }
)
const reply = (m: FromWorker) => port.postMessage(m)

port.on("message", (m: ToWorker) => {
  if (m.kind === "events") {
    const r = runner.applyEvents(m.events.map(parseRecordedJson))
    reply({ kind: "applied", events: r.events, errors: r.errors })
  } else {
    runner.buildQueryIndexes()
    db.close()
    reply({ kind: "finished", cpuMs: threadCpuMs() })
    port.close()
  }
})
