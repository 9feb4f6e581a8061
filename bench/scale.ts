// 3, 5 and 6. Reads at scale, memory and start-up, on one generated dataset
// (100,000 sessions and 5 million events at BENCH_SCALE=1):
//
//  - generate events.db (bench/generate.ts), then build the read models with the real
//    `npm run rebuild-projections` in a child process: the full rebuild rate (6);
//  - raw node:sqlite baselines on the same files while nothing else has them open;
//  - start the real service (`node src/main.ts`) on the data, and on an empty data dir as
//    the baseline, and time each to a 200 from /readyz (6);
//  - reads over HTTP against that service: session list pages, a 10,000-event transcript,
//    replaying a 100,000-event stream as NDJSON, the tool-call audit for one tool (3);
//  - 50 live SSE clients on 50 sessions, their replay and live events, then the service's
//    peak RSS (5).
import { spawn, type ChildProcess } from "node:child_process"
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync } from "node:fs"
import { get as httpGet } from "node:http"
import { createServer } from "node:net"
import { join, resolve } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { transcriptQueries } from "../src/projections/transcript/queries.ts"
import { generateDataset, type Dataset, type DatasetSpec } from "./generate.ts"
import { fmt, median, percentile, type Row } from "./table.ts"

export interface ScaleOptions {
  readonly dir: string
  readonly spec: DatasetSpec
  /** Add --cpu-prof to the service and rebuild processes (profiles under <dir>/profiles). */
  readonly profile: boolean
  readonly startupRounds: number
  readonly sseClients: number
  readonly log: (line: string) => void
}

const repo = resolve(import.meta.dirname, "..")
const node = process.execPath

const freePort = (): Promise<number> =>
  new Promise((ok, fail) => {
    const s = createServer()
    s.once("error", fail)
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port
      s.close(() => ok(port))
    })
  })

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

export const memoryOf = (pid: number): { rss: number; hwm: number } => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8")
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? "0") * 1024
  return { rss: kb("VmRSS"), hwm: kb("VmHWM") }
}

interface Service {
  readonly url: string
  readonly child: ChildProcess
  /** Spawn to the first 200 from /readyz. */
  readonly readyMs: number
  readonly stop: () => Promise<void>
}

/** The node flags of `npm start` ("node <flags> src/main.ts"): the bench runs the service as users do. */
export const startFlags = (): Array<string> => {
  const pkg = JSON.parse(readFileSync(join(repo, "package.json"), "utf8")) as { scripts?: Record<string, string> }
  const words = (pkg.scripts?.start ?? "").split(/\s+/).filter((w) => w.length > 0)
  return words[0] === "node" ? words.slice(1).filter((w) => w.startsWith("--")) : []
}

export const startService = async (
  dataDir: string,
  logFile: string,
  profileDir: string | undefined,
  env: Record<string, string> = {}
): Promise<Service> => {
  const port = await freePort()
  const log = openSync(logFile, "a")
  const args = [...startFlags(), ...(profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : []), join(repo, "src/main.ts")]
  const started = performance.now()
  const child = spawn(node, args, {
    cwd: repo,
    env: { ...process.env, AGENTLOG_DATA_DIR: dataDir, AGENTLOG_PORT: String(port), AGENTLOG_HOST: "127.0.0.1", AGENTLOG_LOG_LEVEL: "info", ...env },
    stdio: ["ignore", log, log]
  })
  closeSync(log)
  let exited: number | null | undefined
  const exit = new Promise<void>((r) => child.once("exit", (code) => ((exited = code), r())))
  const url = `http://127.0.0.1:${port}`
  for (;;) {
    if (exited !== undefined) throw new Error(`the service exited (${exited}) before it was ready; see ${logFile}`)
    if (performance.now() - started > 600_000) {
      child.kill("SIGKILL")
      throw new Error(`the service was not ready after 600 s; see ${logFile}`)
    }
    try {
      const r = await fetch(`${url}/readyz`)
      await r.arrayBuffer()
      if (r.status === 200) break
    } catch {
      // not listening yet
    }
    await sleep(5)
  }
  const readyMs = performance.now() - started
  return {
    url,
    child,
    readyMs,
    stop: async () => {
      if (exited === undefined) child.kill("SIGTERM")
      await exit
    }
  }
}

