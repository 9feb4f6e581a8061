// Two agentlog instances sharing one EventStoreDB (the stand-in), each with its own data
// dir (read models, checkpoint, instance id), as two machines behind a load balancer would:
//
// - both see every session (their projections follow the same store);
// - an approval asked by a run on instance A can be decided through instance B, and an
//   interrupt sent to A stops a run that B is running: the supervisor follows those
//   events in the store, not only its own HTTP commands;
// - an instance's cached view of a session never refuses a command the store allows
//   (commands are serialised by expected revision, a refusal is checked on the stored state);
// - recovery at start-up only abandons the runs of its own instance.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { makeClaudeEnv, type ClaudeEnv } from "../support/claudeEnv.ts"
import { startEsdbStandIn, type EsdbStandIn } from "../support/esdbStandIn.ts"
import { startFakeAnthropic, type FakeAnthropic } from "../support/fakeAnthropic.ts"
import { startServiceProcess, type ServiceProcess } from "../support/serviceProcess.ts"
import { waitFor as waitForUntil, waitForSessionStatus } from "../support/waitFor.ts"

let esdb: EsdbStandIn | undefined
let fake: FakeAnthropic | undefined
let claude: ClaudeEnv | undefined
const services: Array<ServiceProcess> = []
const dirs: Array<string> = []

afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.kill()))
  await fake?.close()
  await esdb?.stop()
  claude?.cleanup()
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  fake = esdb = claude = undefined
})

interface Instance {
  readonly name: string
  readonly dataDir: string
  service: ServiceProcess
  readonly id: () => string
  start(): Promise<void>
}

const instance = (name: string): Instance => {
  const dataDir = mkdtempSync(join(tmpdir(), `agentlog-esdb-${name}-`))
  dirs.push(dataDir)
  const self: Instance = {
    name,
    dataDir,
    service: undefined as unknown as ServiceProcess,
    id: () => readFileSync(join(dataDir, "instance-id"), "utf8").trim(),
    async start() {
      self.service = await startServiceProcess({
        dataDir,
        claude: claude!,
        env: { AGENTLOG_EVENTSTORE: esdb!.connectionString, AGENTLOG_INTERRUPT_GRACE_MS: "2000" }
      })
      services.push(self.service)
    }
  }
  return self
}

const call = async (on: Instance, method: string, path: string, body?: unknown) => {
  const res = await fetch(`${on.service.url}${path}`, {
    method,
    headers: body !== undefined ? { "content-type": "application/json" } : {},
    ...(body !== undefined ? { body: JSON.stringify(body) } : {})
  })
  const text = await res.text()
  return { status: res.status, text, body: text ? JSON.parse(text) : undefined }
}

const waitFor = <A>(what: string, probe: () => Promise<A | undefined>) => waitForUntil(what, probe, { timeoutMs: 20_000, everyMs: 50 })

/** The session as `on`'s read models show it, once it is in one of `statuses` after `runs` runs. */
const waitForStatus = (on: Instance, sessionId: string, statuses: ReadonlyArray<string>, runs = 1) =>
  waitForSessionStatus(on.service.url, sessionId, statuses, { runs, timeoutMs: 20_000 })

const history = async (on: Instance, sessionId: string): Promise<Array<any>> =>
  (await call(on, "GET", `/v1/sessions/${sessionId}/events?limit=1000`)).body.items

const ended = ["completed", "failed", "interrupted", "abandoned"]

