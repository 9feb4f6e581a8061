// The three read figures of the scale section (session list page, a long session's
// transcript, an NDJSON replay) on an existing data dir, without generating or rebuilding
// anything: for working on them on a shared machine. Each figure is given with its raw
// SQL baseline measured in the same run and with the service's own CPU time per request
// (from /proc, so other load on the machine moves it much less than wall time).
//
//   node bench/readProbe.ts <data-dir> [rounds=1] [--profile] [--only=pages,transcript,replay]
//
// The data dir must have events.db, read.db caught up, and dataset.json (bench/generate.ts);
// the service is started on it, so give it a copy, never a shared dataset.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { ndjsonLines, rawSessionPages, startService } from "./scale.ts"
import { fmt, median, percentile } from "./table.ts"

const args = process.argv.slice(2)
const dir = args.find((a) => !a.startsWith("--") && !/^\d+$/.test(a))
if (dir === undefined) {
  process.stderr.write("usage: node bench/readProbe.ts <data-dir> [rounds] [--profile]\n")
  process.exit(2)
}
const rounds = Number(args.find((a) => /^\d+$/.test(a)) ?? "1")
const profileDir = args.includes("--profile") ? join(dir, "profiles") : undefined
const only = new Set((args.find((a) => a.startsWith("--only="))?.slice(7) ?? "pages,transcript,replay").split(","))
const ds = JSON.parse(readFileSync(join(dir, "dataset.json"), "utf8")) as {
  replaySessionId: string
  transcriptSessionId: string
}
const log = (line: string) => process.stdout.write(`${line}\n`)

/** User + system CPU time of a process so far, in ms (from /proc/<pid>/stat; clock ticks of 10 ms). */
const cpuOf = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
  return (Number(fields[11]) + Number(fields[12])) * 10
}

// ---- raw baselines, while no service holds the files (the bench's own queries) ----
/** This process's CPU time so far, in ms. */
const ownCpu = (): number => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

const raw = (() => {
  const events = new DatabaseSync(join(dir, "events.db"), { readOnly: true })
  const read = new DatabaseSync(join(dir, "read.db"), { readOnly: true })
  const replayQuery = events.prepare("SELECT * FROM events WHERE stream = ? ORDER BY revision")
  const stream = `session-${ds.replaySessionId}`
  replayQuery.all(stream)
  const replay: Array<number> = []
  let cpu = ownCpu()
  for (let i = 0; i < 3; i++) {
    const t = performance.now()
    const n = (replayQuery.all(stream) as Array<unknown>).length
    replay.push((n / (performance.now() - t)) * 1000)
  }
  const replayCpu = (ownCpu() - cpu) / 3
  cpu = ownCpu()
  const pages = rawSessionPages(read)
  const pageCpu = (ownCpu() - cpu) / pages.length
  const transcriptQuery = read.prepare("SELECT * FROM transcript WHERE session_id = ? ORDER BY seq")
  const transcript: Array<number> = []
  cpu = ownCpu()
  for (let i = 0; i < 10; i++) {
    const t = performance.now()
    transcriptQuery.all(ds.transcriptSessionId)
    transcript.push(performance.now() - t)
  }
  const transcriptCpu = (ownCpu() - cpu) / transcript.length
  events.close()
  read.close()
  return { replay: median(replay), replayCpu, pageP99: percentile(pages, 99), pageCpu, transcript: median(transcript), transcriptCpu }
})()
log(
  `raw: replay ${fmt.rate(raw.replay, "rows/s")} (CPU ${raw.replayCpu.toFixed(0)} ms), sessions page p99 ${fmt.ms(raw.pageP99)} ` +
    `(CPU ${raw.pageCpu.toFixed(2)} ms), transcript ${fmt.ms(raw.transcript)} (CPU ${raw.transcriptCpu.toFixed(1)} ms)`
)

const getJson = async (url: string): Promise<any> => {
  const r = await fetch(url)
  if (!r.ok) throw new Error(`GET ${url}: ${r.status} ${await r.text()}`)
  return r.json()
}

const svc = await startService(dir, join(dir, "probe-service.log"), profileDir)
const pid = svc.child.pid!

const sessionPages = async (): Promise<string> => {
  // Session list: 10 pages deep, 20 times (as bench/scale.ts).
  await getJson(`${svc.url}/v1/sessions?limit=50`)
  const pages: Array<number> = []
  const cpu = cpuOf(pid)
  for (let r = 0; r < 20; r++) {
    let cursor: string | null = null
    for (let p = 0; p < 10; p++) {
      const t = performance.now()
      const page: { items: Array<unknown>; nextCursor: string | null } = await getJson(
        `${svc.url}/v1/sessions?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`
      )
      pages.push(performance.now() - t)
      if (page.items.length !== 50) throw new Error(`a sessions page had ${page.items.length} items`)
      cursor = page.nextCursor
    }
  }
  const pageCpu = (cpuOf(pid) - cpu) / pages.length
  const p99 = percentile(pages, 99)
  // Where the slowest pages were (walk.page): warm-up, or spread over the run.
  const slowest = pages
    .map((ms, i) => ({ ms, at: `${Math.floor(i / 10) + 1}.${(i % 10) + 1}` }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, 3)
    .map((s) => `${fmt.ms(s.ms)} at ${s.at}`)
  return (
    `sessions page p99 ${fmt.ms(p99)} (median ${fmt.ms(median(pages))}), ${fmt.ratio(p99 / raw.pageP99)} raw; ` +
    `service CPU ${pageCpu.toFixed(2)} ms/page; slowest ${slowest.join(", ")}`
  )
}

const transcript = async (): Promise<string> => {
  const url = `${svc.url}/v1/sessions/${ds.transcriptSessionId}/transcript`
  const entries = ((await getJson(url)).entries as Array<unknown>).length
  const times: Array<number> = []
  const cpu = cpuOf(pid)
  for (let i = 0; i < 15; i++) {
    const t = performance.now()
    await getJson(url)
    times.push(performance.now() - t)
  }
  const perRequest = (cpuOf(pid) - cpu) / times.length
  const m = median(times)
  return `transcript (${entries} entries) median ${fmt.ms(m)}, ${fmt.ratio(m / raw.transcript)} raw; service CPU ${perRequest.toFixed(1)} ms/request`
}

const replay = async (): Promise<string> => {
  const url = `${svc.url}/v1/sessions/${ds.replaySessionId}/events`
  const rates: Array<number> = []
  let lines = 0
  const cpu = cpuOf(pid)
  for (let i = 0; i < 5; i++) {
    const t = performance.now()
    lines = await ndjsonLines(url)
    rates.push((lines / (performance.now() - t)) * 1000)
  }
  const perReplay = (cpuOf(pid) - cpu) / rates.length
  const rate = median(rates)
  return `NDJSON replay (${lines} events) ${fmt.rate(rate)}, ${fmt.ratio(rate / raw.replay)} raw; service CPU ${perReplay.toFixed(0)} ms/replay (${((perReplay * 1000) / lines).toFixed(1)} µs/event)`
}

try {
  for (let round = 0; round < rounds; round++) {
    log(`round ${round + 1} (load ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}):`)
    if (only.has("pages")) log(`  ${await sessionPages()}`)
    if (only.has("transcript")) log(`  ${await transcript()}`)
    if (only.has("replay")) log(`  ${await replay()}`)
  }
} finally {
  await svc.stop()
}
if (profileDir) log(`profiles in ${profileDir} (node bench/profileSummary.ts <file>)`)