const time = async (f: () => Promise<void>): Promise<number> => {
  const t = performance.now()
  await f()
  return performance.now() - t
}

const getJson = async (url: string): Promise<any> => {
  const r = await fetch(url)
  if (!r.ok) throw new Error(`GET ${url}: ${r.status} ${await r.text()}`)
  return r.json()
}

/** Reads an SSE stream, counting events, until aborted. */
const sseClient = (url: string, signal: AbortSignal, onEvent: () => void): Promise<void> =>
  fetch(url, { signal }).then(async (res) => {
    if (res.status !== 200) throw new Error(`SSE ${url}: ${res.status}`)
    const reader = res.body!.getReader()
    const decoder = new TextDecoder()
    let buffer = ""
    try {
      for (;;) {
        const { value, done } = await reader.read()
        if (done) return
        buffer += decoder.decode(value, { stream: true })
        let end: number
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          if (/^id: /m.test(buffer.slice(0, end))) onEvent()
          buffer = buffer.slice(end + 2)
        }
      }
    } catch (e) {
      if (!signal.aborted) throw e
    }
  }, (e) => {
    if (!signal.aborted) throw e
  })

/** The session list's raw baseline: 10 pages of 50 deep, 20 times, each page's time. */
export const rawSessionPages = (read: DatabaseSync): Array<number> => {
  // The list's own key (creation, then id), which its index serves.
  const pageQuery = read.prepare(
    "SELECT * FROM sessions WHERE (created_at < ? OR (created_at = ? AND session_id < ?)) ORDER BY created_at DESC, session_id DESC LIMIT 51"
  )
  const firstPage = read.prepare("SELECT * FROM sessions ORDER BY created_at DESC, session_id DESC LIMIT 51")
  const pages: Array<number> = []
  for (let round = 0; round < 20; round++) {
    let last: any
    for (let p = 0; p < 10; p++) {
      const t = performance.now()
      const r = (last === undefined ? firstPage.all() : pageQuery.all(last.created_at, last.created_at, last.session_id)) as Array<any>
      pages.push(performance.now() - t)
      last = r[49]
    }
  }
  return pages
}

/** GETs an NDJSON replay with node:http and counts its lines, like `curl | wc -l` would. */
export const ndjsonLines = (url: string): Promise<number> =>
  new Promise<number>((ok, fail) => {
    const req = httpGet(url, { headers: { accept: "application/x-ndjson" } }, (res) => {
      if (res.statusCode !== 200) return fail(new Error(`NDJSON replay: ${res.statusCode}`))
      let n = 0
      res.on("data", (b: Buffer) => {
        for (let at = b.indexOf(10); at >= 0; at = b.indexOf(10, at + 1)) n++
      })
      res.on("end", () => ok(n))
      res.on("error", fail)
    })
    req.on("error", fail)
  })

/** What the search figure asks: words as common as "the", phrases, a prefix, a rare token, one session. */
export const searchQueries = (ds: Dataset): ReadonlyArray<{ readonly q: string; readonly session?: string }> => [
  { q: "the" },
  { q: "session event" },
  { q: "config" },
  { q: '"read file"' },
  { q: "updat*" },
  { q: "error return value" },
  { q: "742" },
  { q: "the", session: ds.transcriptSessionId },
  { q: "file change", session: ds.transcriptSessionId }
]

const duSize = (dir: string, names: ReadonlyArray<string>): number =>
  names.reduce((n, f) => n + (existsSync(join(dir, f)) ? statSync(join(dir, f)).size : 0), 0)

