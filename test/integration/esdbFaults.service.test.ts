// Connection faults through the whole service: the real service process on the EventStoreDB
// adapter, pointed at the in-process stand-in, which is stopped and restarted (same port,
// same data) while the service runs.
//
// - While the store is down, commands over HTTP answer 503 problem+json with Retry-After
//   (never 500), reads served from the read models still answer, and the process stays up.
// - When it is back, commands work again, the projections' subscription resumes from its
//   checkpoint, and read.db ends up exactly as a rebuild from the store would make it (no
//   event lost, none applied twice).
// - A Claude message whose append fails mid-run is appended again with the same event ids
//   while the store is unavailable (Claude waits); when the outage outlasts
//   AGENTLOG_STORE_RETRY_MS the run is stopped and its RunFailed is recorded as soon as the
//   store is back: a run is never left "running" with no process behind it.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { makeEsdbEventStore } from "../../src/eventstore/esdbEventStore.ts"
import { dump, openReadDb, rebuild } from "../projections/projectionsFixtures.ts"
import { makeClaudeEnv, type ClaudeEnv } from "../support/claudeEnv.ts"
import { startEsdbStandIn, type EsdbStandIn } from "../support/esdbStandIn.ts"
import { startFakeAnthropic, type FakeAnthropic, type Turn } from "../support/fakeAnthropic.ts"
import { startServiceProcess, type ServiceProcess } from "../support/serviceProcess.ts"
import { jsonCall } from "../support/jsonCall.ts"

let esdb: EsdbStandIn | undefined
let fake: FakeAnthropic | undefined
let claude: ClaudeEnv | undefined
let service: ServiceProcess | undefined
let dataDir: string | undefined

afterEach(async () => {
  await service?.kill()
  await fake?.close()
  await esdb?.stop()
  claude?.cleanup()
  if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  service = fake = esdb = claude = dataDir = undefined
})

const start = async (script: Array<Turn>, env: Record<string, string> = {}) => {
  esdb = await startEsdbStandIn()
  fake = await startFakeAnthropic(script)
  claude = makeClaudeEnv(fake.url)
  dataDir = mkdtempSync(join(tmpdir(), "agentlog-esdb-faults-"))
  service = await startServiceProcess({ dataDir, claude, env: { AGENTLOG_EVENTSTORE: esdb.connectionString, ...env } })
  return { esdb, fake, claude, service, dataDir }
}

const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  jsonCall(service!.url, method, path, body, headers)

type Answer = Awaited<ReturnType<typeof call>>

const session = async (sessionId: string) => (await call("GET", `/v1/sessions/${sessionId}`)).body

const waitFor = async <A>(what: string, probe: () => Promise<A | undefined>, timeoutMs = 20_000): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await probe()
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Waits until the session (as the read models show it) is in one of `statuses`, after `runs` runs. */
const waitForStatus = (sessionId: string, statuses: ReadonlyArray<string>, runs = 1) =>
  waitFor(`session ${sessionId} to be ${statuses.join("/")} after ${runs} run(s)`, async () => {
    const s = await session(sessionId)
    return s && s.runs >= runs && statuses.includes(s.status) ? s : undefined
  })

const launch = async (body: Record<string, unknown>, headers?: Record<string, string>) => {
  const r = await call("POST", "/v1/sessions", { cwd: claude!.cwd, ...body }, headers)
  expect(r.status, r.text).toBe(202)
  return r.body as { sessionId: string; runId: string; position: string }
}

const history = async (sessionId: string): Promise<Array<any>> => {
  const r = await call("GET", `/v1/sessions/${sessionId}/events?limit=1000`)
  expect(r.status, r.text).toBe(200)
  return r.body.items
}

/** The store is down: a clean 503 problem, with Retry-After, naming the event store. */
const expectUnavailable = (r: Answer) => {
  expect(r.status, r.text).toBe(503)
  expect(r.headers.get("content-type")).toMatch(/^application\/problem\+json/)
  expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0)
  expect(r.body).toMatchObject({
    type: "urn:agentlog:problem:event-store-unavailable",
    status: 503,
    title: "Event store unavailable",
    detail: expect.stringMatching(/event store is unavailable/)
  })
}

/** A session's record is whole: revisions 0..n-1, every event id once. */
const expectWhole = (events: ReadonlyArray<any>) => {
  expect(events.map((e) => e.revision)).toEqual(events.map((_, i) => i))
  expect(new Set(events.map((e) => e.id)).size).toBe(events.length)
}

/**
 * Stops the service cleanly, then rebuilds every read model from the store into a scratch
 * read.db: the service's own read.db must be byte for byte the same.
 */
