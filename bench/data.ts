// Issue 15's figures: `agentlog export` and `import` rates against reading the same store's
// rows raw (a prepared SELECT over node:sqlite, no decoding), and `migrate`'s rate into the
// EventStoreDB stand-in (test/support/esdbStandIn.ts, an in-process gRPC server: it shares
// this process's core with the client, so the figure is the client path's, not a server's).
// The commands' own functions run in-process on a generated store; export writes a file.
import { createWriteStream, mkdirSync, rmSync } from "node:fs"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { Effect } from "effect"
import { exportEvents } from "../src/cli/data/export.ts"
import { fileLines, importLines } from "../src/cli/data/import.ts"
import { copyStreams } from "../src/cli/data/migrate.ts"
import { openStore, run } from "../src/cli/data/stores.ts"
import { makeEsdbEventStore } from "../src/eventstore/esdbEventStore.ts"
import { startEsdbStandIn } from "../test/support/esdbStandIn.ts"
import { generateDataset } from "./generate.ts"
import { fmt, type Row } from "./table.ts"

export interface DataBenchOptions {
  readonly dir: string
  readonly seed: number
  readonly events: number
  readonly sessions: number
  readonly log: (line: string) => void
}

const timed = async (f: () => Promise<unknown> | unknown): Promise<number> => {
  const t = performance.now()
  await f()
  return performance.now() - t
}

export const runDataBench = async (o: DataBenchOptions): Promise<Array<Row>> => {
  const root = join(o.dir, "data-commands")
  rmSync(root, { recursive: true, force: true })
  mkdirSync(root, { recursive: true })
  try {
    const source = join(root, "source")
    generateDataset(source, { sessions: o.sessions, events: o.events, replayEvents: Math.floor(o.events / 50), transcriptEvents: Math.floor(o.events / 50), seed: o.seed })
    o.log(`data: ${o.events.toLocaleString("en-US")} events in ${o.sessions} sessions generated`)

    const rawMs = await timed(() => {
      const db = new DatabaseSync(join(source, "events.db"), { readOnly: true, readBigInts: true })
      const s = db.prepare("SELECT position, stream, revision, id, type, data, metadata, created FROM events ORDER BY position")
      s.setReturnArrays(true)
      let n = 0
      for (const _ of s.iterate()) n++
      db.close()
      if (n !== o.events) throw new Error(`raw read saw ${n} events`)
    })
    const rate = (ms: number) => o.events / (ms / 1000)
    o.log(`data: raw read ${fmt.rate(rate(rawMs))}`)

    const file = join(root, "all.ndjson")
    const exportMs = await timed(async () => {
      const out = createWriteStream(file)
      await exportEvents({ from: source, sessionIds: [], all: true }, async (text) => {
        if (!out.write(text)) await new Promise<void>((r) => out.once("drain", () => r()))
      })
      await new Promise<void>((r, j) => out.end((e?: Error | null) => (e ? j(e) : r())))
    })
    o.log(`data: export ${fmt.rate(rate(exportMs))}`)

    const target = await openStore(join(root, "imported"), false)
    const importMs = await timed(() => importLines(target.store, fileLines(file)))
    await target.close()
    o.log(`data: import ${fmt.rate(rate(importMs))}`)

    const esdb = await startEsdbStandIn({ categoryLinks: false })
    const sourceStore = await openStore(source, true)
    const esdbStore = await run(makeEsdbEventStore(esdb.connectionString))
    const migrateMs = await timed(() => copyStreams(sourceStore.store, esdbStore, () => {}))
    await Effect.runPromise(esdbStore.close())
    await sourceStore.close()
    await esdb.stop()
    o.log(`data: migrate ${fmt.rate(rate(migrateMs))}`)

    const vsRaw = (ms: number) => ({ baseline: `raw read ${fmt.rate(rate(rawMs))}`, ratio: `${fmt.ratio(ms / rawMs)} the time` })
    return [
      { item: 15, what: `agentlog export --all (${o.events.toLocaleString("en-US")} events to a file)`, figure: fmt.rate(rate(exportMs)), ...vsRaw(exportMs) },
      { item: 15, what: "agentlog import of that file into an empty embedded store", figure: fmt.rate(rate(importMs)), ...vsRaw(importMs) },
      { item: 15, what: "agentlog migrate into the EventStoreDB stand-in (in-process gRPC server)", figure: fmt.rate(rate(migrateMs)), ...vsRaw(migrateMs) }
    ]
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}