export const runScale = async (o: ScaleOptions): Promise<Array<Row>> => {
  const rows: Array<Row> = []
  const dataDir = join(o.dir, "dataset")
  const emptyDir = join(o.dir, "empty")
  const profileDir = o.profile ? join(o.dir, "profiles") : undefined
  for (const d of [dataDir, emptyDir]) {
    rmSync(d, { recursive: true, force: true })
    mkdirSync(d, { recursive: true })
  }
  if (profileDir) mkdirSync(profileDir, { recursive: true })
  const { spec } = o

  // ---- data ----
  o.log(`scale: generating ${spec.events.toLocaleString("en-US")} events in ${spec.sessions.toLocaleString("en-US")} sessions (seed ${spec.seed})`)
  let lastLog = performance.now()
  const ds: Dataset = generateDataset(dataDir, spec, (n) => {
    if (performance.now() - lastLog > 10_000) {
      lastLog = performance.now()
      o.log(`  ${n.toLocaleString("en-US")} events`)
    }
  })
  o.log(`  generated in ${(ds.ms / 1000).toFixed(1)} s; events.db ${fmt.mb(duSize(dataDir, ["events.db"]))}`)

  // Raw baseline for the rebuild: reading every event back and parsing its JSON.
  const rawScan = (() => {
    const db = new DatabaseSync(join(dataDir, "events.db"))
    const limit = Math.min(spec.events, 1_000_000)
    const t = performance.now()
    let n = 0
    for (const r of db.prepare("SELECT position, stream, revision, id, type, data, metadata, created FROM events WHERE position <= ? ORDER BY position").iterate(limit) as Iterable<any>) {
      JSON.parse(r.data)
      JSON.parse(r.metadata)
      n++
    }
    const ms = performance.now() - t
    db.close()
    return (n / ms) * 1000
  })()

  // ---- 6b: full rebuild with the real command ----
  o.log("scale: rebuilding the read models with npm run rebuild-projections")
  const rebuildLog: Array<string> = []
  const rebuildMs = await time(
    () =>
      new Promise<void>((ok, fail) => {
        const args = [...(profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : []), join(repo, "src/projections/rebuildCli.ts")]
        const child = spawn(node, args, { cwd: repo, env: { ...process.env, AGENTLOG_DATA_DIR: dataDir }, stdio: ["ignore", "pipe", "inherit"] })
        let last = performance.now()
        child.stdout.on("data", (d: Buffer) => {
          for (const line of d.toString().split("\n").filter((l) => l.length > 0)) {
            rebuildLog.push(line)
            if (performance.now() - last > 15_000 || line.startsWith("done")) {
              last = performance.now()
              o.log(`  ${line.trim()}`)
            }
          }
        })
        child.once("exit", (code) => (code === 0 ? ok() : fail(new Error(`rebuild-projections exited ${code}: ${rebuildLog.slice(-3).join(" / ")}`))))
      })
  )
  const done = rebuildLog.find((l) => l.startsWith("done"))
  const rebuildRate = Number(/\(([\d,]+) events\/s\)/.exec(done ?? "")?.[1]?.replace(/,/g, "") ?? "0") || (spec.events / rebuildMs) * 1000
  const readBytes = duSize(dataDir, ["read.db", "read.db-wal"])
  rows.push({
    item: 6,
    what: `full projection rebuild, ${(spec.events / 1e6).toFixed(1)}M events (read.db ${fmt.mb(readBytes)})`,
    figure: fmt.rate(rebuildRate),
    baseline: `raw read+parse ${fmt.rate(rawScan)}`,
    ratio: fmt.ratio(rebuildRate / rawScan)
  })

  // ---- raw baselines for the reads, while no service holds the files ----
  const base = (() => {
    const events = new DatabaseSync(join(dataDir, "events.db"))
    const read = new DatabaseSync(join(dataDir, "read.db"))
    const replayStream = `session-${ds.replaySessionId}`
    // Warm the OS cache for both paths alike: one untimed pass first.
    const replayRows = () => (events.prepare("SELECT * FROM events WHERE stream = ? ORDER BY revision").all(replayStream) as Array<any>).length
    replayRows()
    const replay: Array<number> = []
    for (let i = 0; i < 3; i++) {
      const t = performance.now()
      const n = replayRows()
      replay.push((n / (performance.now() - t)) * 1000)
    }
    const pages = rawSessionPages(read)
    const transcriptQuery = read.prepare("SELECT * FROM transcript WHERE session_id = ? ORDER BY seq")
    const transcript: Array<number> = []
    let entries = 0
    for (let i = 0; i < 10; i++) {
      const t = performance.now()
      entries = (transcriptQuery.all(ds.transcriptSessionId) as Array<any>).length
      transcript.push(performance.now() - t)
    }
    const toolQuery = read.prepare("SELECT * FROM tool_calls WHERE tool_name = ? ORDER BY requested_at DESC, session_id DESC, tool_use_id DESC LIMIT 101")
    const tools: Array<number> = []
    for (let i = 0; i < 10; i++)
      for (const name of ds.toolNames) {
        const t = performance.now()
        toolQuery.all(name)
        tools.push(performance.now() - t)
      }
    const toolCalls = Number((read.prepare("SELECT count(*) AS n FROM tool_calls").get() as { n: number }).n)
    // Search: the read model's own query, in process (no HTTP).
    const search = transcriptQueries(read).search
    const searched: Array<number> = []
    for (let round = 0; round < 3; round++)
      for (const q of searchQueries(ds)) {
        const t = performance.now()
        search({ q: q.q, limit: 20, ...(q.session === undefined ? {} : { sessionId: q.session }) })
        searched.push(performance.now() - t)
      }
    const entriesAll = Number((read.prepare("SELECT count(*) AS n FROM transcript").get() as { n: number }).n)
    events.close()
    read.close()
    return { replay: median(replay), pageP99: percentile(pages, 99), transcript: median(transcript), entries, toolP99: percentile(tools, 99), toolCalls, searchP99: percentile(searched, 99), entriesAll }
  })()
  o.log(`  raw baselines: replay ${fmt.rate(base.replay, "rows/s")}, sessions page p99 ${fmt.ms(base.pageP99)}, transcript (${base.entries} entries) ${fmt.ms(base.transcript)}, tool page p99 ${fmt.ms(base.toolP99)}`)

  // ---- 6a: start-up to ready, on the data and on an empty dir ----
  o.log(`scale: starting the service as npm start does: node ${[...startFlags(), "src/main.ts"].join(" ")}`)
  const emptyMs: Array<number> = []
  const fullMs: Array<number> = []
  let emptyHwm = 0
  let service: Service | undefined
  for (let round = 0; round < o.startupRounds; round++) {
    const e = await startService(emptyDir, join(o.dir, "service-empty.log"), undefined)
    emptyMs.push(e.readyMs)
    emptyHwm = Math.max(emptyHwm, memoryOf(e.child.pid!).hwm)
    await e.stop()
    const last = round === o.startupRounds - 1
    const f = await startService(dataDir, join(o.dir, "service.log"), last ? profileDir : undefined)
    fullMs.push(f.readyMs)
    if (last) service = f
    else await f.stop()
    o.log(`  start-up round ${round + 1}: empty ${fmt.ms(e.readyMs)}, ${(spec.events / 1e6).toFixed(1)}M events ${fmt.ms(f.readyMs)}`)
  }
  const ready = median(fullMs)
  rows.push({
    item: 6,
    what: `start-up to ready, ${(spec.events / 1e6).toFixed(1)}M events, checkpoints caught up`,
    figure: fmt.ms(ready),
    baseline: `empty data dir ${fmt.ms(median(emptyMs))}`,
    ratio: fmt.ratio(ready / median(emptyMs)),
    goal: "< 1 s",
    pass: ready < 1000
  })

  const svc = service!
  try {
    // ---- 3: reads over HTTP ----
    o.log("scale: reads over HTTP")
    const url = svc.url
    // Session list: 10 pages deep (following nextCursor), 20 times.
    await getJson(`${url}/v1/sessions?limit=50`)
    const pages: Array<number> = []
    for (let round = 0; round < 20; round++) {
      let cursor: string | null = null
      for (let p = 0; p < 10; p++) {
        const t = performance.now()
        const page: { items: Array<unknown>; nextCursor: string | null } = await getJson(
          `${url}/v1/sessions?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`
        )
        pages.push(performance.now() - t)
        if (page.items.length !== 50) throw new Error(`a sessions page had ${page.items.length} items`)
        cursor = page.nextCursor
      }
    }
    const pageP99 = percentile(pages, 99)
    rows.push({
      item: 3,
      what: `GET /v1/sessions page (50 of ${spec.sessions.toLocaleString("en-US")}), p99 of ${pages.length}`,
      figure: fmt.ms(pageP99),
      baseline: `raw SQL ${fmt.ms(base.pageP99)}`,
      ratio: fmt.ratio(pageP99 / base.pageP99),
      goal: "< 10 ms",
      pass: pageP99 < 10
    })

    // A 10,000-event session's transcript.
    const transcriptUrl = `${url}/v1/sessions/${ds.transcriptSessionId}/transcript`
    const first = await getJson(transcriptUrl)
    const entries = (first.entries as Array<unknown>).length
    const transcript: Array<number> = []
    for (let i = 0; i < 15; i++) transcript.push(await time(async () => void (await getJson(transcriptUrl))))
    const tMedian = median(transcript)
    rows.push({
      item: 3,
      what: `transcript of a ${spec.transcriptEvents.toLocaleString("en-US")}-event session (${entries} entries), median of 15`,
      figure: `${fmt.ms(tMedian)} (p99 ${fmt.ms(percentile(transcript, 99))})`,
      baseline: `raw SQL ${fmt.ms(base.transcript)}`,
      ratio: fmt.ratio(tMedian / base.transcript),
      goal: "< 50 ms",
      pass: tMedian < 50
    })

    // Replaying a 100,000-event stream as NDJSON.
    const replayUrl = `${url}/v1/sessions/${ds.replaySessionId}/events`
    const replay: Array<number> = []
    for (let i = 0; i < 5; i++) {
      // node:http as the client: it only counts lines, like `curl | wc -l` would.
      const t = performance.now()
      const lines = await ndjsonLines(replayUrl)
      if (lines !== spec.replayEvents) throw new Error(`NDJSON replay gave ${lines} lines, wanted ${spec.replayEvents}`)
      replay.push((lines / (performance.now() - t)) * 1000)
    }
    o.log(`  NDJSON replays: ${replay.map((r) => fmt.rate(r)).join(", ")}`)
    const replayRate = median(replay)
    rows.push({
      item: 3,
      what: `replay a ${spec.replayEvents.toLocaleString("en-US")}-event stream, /events NDJSON, median of 5`,
      figure: fmt.rate(replayRate),
      baseline: `raw SELECT ${fmt.rate(base.replay, "rows/s")}`,
      ratio: fmt.ratio(replayRate / base.replay),
      goal: ">= 200,000 ev/s",
      pass: replayRate >= 200_000
    })

    // The audit for one tool name over every tool call of every session.
    const tools: Array<number> = []
    for (let i = 0; i < 10; i++)
      for (const name of ds.toolNames) {
        const t = performance.now()
        const page = await getJson(`${url}/v1/tool-calls?tool=${encodeURIComponent(name)}&limit=100`)
        tools.push(performance.now() - t)
        if (!Array.isArray(page.items)) throw new Error("tool-calls: no items")
      }
    const toolP99 = percentile(tools, 99)
    rows.push({
      item: 3,
      what: `GET /v1/tool-calls?tool=<one of ${ds.toolNames.length}> (100 of ${base.toolCalls.toLocaleString("en-US")} calls), p99 of ${tools.length}`,
      figure: fmt.ms(toolP99),
      baseline: `raw SQL ${fmt.ms(base.toolP99)}`,
      ratio: fmt.ratio(toolP99 / base.toolP99),
      goal: "< 100 ms",
      pass: toolP99 < 100
    })

    // Full-text search (issue 12): common words, phrases, prefixes, a rare token, and
    // inside the 10,000-event session.
    const searches: Array<number> = []
    for (let round = 0; round < 5; round++)
      for (const q of searchQueries(ds)) {
        const t = performance.now()
        const hits = await getJson(`${url}/v1/search?q=${encodeURIComponent(q.q)}&limit=20${q.session === undefined ? "" : `&session=${q.session}`}`)
        searches.push(performance.now() - t)
        if (!Array.isArray(hits.items)) throw new Error("search: no items")
      }
    const searchP99 = percentile(searches, 99)
    rows.push({
      item: 3,
      what: `GET /v1/search?q= over ${base.entriesAll.toLocaleString("en-US")} transcript entries (${searchQueries(ds).length} queries), p99 of ${searches.length}`,
      figure: fmt.ms(searchP99),
      baseline: `in-process query ${fmt.ms(base.searchP99)}`,
      ratio: fmt.ratio(searchP99 / base.searchP99),
      goal: "< 50 ms",
      pass: searchP99 < 50
    })

    // ---- 5: 50 live SSE clients, then peak RSS ----
    o.log(`scale: ${o.sseClients} live SSE clients`)
    const ids = ds.sampleSessionIds.slice(0, o.sseClients)
    const expected = new Map<string, number>()
    for (const id of ids) expected.set(id, Number((await getJson(`${url}/v1/sessions/${id}`)).lastRevision) + 1)
    const received = new Map<string, number>(ids.map((id) => [id, 0]))
    const abort = new AbortController()
    const sseStart = performance.now()
    const clients = ids.map((id) => sseClient(`${url}/v1/sessions/${id}/events/live`, abort.signal, () => received.set(id, received.get(id)! + 1)))
    const allHave = async (extra: number, what: string) => {
      const deadline = performance.now() + 60_000
      while (ids.some((id) => received.get(id)! < expected.get(id)! + extra)) {
        if (performance.now() > deadline) throw new Error(`SSE clients did not get ${what} in 60 s`)
        await sleep(5)
      }
    }
    await allHave(0, "their replay")
    const replayedMs = performance.now() - sseStart
    const liveRounds = 5
    const liveStart = performance.now()
    for (let r = 0; r < liveRounds; r++)
      for (const id of ids) {
        const res = await fetch(`${url}/v1/sessions/${id}`, {
          method: "PATCH",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ title: `bench title ${r}` })
        })
        if (!res.ok) throw new Error(`PATCH: ${res.status} ${await res.text()}`)
        await res.arrayBuffer()
      }
    await allHave(liveRounds, "their live events")
    const liveMs = performance.now() - liveStart
    const mem = memoryOf(svc.child.pid!)
    o.log(
      `  ${ids.length} clients replayed their sessions in ${fmt.ms(replayedMs)}; ${liveRounds * ids.length} live events delivered to all in ${fmt.ms(liveMs)}; ` +
        `service RSS now ${fmt.mb(mem.rss)}, peak ${fmt.mb(mem.hwm)}`
    )
    abort.abort()
    await Promise.allSettled(clients)
    rows.push({
      item: 5,
      what: `service peak RSS, ${(spec.events / 1e6).toFixed(1)}M events, ${ids.length} live SSE clients (after all reads)`,
      figure: fmt.mb(mem.hwm),
      baseline: `empty data dir, idle ${fmt.mb(emptyHwm)}`,
      ratio: fmt.ratio(mem.hwm / emptyHwm),
      goal: "< 300 MB",
      pass: mem.hwm < 300 * 1048576
    })
  } finally {
    await svc.stop()
  }
  return rows
}
