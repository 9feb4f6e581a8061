// A full disk under the real service process (`node src/main.ts`, embedded store), made
// with SQLite's max_page_count through the AGENTLOG_FAULT_PAGE_LIMITS knob (see
// src/sqlitePageLimit.ts): the limits are changed while the service runs, and each change
// is waited for by its log line.
//
// - events.db full: commands answer 503 problem+json with Retry-After (never a 500), reads
//   still answer, a run whose Claude message cannot be appended is held (the append is
//   retried, Claude waits); when space returns the run completes, commands work again, all
//   without a restart.
// - read.db full: the store takes commands as before, the projections pause and catch up
//   when space returns, ending equal to a rebuild.
// - A full store that outlasts AGENTLOG_STORE_RETRY_MS: the run is stopped and its
//   RunFailed, with the reason, is recorded exactly once (as soon as it fits: at the
//   latest when space returns).
// After each, with the service stopped: every acknowledged event is stored where it was
// acknowledged, every run ended once, read.db equals a rebuild.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { ClaudeEnv } from "../support/claudeEnv.ts"
import type { FakeAnthropic } from "../support/fakeAnthropic.ts"
import { closeOfflineWorld, openOfflineWorld } from "../support/offlineWorld.ts"
import type { ServiceProcess } from "../support/serviceProcess.ts"
import {
  accepted,
  call,
  checkReadModels,
  checkRuns,
  checkStore,
  Ledger,
  patienceMs,
  readAllEvents,
  sleep,
  startService,
  waitForStatus
} from "./crashHarness.ts"

let fake: FakeAnthropic
let claude: ClaudeEnv
let dataDir: string
let service: ServiceProcess | undefined
let control: string

beforeAll(async () => {
  ;({ fake, claude, dataDir } = await openOfflineWorld("full-disk"))
  control = join(mkdtempSync(join(tmpdir(), "agentlog-page-limits-")), "limits.json")
  writeFileSync(control, "{}")
})

afterAll(async () => {
  const left = await closeOfflineWorld({ fake, claude, dataDir }, service)
  rmSync(join(control, ".."), { recursive: true, force: true })
  expect(left, "claude processes left behind").toEqual([])
})

/** Resolves once the service wrote a log line matching `match` (counting from `from`). */
const logged = async (s: ServiceProcess, match: (l: Record<string, unknown>) => boolean, from = 0, timeoutMs = patienceMs) => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const line = s.logs.slice(from).find(match)
    if (line) return line
    if (Date.now() > deadline) throw new Error(`no log line as expected; last: ${JSON.stringify(s.logs.slice(-5))}`)
    await sleep(10)
  }
}
const says = (text: string) => (l: Record<string, unknown>) => typeof l.msg === "string" && l.msg.includes(text)

/** New page limits ({} = space back), applied by the service before this resolves. */
const limit = async (s: ServiceProcess, limits: Record<string, number>) => {
  writeFileSync(control, JSON.stringify(limits))
  const from = s.logs.length
  s.child.kill("SIGUSR2")
  await logged(s, (l) => l.msg === "fault injection: page limits applied" && JSON.stringify(l.limits) === JSON.stringify(limits), from)
}

const start = (dir: string, env: Record<string, string> = {}) => {
  writeFileSync(control, "{}")
  return startService(dir, claude, { AGENTLOG_FAULT_PAGE_LIMITS: control, ...env })
}

/** A launch answered 503 problem+json with Retry-After: what a command gets while the store is full. */
const expectUnavailable = (a: Awaited<ReturnType<typeof call>>) => {
  expect(a.status, JSON.stringify(a.body)).toBe(503)
  expect(a.contentType).toContain("application/problem+json")
  expect(a.body.type).toBe("urn:agentlog:problem:event-store-unavailable")
  expect(a.headers["retry-after"]).toMatch(/^\d+$/)
  expect(JSON.stringify(a.body)).not.toMatch(/at .*\.ts|SQLITE|events\.db/)
}

// Big enough to need pages that a full file does not have (an overflow chain longer than
// what its free list holds: read.db frees and reuses the chains of rows it updates).
const big = (c: string, n = 40_000) => c.repeat(n)
const held = (text: string) => ({ slow: { chunks: [text], delayMs: 10, hold: true } })