describe("two agentlog instances on one EventStoreDB", () => {
  it("share sessions, approvals and interrupts through the store; each recovers only its own runs", async () => {
    esdb = await startEsdbStandIn()
    fake = await startFakeAnthropic([])
    claude = makeClaudeEnv(fake.url)
    const a = instance("a")
    const b = instance("b")
    await Promise.all([a.start(), b.start()])
    expect(a.id()).not.toBe(b.id())

    // A runs the session; its approval is decided through B.
    const file = join(claude.cwd, "shared.txt")
    fake.setScript([
      { text: "I'll write it.", toolUse: { name: "Write", input: { file_path: file, content: "decided on b" }, id: "toolu_shared" } },
      { text: "Written." }
    ])
    const launched = await call(a, "POST", "/v1/sessions", { query: "write shared.txt", cwd: claude.cwd })
    expect(launched.status, launched.text).toBe(202)
    const { sessionId } = launched.body
    const pending = await waitFor("the approval to show on b", async () => {
      const r = await call(b, "GET", `/v1/approvals?status=pending&session=${sessionId}`)
      return r.body.items[0]
    })
    expect(pending).toMatchObject({ toolName: "Write", toolUseId: "toolu_shared" })
    const decided = await call(b, "POST", `/v1/approvals/${pending.approvalId}/decision`, { decision: "allow" })
    expect(decided.status, decided.text).toBe(202)
    expect(await waitForStatus(a, sessionId, ended)).toMatchObject({ status: "completed", pendingApprovals: 0 })
    expect(readFileSync(file, "utf8")).toBe("decided on b")
    const first = await history(a, sessionId)
    expect(first.find((e) => e.type === "RunStarted").data.supervisorId).toBe(a.id())
    expect(first.map((e) => e.type)).not.toContain("RunFailed")

    // Both instances' read models hold the same session.
    const onB = await waitForStatus(b, sessionId, ["completed"])
    const onA = (await call(a, "GET", `/v1/sessions/${sessionId}`)).body
    expect(onB).toEqual(onA)
    expect((await call(b, "GET", `/v1/sessions/${sessionId}/transcript`)).body).toEqual(
      (await call(a, "GET", `/v1/sessions/${sessionId}/transcript`)).body
    )

    // B continues it (A's cached state still says "completed"); A interrupts B's run.
    fake.setScript([{ slow: { chunks: ["working ", "on b "], delayMs: 20, hold: true } }])
    const cont = await call(b, "POST", `/v1/sessions/${sessionId}/continue`, { query: "continue on b" })
    expect(cont.status, cont.text).toBe(202)
    await fake.waitForSlowChunks(1, 15_000)
    await waitForStatus(a, sessionId, ["running"], 2)
    const interrupted = await call(a, "POST", `/v1/sessions/${sessionId}/interrupt`)
    expect(interrupted.status, interrupted.text).toBe(202)
    expect(await waitForStatus(b, sessionId, ended, 2)).toMatchObject({ status: "interrupted" })
    const second = (await history(b, sessionId)).slice(first.length)
    expect(second.find((e) => e.type === "RunStarted").data.supervisorId).toBe(b.id())
    expect(second.map((e) => e.type)).toEqual(expect.arrayContaining(["InterruptRequested", "RunInterrupted"]))
    expect(b.service.logs.some((l) => l.msg === "interrupt requested" && l.runId === second.find((e) => e.type === "RunStarted").data.runId)).toBe(true)

    // B dies with a run in flight; A restarts meanwhile and leaves B's run alone; B's restart abandons it.
    fake.setScript([{ slow: { chunks: ["never ", "finished "], delayMs: 20, hold: true } }])
    const third = await call(b, "POST", `/v1/sessions/${sessionId}/continue`, { query: "one more on b" })
    expect(third.status, third.text).toBe(202)
    await fake.waitForSlowChunks(1, 15_000)
    await waitForStatus(a, sessionId, ["running"], 3)
    await b.service.kill()
    expect(await a.service.stop()).toBe(0)
    await a.start()
    expect(a.service.logs.find((l) => l.msg === "recovery done")).toMatchObject({ abandoned: 0 })
    expect((await call(a, "GET", `/v1/sessions/${sessionId}`)).body.status).toBe("running")
    expect((await history(a, sessionId)).map((e) => e.type)).not.toContain("RunAbandoned")

    await b.start()
    expect(b.service.logs.find((l) => l.msg === "recovery done")).toMatchObject({ abandoned: 1 })
    expect(await waitForStatus(a, sessionId, ended, 3)).toMatchObject({ status: "abandoned" })
    const all = await history(a, sessionId)
    expect(all.at(-1).type).toBe("RunAbandoned")
    expect(all.map((e) => e.revision)).toEqual(all.map((_, i) => i))
    expect(existsSync(join(a.dataDir, "events.db")) || existsSync(join(b.dataDir, "events.db"))).toBe(false)

    for (const s of [a.service, b.service]) {
      expect(s.logs.filter((l) => l.msg === "http request" && l.status === 500)).toEqual([])
      expect(await s.stop()).toBe(0)
    }
  })
})
