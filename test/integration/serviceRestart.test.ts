// The service process is killed with SIGKILL in the middle of a run and started again on
// the same data: nothing acknowledged before the kill is lost, the orphaned run is
// recorded as RunAbandoned, and the session can be continued.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { makeClaudeEnv, type ClaudeEnv } from "../support/claudeEnv.ts"
import { startFakeAnthropic, type FakeAnthropic } from "../support/fakeAnthropic.ts"
import { startServiceProcess, type ServiceProcess } from "../support/serviceProcess.ts"
import { waitForSessionStatus } from "../support/waitFor.ts"

let fake: FakeAnthropic | undefined
let claude: ClaudeEnv | undefined
let service: ServiceProcess | undefined
let dataDir: string | undefined

afterEach(async () => {
  await service?.kill()
  await fake?.close()
  claude?.cleanup()
  if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  service = fake = claude = dataDir = undefined
})

const json = async (res: Response) => {
  const body = await res.text()
  if (!res.ok) throw new Error(`${res.status} ${body}`)
  return JSON.parse(body)
}

const allEvents = async (url: string, sessionId: string) =>
  (await json(await fetch(`${url}/v1/sessions/${sessionId}/events?limit=1000`))).items as Array<{
    id: string
    type: string
    revision: number
  }>

const waitForStatus = (url: string, sessionId: string, statuses: ReadonlyArray<string>) => waitForSessionStatus(url, sessionId, statuses)

describe("kill -9 of the service mid-run, then restart", () => {
  it("keeps every acknowledged event, abandons the orphaned run, and lets the session continue", async () => {
    fake = await startFakeAnthropic([{ slow: { chunks: ["working ", "on ", "it "], delayMs: 50, hold: true } }])
    claude = makeClaudeEnv(fake.url)
    dataDir = mkdtempSync(join(tmpdir(), "agentlog-restart-"))
    service = await startServiceProcess({ dataDir, claude })

    const launched = await json(
      await fetch(`${service.url}/v1/sessions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: "a long job", cwd: claude.cwd })
      })
    )
    const { sessionId } = launched
    await fake.waitForSlowChunks(1, 30_000)
    await waitForStatus(service.url, sessionId, ["running"])
    const before = await allEvents(service.url, sessionId)
    expect(before.map((e) => e.type)).toContain("RunStarted")

    await service.kill()
    // Nothing tells the orphaned claude its supervisor died; the restart must end it.
    expect(claude.claudePids()).toHaveLength(1)
    fake.setScript([{ text: "picked up where we left off" }])

    service = await startServiceProcess({ dataDir, claude })
    expect(claude.claudePids()).toEqual([])
    const abandoned = await waitForStatus(service.url, sessionId, ["abandoned"])
    expect(abandoned.status).toBe("abandoned")
    const after = await allEvents(service.url, sessionId)
    // Everything acknowledged before the kill is still there, at the same revisions.
    expect(after.slice(0, before.length)).toEqual(before)
    const revisions = after.map((e) => e.revision)
    expect(revisions).toEqual(revisions.map((_, i) => i))
    expect(after.at(-1)!.type).toBe("RunAbandoned")
    expect(new Set(after.map((e) => e.id)).size).toBe(after.length)

    const cont = await fetch(`${service.url}/v1/sessions/${sessionId}/continue`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "please carry on" })
    })
    expect(cont.status).toBe(202)
    const done = await waitForStatus(service.url, sessionId, ["completed", "failed"])
    expect(done.status).toBe("completed")
    const types = (await allEvents(service.url, sessionId)).map((e) => e.type)
    expect(types.slice(after.length)).toEqual(expect.arrayContaining(["ContinueRequested", "RunStarted", "RunCompleted"]))

    expect(await service.stop()).toBe(0)
  })

  it("SIGTERM mid-run stops cleanly: the run is recorded as interrupted, nothing left running", async () => {
    fake = await startFakeAnthropic([{ slow: { chunks: ["still ", "going "], delayMs: 50, hold: true } }])
    claude = makeClaudeEnv(fake.url)
    dataDir = mkdtempSync(join(tmpdir(), "agentlog-sigterm-"))
    service = await startServiceProcess({ dataDir, claude, env: { AGENTLOG_INTERRUPT_GRACE_MS: "3000" } })
    const { sessionId } = await json(
      await fetch(`${service.url}/v1/sessions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: "a long job", cwd: claude.cwd })
      })
    )
    await fake.waitForSlowChunks(1, 30_000)
    expect(await service.stop()).toBe(0)
    expect(claude.claudePids()).toEqual([])
    expect(service.logs.some((l) => l.msg === "stopped")).toBe(true)

    service = await startServiceProcess({ dataDir, claude })
    const s = await waitForStatus(service.url, sessionId, ["interrupted", "abandoned", "completed", "failed"])
    expect(s.status).toBe("interrupted")
    const types = (await allEvents(service.url, sessionId)).map((e) => e.type)
    expect(types.at(-1)).toBe("RunInterrupted")
    expect(types.indexOf("InterruptRequested")).toBeGreaterThan(types.indexOf("RunStarted"))
    expect(service.logs.find((l) => l.msg === "recovery done")).toMatchObject({ abandoned: 0 })
  })
})
