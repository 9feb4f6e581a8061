// `npm run bench`: every figure of issue 7 with its baseline from the same run, in one table.
//
//   BENCH_SCALE=1      dataset size: 100,000 sessions and 5,000,000 events at 1 (0.1 for a quick run)
//   BENCH_SEED=7       seed of every generated message and dataset (same seed, same data)
//   BENCH_DIR=.bench-data   where data goes (gitignored); the dataset is deleted at the end
//   BENCH_KEEP=1       keep the dataset (BENCH_DIR/dataset) for a look afterwards
//   BENCH_SECTIONS=supervisor,append,commands,lag,scale,web,web-live,stalled-sse,data,webhooks,workspaces   run only some
//   BENCH_PROFILE=1    --cpu-prof the service and the rebuild (BENCH_DIR/profiles; see bench/profileSummary.ts)
import { execFileSync } from "node:child_process"
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { cpus, totalmem } from "node:os"
import { join, resolve } from "node:path"
import { runAppend } from "./append.ts"
import { runCommandsBench } from "./commands.ts"
import { runDataBench } from "./data.ts"
import { runLag } from "./lag.ts"
import { runScale } from "./scale.ts"
import { runStalledSse } from "./stalledSse.ts"
import { runSupervisorBench } from "./supervisor.ts"
import { runWebBench } from "./webBench.ts"
import { runWebLive } from "./webLive.ts"
import { runWebhooksBench } from "./webhooks.ts"
import { runWorkspacesBench } from "./workspaces.ts"
import { renderTable, type Row } from "./table.ts"

const env = process.env
const scale = Number(env.BENCH_SCALE ?? "1")
if (!(scale > 0 && scale <= 10)) throw new Error(`BENCH_SCALE must be in (0, 10], got ${env.BENCH_SCALE}`)
const seed = Number(env.BENCH_SEED ?? "7")
const dir = resolve(env.BENCH_DIR ?? ".bench-data")
const sections = new Set((env.BENCH_SECTIONS ?? "supervisor,append,commands,lag,scale,web,web-live,stalled-sse,data,webhooks,workspaces").split(",").map((s) => s.trim()))
const profile = env.BENCH_PROFILE === "1"
const keep = env.BENCH_KEEP === "1"
mkdirSync(dir, { recursive: true })

// The SDK warns on every run that allowedTools shadows canUseTool (agentlog always sets both).
const emitWarning = process.emitWarning.bind(process)
process.emitWarning = ((w: string | Error, ...rest: Array<any>) => {
  const code = typeof rest[0] === "object" ? rest[0]?.code : rest[1]
  if (code === "CLAUDE_SDK_CAN_USE_TOOL_SHADOWED") return
  emitWarning(w as string, ...rest)
}) as typeof process.emitWarning

const started = performance.now()
const clock = () => `${((performance.now() - started) / 1000).toFixed(0).padStart(4)}s`
const log = (line: string) => process.stdout.write(`[${clock()}] ${line}\n`)

const loadavg = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")
const cpuModel = (() => {
  try {
    return /^model name\s*:\s*(.*)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? cpus()[0]?.model ?? "unknown"
  } catch {
    return cpus()[0]?.model ?? "unknown"
  }
})()
const nproc = (() => {
  try {
    return execFileSync("nproc", { encoding: "utf8" }).trim()
  } catch {
    return String(cpus().length)
  }
})()
const machine = `${nproc} cores (nproc), ${cpuModel}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, node ${process.version}, ${process.platform}-${process.arch}`
log(`agentlog bench, scale ${scale}, seed ${seed}: ${machine}; load average ${loadavg()}`)

const rows: Array<Row> = []
const section = async (name: string, f: () => Promise<Array<Row>>) => {
  if (!sections.has(name)) return
  // Whatever the previous section left for the kernel to write back would otherwise slow
  // this one's fsyncs (appends are synchronous=FULL).
  try {
    execFileSync("sync")
  } catch {
    // not on every system
  }
  const t = performance.now()
  log(`== ${name} (load average ${loadavg()})`)
  rows.push(...(await f()))
  log(`== ${name} done in ${((performance.now() - t) / 1000).toFixed(0)} s`)
}

const n = (x: number, min: number) => Math.max(min, Math.round(x * scale))

// The supervisor first: real claude processes, timed against each other, on a machine
// that has not yet been made busy writing data.
await section("supervisor", () => runSupervisorBench({ repetitions: n(10, 4), log }))
await section("append", () =>
  runAppend({ dir, seed, singleEvents: n(5000, 1000), batchEvents: n(50_000, 10_000), rounds: 3, log })
)
await section("commands", () => runCommandsBench({ dir, seed, longEvents: 10_000, repetitions: n(30, 10), log }))
await section("lag", () =>
  runLag({ dir, seed, sessions: 50, durationMs: n(15_000, 4_000), baselineDurationMs: n(10_000, 4_000), intervalMs: 100, log })
)
await section("scale", () =>
  runScale({
    dir,
    spec: {
      sessions: n(100_000, 200),
      events: n(5_000_000, 20_000),
      replayEvents: n(100_000, 2_000),
      transcriptEvents: n(10_000, 500),
      seed
    },
    profile,
    startupRounds: 3,
    sseClients: 50,
    log
  })
)
await section("web", () =>
  runWebBench({ dir, seed, sessions: n(100_000, 500), transcriptEvents: n(16_000, 2_000), rounds: 3, log, profile })
)
// Issue 11: the page's live lag, 20 sessions streaming.
await section("web-live", () =>
  runWebLive({ dir, seed, sessions: 20, watched: 2, durationMs: n(15_000, 5_000), intervalMs: 250, log })
)
// Issue 16: 200 SSE clients that never read, 10 minutes at scale 1 (2 more for the baseline).
await section("stalled-sse", () => runStalledSse({ dir, clients: 200, durationMs: n(600_000, 30_000), log }))
// Issue 15: export, import and migrate rates against reading the store raw.
await section("data", () => runDataBench({ dir, seed, events: n(200_000, 20_000), sessions: n(2_000, 200), log }))
// Issue 14: a webhook whose receiver takes a second per delivery, against none.
await section("webhooks", () => runWebhooksBench({ dir, requests: n(2_000, 300), log }))
// Issue 13: making a session's worktree against git worktree add alone; a run's commit against the scripted session.
await section("workspaces", () => runWorkspacesBench({ dir, files: 10_000, rounds: n(9, 5), sessions: n(6, 4), log }))
if (!keep) rmSync(join(dir, "dataset"), { recursive: true, force: true })
for (const d of ["empty"]) rmSync(join(dir, d), { recursive: true, force: true })

const order = rows.map((r, i) => [r, i] as const).sort((a, b) => a[0].item - b[0].item || a[1] - b[1]).map(([r]) => r)
const table = renderTable(order)
const total = (performance.now() - started) / 1000
const summary =
  `agentlog bench (scale ${scale}, seed ${seed}) on ${machine}, ${new Date().toISOString().slice(0, 10)}; ` +
  `ran in ${total.toFixed(0)} s; load average at the end ${loadavg()}`
process.stdout.write(`\n${summary}\n\n${table}\n`)
const missed = order.filter((r) => r.pass === false)
process.stdout.write(missed.length === 0 ? "\nevery goal met\n" : `\n${missed.length} goal(s) missed\n`)
writeFileSync(join(dir, "last-run.md"), `${summary}\n\n${table}\n`)
writeFileSync(join(dir, "last-run.json"), JSON.stringify({ scale, seed, machine, seconds: total, rows: order }, null, 2))