const expectReadModelsEqualARebuild = async () => {
  expect(await service!.stop()).toBe(0)
  const live = openReadDb(dataDir!)
  const incremental = dump(live)
  live.close()
  const scratch = mkdtempSync(join(tmpdir(), "agentlog-esdb-rebuild-"))
  const store = await Effect.runPromise(makeEsdbEventStore(esdb!.connectionString))
  try {
    const db = openReadDb(scratch)
    await rebuild(store, db)
    const rebuilt = dump(db)
    db.close()
    expect(incremental).toBe(rebuilt)
  } finally {
    await Effect.runPromise(store.close())
    rmSync(scratch, { recursive: true, force: true })
  }
}

/** No request was answered 500, and nothing failed inside a request handler. */
const expectNoInternalErrors = () => {
  const logs = service!.logs
  expect(logs.filter((l) => l.msg === "http request" && l.status === 500)).toEqual([])
  expect(logs.filter((l) => l.msg === "request failed")).toEqual([])
}

describe("the service on EventStoreDB when the connection drops", () => {
  it("answers commands with 503 while the store is down, stays up, and afterwards works on with read models equal to a rebuild", async () => {
    const { esdb, fake, claude, service } = await start([{ text: "first answer" }])
    const a = await launch({ query: "first question" })
    expect(await waitForStatus(a.sessionId, ["completed", "failed"])).toMatchObject({ status: "completed", runs: 1 })
    const beforeOutage = await history(a.sessionId)
    const reads = esdb.calls["/event_store.client.streams.Streams/Read"] ?? 0

    await esdb.stop()

    // Commands: 503, nothing half-done, whichever command it is.
    expectUnavailable(await call("POST", "/v1/sessions", { query: "during the outage", cwd: claude.cwd }, { "idempotency-key": "outage-launch" }))
    expectUnavailable(await call("POST", "/v1/sessions", { query: "no key", cwd: claude.cwd }))
    expectUnavailable(await call("POST", `/v1/sessions/${a.sessionId}/continue`, { query: "go on" }))
    expectUnavailable(await call("POST", `/v1/sessions/${a.sessionId}/fork`, { query: "branch off" }))
    expectUnavailable(await call("PATCH", `/v1/sessions/${a.sessionId}`, { title: "renamed in the dark" }))
    expectUnavailable(await call("POST", `/v1/sessions/${a.sessionId}/archive`))
    // A session this instance has not seen cannot be told apart from a missing one: 503, not 404.
    expectUnavailable(await call("POST", `/v1/sessions/${crypto.randomUUID()}/continue`, { query: "who?" }))
    // Reads from the store: 503 as well.
    expectUnavailable(await call("GET", `/v1/sessions/${a.sessionId}/events`))
    // Reads from the read models still answer; readiness says why it is not ready.
    expect(await session(a.sessionId)).toMatchObject({ status: "completed", runs: 1, title: null, archived: false })
    expect((await call("GET", `/v1/sessions/${a.sessionId}/transcript`)).status).toBe(200)
    expect((await call("GET", "/healthz")).status).toBe(200)
    const ready = await call("GET", "/readyz")
    expect(ready.status).toBe(503)
    expect(ready.body).toMatchObject({ status: "not_ready", store: "unavailable" })
    expect(service.child.exitCode).toBeNull()

    await esdb.restart()

    // Commands work again at once, and the outage left nothing behind.
    expect(await history(a.sessionId)).toEqual(beforeOutage)
    fake.push({ text: "second answer" })
    const cont = await call("POST", `/v1/sessions/${a.sessionId}/continue`, { query: "go on" })
    expect(cont.status, cont.text).toBe(202)
    expect(await waitForStatus(a.sessionId, ["completed", "failed"], 2)).toMatchObject({ status: "completed", runs: 2 })
    // The launch refused with 503 can be retried with its Idempotency-Key: it runs once now.
    fake.push({ text: "answer after the outage" })
    const b = await launch({ query: "during the outage" }, { "idempotency-key": "outage-launch" })
    expect(await waitForStatus(b.sessionId, ["completed", "failed"])).toMatchObject({ status: "completed", runs: 1 })
    const renamed = await call("PATCH", `/v1/sessions/${a.sessionId}`, { title: "renamed in the light" })
    expect(renamed.status, renamed.text).toBe(202)

    // The projections resumed (their subscription was reopened) and caught up with everything.
    expect(esdb.calls["/event_store.client.streams.Streams/Read"]).toBeGreaterThan(reads)
    const aEvents = await history(a.sessionId)
    expectWhole(aEvents)
    expect(aEvents.slice(0, beforeOutage.length)).toEqual(beforeOutage)
    expect(aEvents.filter((e) => e.type === "RunCompleted")).toHaveLength(2)
    const aNow = (await call("GET", `/v1/sessions/${a.sessionId}?minPosition=${encodeURIComponent(renamed.body.position)}`)).body
    expect(aNow).toMatchObject({ title: "renamed in the light", runs: 2, lastRevision: aEvents.length - 1 })
    const transcript = (await call("GET", `/v1/sessions/${a.sessionId}/transcript`)).body
    expect(transcript.entries.filter((e: any) => e.kind === "assistant_text").map((e: any) => e.text)).toEqual([
      "first answer",
      "second answer"
    ])
    expect(transcript.entries.filter((e: any) => e.kind === "user_text").map((e: any) => e.text)).toEqual(["first question", "go on"])
    const list = (await call("GET", "/v1/sessions?limit=10")).body.items.map((s: any) => s.sessionId).sort()
    expect(list).toEqual([a.sessionId, b.sessionId].sort())
    expectWhole(await history(b.sessionId))

    expectNoInternalErrors()
    await expectReadModelsEqualARebuild()
  })

  it("a Claude message that cannot be appended is appended again, with the same ids, once the store is back: the run completes", async () => {
    const { esdb, fake, service } = await start(
      [{ slow: { chunks: ["still ", "thinking"], delayMs: 20, hold: true } }],
      { AGENTLOG_STORE_RETRY_MS: "20000" }
    )
    const { sessionId } = await launch({ query: "take your time" })
    await fake.waitForSlowChunks(1, 15_000)
    await waitForStatus(sessionId, ["running"])
    const before = await history(sessionId)

    await esdb.stop()
    fake.release() // Claude now sends its answer, which cannot be recorded yet.
    await waitFor("the supervisor to retry the Claude message", async () =>
      service.logs.some((l) => l.msg === "recording a Claude message: the event store is unavailable; retrying") ? true : undefined
    )
    // Claude waits for its message to be recorded; it is not stopped. (That nothing gave up
    // meanwhile is proved below without waiting: the run ends completed, with no error.)
    expect(claude!.claudePids()).toHaveLength(1)
    expect((await session(sessionId)).status).toBe("running")

    const restartedAt = Date.now()
    await esdb.restart()
    const done = await waitForStatus(sessionId, ["completed", "failed", "interrupted", "abandoned"])
    expect(done).toMatchObject({ status: "completed", lastError: null })
    const events = await history(sessionId)
    expectWhole(events)
    expect(events.slice(0, before.length)).toEqual(before)
    const answers = events.filter(
      (e) => e.type === "ClaudeAssistantMessage" && JSON.stringify(e.data.message.message.content).includes("still thinking")
    )
    expect(answers).toHaveLength(1)
    expect(events.map((e) => e.type)).not.toContain("RunFailed")
    expect(events.at(-1).type).toBe("RunCompleted")
    // Decided during the outage, written after it: the same message, appended once, whatever
    // number of attempts it took.
    expect(Date.parse(answers[0].metadata.recordedAt)).toBeLessThan(restartedAt)
    expect(Date.parse(answers[0].created)).toBeGreaterThanOrEqual(restartedAt)
    expect(esdb.allEvents().filter((e) => e.id === answers[0].id)).toHaveLength(1)

    expectNoInternalErrors()
    await expectReadModelsEqualARebuild()
  })

  it("when the outage outlasts the retries, the run is stopped and recorded as failed as soon as the store is back, then can be continued", async () => {
    const { esdb, fake, service } = await start(
      [{ slow: { chunks: ["doomed ", "answer"], delayMs: 20, hold: true } }],
      { AGENTLOG_STORE_RETRY_MS: "800" }
    )
    const { sessionId } = await launch({ query: "this will not be recorded" })
    await fake.waitForSlowChunks(1, 15_000)
    await waitForStatus(sessionId, ["running"])

    await esdb.stop()
    fake.release()
    // The message cannot be recorded within AGENTLOG_STORE_RETRY_MS: the run is stopped...
    await waitFor("claude to be stopped", async () => (claude!.claudePids().length === 0 ? true : undefined), 10_000)
    // ...and its end waits for the store (the read model still shows the last recorded state).
    await waitFor("the end of the run to wait for the store", async () =>
      service.logs.some((l) => String(l.msg).startsWith("recording the end of a run: the event store is unavailable")) ? true : undefined
    )
    expect((await session(sessionId)).status).toBe("running")
    expect(service.child.exitCode).toBeNull()

    await esdb.restart()
    const failed = await waitForStatus(sessionId, ["completed", "failed", "interrupted", "abandoned"])
    expect(failed.status).toBe("failed")
    expect(failed.lastError).toMatch(/could not record a Claude message: event store unavailable/)
    const events = await history(sessionId)
    expectWhole(events)
    expect(events.at(-1)).toMatchObject({ type: "RunFailed", data: { error: expect.stringMatching(/could not record a Claude message/) } })
    expect(events.filter((e) => e.type === "RunFailed")).toHaveLength(1)
    expect(events.map((e) => e.type)).not.toContain("ClaudeResult")

    // Nothing is stuck: the session continues like any failed one.
    fake.setScript([{ text: "back in business" }])
    const cont = await call("POST", `/v1/sessions/${sessionId}/continue`, { query: "try again" })
    expect(cont.status, cont.text).toBe(202)
    expect(await waitForStatus(sessionId, ["completed", "failed"], 2)).toMatchObject({ status: "completed", runs: 2 })

    expectNoInternalErrors()
    await expectReadModelsEqualARebuild()
  })
})