describe("a full disk: events.db, then read.db, reaching their limit while the service runs", () => {
  const ledger = new Ledger()
  const launch = async (body: Record<string, unknown>) =>
    ledger.answer("launch", await accepted(service!.url, "POST", "/v1/sessions", { cwd: claude.cwd, ...body }))

  beforeAll(async () => {
    // A store outage shorter than this holds a run rather than failing it.
    service = await start(dataDir, { AGENTLOG_STORE_RETRY_MS: "600000" })
  })

  it("events.db full: commands answer 503, the running run is held, and all of it works again when space returns", async () => {
    const s = service!
    const text = big("a")
    fake.setScript([held(text)])
    const { sessionId } = await launch({ query: "write a long answer" })
    await ledger.follow(s.url, sessionId)
    await fake.waitForSlowChunks(1)

    await limit(s, { "events.db": 0 })
    const from = s.logs.length
    fake.release()
    // Claude's answer cannot be appended: the supervisor retries it, and Claude waits.
    await logged(s, says("recording a Claude message: the event store is unavailable"), from)

    const body = { cwd: claude.cwd, query: big("q") }
    expectUnavailable(await call(s.url, "POST", "/v1/sessions", body))
    expectUnavailable(await call(s.url, "POST", "/v1/sessions", body))
    const during = await call(s.url, "GET", `/v1/sessions/${sessionId}`)
    expect(during.status).toBe(200)
    expect(during.body.status).toBe("running")

    await limit(s, {})
    const done = await waitForStatus(s.url, sessionId, ["completed", "failed", "interrupted", "abandoned"], 60_000)
    expect(done.status).toBe("completed")
    const again = await launch({ query: big("q") })
    expect((await waitForStatus(s.url, again.sessionId, ["completed", "failed"], 60_000)).status).toBe("completed")
    await ledger.readBack(s.url, sessionId)
    const answer = (await call(s.url, "GET", `/v1/sessions/${sessionId}/events?limit=1000`)).body.items
    expect(JSON.stringify(answer)).toContain(text)
    // 503s are logged as errors by the request log; nothing answered 500 or failed inside.
    expect(s.logs.filter((l) => l.status === 500 || (l.level === "error" && l.msg !== "http request"))).toEqual([])
    await ledger.harvest()
  }, 180_000)

  it("read.db full: commands still work, the projections pause, and catch up when space returns", async () => {
    const s = service!
    await limit(s, { "read.db": 0 })
    const from = s.logs.length
    fake.setScript([{ text: big("r", 400_000) }])
    const { sessionId } = await launch({ query: "another long answer" })
    const sse = await ledger.follow(s.url, sessionId)
    await logged(s, (l) => says("read models:")(l) && String(l.msg).includes("full"), from)
    // The store has the whole run (the live stream reads the store) while read.db cannot take it.
    await ledger.waitForFrames(0, 60_000, ["RunCompleted"])
    expect(sse.frames.some((f) => f.event === "RunCompleted")).toBe(true)
    expect((await call(s.url, "GET", `/v1/sessions/${sessionId}`)).body?.status).not.toBe("completed")

    await limit(s, {})
    // The projections' backoff (doubling, at most 30 s) decides when they try again.
    expect((await waitForStatus(s.url, sessionId, ["completed", "failed"], 90_000)).status).toBe("completed")
  }, 180_000)

  it("after both, stopped: every acknowledged event stored, every run ended once, read.db equal to a rebuild", async () => {
    await ledger.harvest()
    expect(await service!.stop()).toBe(0)
    service = undefined
    const events = await readAllEvents(dataDir)
    expect(checkStore(events, ledger).mismatches).toEqual([])
    expect(checkRuns(events, []).mismatches).toEqual([])
    expect(await checkReadModels(dataDir, { events })).toEqual([])
  }, 120_000)
})

describe("a full events.db that outlasts AGENTLOG_STORE_RETRY_MS", () => {
  it("stops the run and records its RunFailed, with the reason, once space returns", async () => {
    const dir = mkdtempSync(join(tmpdir(), "agentlog-full-disk-failed-"))
    try {
      service = await start(dir, { AGENTLOG_STORE_RETRY_MS: "500" })
      const s = service
      fake.setScript([held(big("b"))])
      const launched = await accepted(s.url, "POST", "/v1/sessions", { cwd: claude.cwd, query: "long answer" })
      await fake.waitForSlowChunks(1)
      await limit(s, { "events.db": 0 })
      const from = s.logs.length
      fake.release()
      // Retried first (as long as AGENTLOG_STORE_RETRY_MS), then given up.
      await logged(s, says("recording a Claude message: the event store is unavailable"), from)
      await logged(s, says("could not record a Claude message"), from)
      // The run's end is small enough to fit the full file's last pages or not: either it is
      // recorded now, or retried until space returns. Both record it once, with the reason.
      await limit(s, {})
      const failed = await waitForStatus(s.url, launched.sessionId, ["completed", "failed", "interrupted", "abandoned"], 60_000)
      expect(failed.status).toBe("failed")
      expect(failed.lastError).toContain("database or disk is full")
      expect(await s.stop()).toBe(0)
      service = undefined
      const events = await readAllEvents(dir)
      expect(events.filter((e) => e.type === "RunFailed")).toHaveLength(1)
      expect(checkRuns(events, []).mismatches).toEqual([])
      expect(await checkReadModels(dir, { events })).toEqual([])
    } finally {
      await service?.kill()
      service = undefined
      rmSync(dir, { recursive: true, force: true })
    }
  }, 180_000)
})
