// npm run test:load — a bounded load test on loopback: autocannon against the read routes
// (the session list, transcripts, a session's events, the audit over all events) of the
// real service process, while sessions run through the real `claude` binary and the fake
// Messages API (tool calls streaming in, projections updating). Asserts no connection
// error, no timeout and no non-2xx answer; prints p50/p99 latency per route. Latency is
// reported, not asserted: it depends on the machine.
import { readFileSync } from "node:fs"
import autocannon from "autocannon"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { ClaudeEnv } from "../support/claudeEnv.ts"
import type { FakeAnthropic, Turn } from "../support/fakeAnthropic.ts"
import { startServiceProcess, type ServiceProcess } from "../support/serviceProcess.ts"
import { accepted, sessionOf, sleep, waitForStatus } from "../crash/crashHarness.ts"
import { closeOfflineWorld, openOfflineWorld } from "../support/offlineWorld.ts"

const secondsPerRoute = Number(process.env.AGENTLOG_LOAD_SECONDS ?? 4)
const connections = 10
/** AGENTLOG_LOAD_PROFILE=<dir>: the service writes a CPU profile there (node --cpu-prof). */
const profileDir = process.env.AGENTLOG_LOAD_PROFILE

let fake: FakeAnthropic
let claude: ClaudeEnv
let dataDir: string
let service: ServiceProcess | undefined

beforeAll(async () => {
  ;({ fake, claude, dataDir } = await openOfflineWorld("load"))
})

afterAll(async () => {
  const left = await closeOfflineWorld({ fake, claude, dataDir }, service)
  expect(left, "claude processes left behind").toEqual([])
})

const tools = (n: number, tag: string): Turn => ({
  text: `running ${n} commands`,
  toolUse: Array.from({ length: n }, (_, i) => ({ name: "Bash", input: { command: `echo ${tag}-${i}` } }))
})
/** Turns for the sessions: a few rounds of tool calls, then an answer; again and again. */
const script = (rounds: number): Array<Turn> =>
  Array.from({ length: rounds }, (_, i) => [tools(4, `r${i}a`), tools(3, `r${i}b`), { text: `answer ${i}` }]).flat()

describe("reads under load while sessions run", () => {
  it("answers every read with 2xx, no errors; p50/p99 per route", async () => {
    service = await startServiceProcess({
      dataDir,
      claude,
      env: { AGENTLOG_MAX_RUNNING: "3", ...(profileDir ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profileDir}` } : {}) }
    })
    const pid = service.child.pid!
    const url = service.url
    fake.setScript(script(400))
    const launch = async (i: number) =>
      (await accepted(url, "POST", "/v1/sessions", { query: `job ${i}`, cwd: claude.cwd, allowedTools: ["Bash"], title: `load ${i}` }))
        .sessionId as string

    // Something to read: a few finished sessions.
    const sessions: Array<string> = []
    for (let i = 0; i < 4; i++) sessions.push(await launch(i))
    for (const s of sessions) await waitForStatus(url, s, ["completed"], 60_000)

    // Sessions keep running for the whole load: a new one whenever fewer than three are live.
    let driving = true
    let launchedDuringLoad = 0
    const live = new Set<string>()
    const driver = (async () => {
      while (driving) {
        for (const s of [...live]) {
          const v = await sessionOf(url, s)
          if (v && ["completed", "failed", "interrupted", "abandoned"].includes(v.status)) live.delete(s)
        }
        while (live.size < 3 && driving) {
          const s = await launch(100 + launchedDuringLoad++)
          live.add(s)
          sessions.push(s)
        }
        await sleep(100)
      }
    })()
    const eventsBefore = await countEvents(url)

    const routes: Array<[string, () => Array<string>]> = [
      ["GET /v1/sessions", () => ["/v1/sessions?limit=50"]],
      ["GET /v1/sessions/:id/transcript", () => sessions.map((s) => `/v1/sessions/${s}/transcript`)],
      ["GET /v1/sessions/:id/events", () => sessions.map((s) => `/v1/sessions/${s}/events?limit=200`)],
      ["GET /v1/events", () => ["/v1/events?limit=100"]]
    ]
    const results: Array<{ route: string; r: autocannon.Result; cpuMs: number }> = []
    try {
      for (const [route, paths] of routes) {
        const cpu0 = cpuMsOf(pid)
        const r = await autocannon({
          url,
          connections,
          duration: secondsPerRoute,
          timeout: 10,
          requests: paths().map((path) => ({ method: "GET" as const, path }))
        })
        results.push({ route, r, cpuMs: cpuMsOf(pid) - cpu0 })
      }
    } finally {
      driving = false
      await driver
    }
    const eventsAppended = (await countEvents(url)) - eventsBefore
    for (const s of live) await waitForStatus(url, s, ["completed", "failed"], 60_000)
    const completed = (await Promise.all(sessions.map((s) => sessionOf(url, s)))).filter((v) => v?.status === "completed").length
    expect(await service.stop()).toBe(0)
    service = undefined

    // The service's CPU per request (its claude runs and projections included) depends far
    // less on what else the machine is doing than requests per second do.
    const lines = results.map(
      ({ route, r, cpuMs }) =>
        `load: ${route.padEnd(32)} p50 ${String(r.latency.p50).padStart(3)} ms  p99 ${String(r.latency.p99).padStart(3)} ms  ` +
          `${r.requests.total} requests (${Math.round(r.requests.average)}/s)  service CPU ${(cpuMs / Math.max(1, r.requests.total)).toFixed(1)} ms/request  ` +
          `errors ${r.errors}  timeouts ${r.timeouts}  non-2xx ${r.non2xx}`
    )
    lines.push(
      `load: ${connections} connections, ${secondsPerRoute} s per route; meanwhile ${launchedDuringLoad} sessions launched through the real claude, ` +
        `${eventsAppended} events appended; ${completed}/${sessions.length} sessions completed`
    )
    console.log(lines.join("\n"))
    for (const { route, r } of results) {
      expect(r.errors, route).toBe(0)
      expect(r.timeouts, route).toBe(0)
      expect(r.non2xx, route).toBe(0)
      expect(r.requests.total, route).toBeGreaterThan(0)
    }
    expect(launchedDuringLoad).toBeGreaterThan(0)
    expect(eventsAppended).toBeGreaterThan(0)
    expect(completed).toBe(sessions.length)
  })
})

/** CPU time (user + system) a process has used so far, in ms (Linux). */
const cpuMsOf = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks
}
const clockTicks = 100

/** Every event in the store, counted through the audit route. */
const countEvents = async (url: string): Promise<number> => {
  let n = 0
  let cursor: string | null = null
  for (;;) {
    const r = await fetch(`${url}/v1/events?limit=500${cursor ? `&cursor=${cursor}` : ""}`)
    const page = (await r.json()) as { items: Array<unknown>; nextCursor: string | null }
    n += page.items.length
    if (!page.nextCursor) return n
    cursor = page.nextCursor
  }
}
