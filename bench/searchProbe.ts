// The search figure in process, without the rest of the scale section: the bench's queries
// (scale.ts `searchQueries`) through the read model's own `search` against a built read.db,
// opened read-only. Per query and over all: wall p50/p99 and CPU time (the machine is
// shared, so compare CPU, or wall within one run). Usage:
//   node bench/searchProbe.ts <data dir with read.db and dataset.json> [rounds=5] [cold]
// `cold`: a fresh connection per round, as the bench's first round meets it.
// SEARCH_QUERIES=<path of another queries.ts> measures another version of the search,
// SEARCH_PRAGMAS="PRAGMA …" other settings of the connection.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import type { Dataset } from "./generate.ts"
import { searchQueries } from "./scale.ts"
import { median, percentile } from "./table.ts"

const [dir, roundsArg, mode] = process.argv.slice(2)
const { transcriptQueries } = (await import(process.env.SEARCH_QUERIES ?? "../src/projections/transcript/queries.ts")) as typeof import("../src/projections/transcript/queries.ts")
if (!dir) {
  process.stderr.write("usage: node bench/searchProbe.ts <data dir> [rounds] [cold]\n")
  process.exit(2)
}
const ds = JSON.parse(readFileSync(join(dir, "dataset.json"), "utf8")) as Dataset
const rounds = Number(roundsArg ?? 5)
const open = () => {
  const db = new DatabaseSync(join(dir, "read.db"), { readOnly: true })
  // The service's connection has its schema loaded long before a search.
  db.prepare("SELECT count(*) FROM sqlite_schema").get()
  // SEARCH_PRAGMAS="PRAGMA mmap_size = …": the connection's settings to try.
  if (process.env.SEARCH_PRAGMAS) db.exec(process.env.SEARCH_PRAGMAS)
  return db
}
let db = open()
const queries = searchQueries(ds)
const wall = queries.map(() => [] as Array<number>)
const cpu = queries.map(() => [] as Array<number>)
const hits = queries.map(() => 0)
for (let round = 0; round < rounds; round++) {
  if (mode === "cold" && round > 0) {
    db.close()
    db = open()
  }
  const search = transcriptQueries(db).search
  queries.forEach((q, i) => {
    const c = process.cpuUsage()
    const t = performance.now()
    hits[i] = search({ q: q.q, limit: 20, ...(q.session === undefined ? {} : { sessionId: q.session }) }).length
    wall[i]!.push(performance.now() - t)
    const d = process.cpuUsage(c)
    cpu[i]!.push((d.user + d.system) / 1000)
  })
}
db.close()
const ms = (n: number) => `${n.toFixed(1)} ms`
queries.forEach((q, i) =>
  console.log(
    `${(q.q + (q.session ? " (session)" : "")).padEnd(28)} hits ${String(hits[i]).padStart(3)}  wall p50 ${ms(median(wall[i]!)).padStart(9)} max ${ms(Math.max(...wall[i]!)).padStart(9)}  cpu p50 ${ms(median(cpu[i]!)).padStart(9)} max ${ms(Math.max(...cpu[i]!)).padStart(9)}`
  )
)
const all = wall.flat()
const allCpu = cpu.flat()
console.log(`all ${all.length}: wall p50 ${ms(median(all))} p99 ${ms(percentile(all, 99))}; cpu p50 ${ms(median(allCpu))} p99 ${ms(percentile(allCpu, 99))}`)
