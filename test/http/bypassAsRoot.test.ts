// permissionMode bypassPermissions where Claude would refuse it (agentlog as root, no
// IS_SANDBOX=1 in Claude's environment): launch, continue and fork answer 400 saying why
// and append nothing, instead of accepting a run that can only fail.
import { afterEach, describe, expect, it } from "vitest"
import { bypassPermissionsUnavailable } from "../../src/process/claudePreflight.ts"
import { waitForStatus } from "../crash/crashHarness.ts"
import { closeOfflineWorld, openOfflineWorld, type OfflineWorld } from "../support/offlineWorld.ts"
import { startServiceProcess, type ServiceProcess } from "../support/serviceProcess.ts"
import { problemOf, startHarness, type Harness } from "./httpHarness.ts"

let h: Harness | undefined
let world: OfflineWorld | undefined
let service: ServiceProcess | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
  if (world) expect(await closeOfflineWorld(world, service), "claude processes left behind").toEqual([])
  world = undefined
  service = undefined
})

const why = bypassPermissionsUnavailable(0, {})!

const expectRefused = async (r: Response) => {
  expect(r.status).toBe(400)
  const p = await problemOf(r)
  expect(p).toMatchObject({ type: "urn:agentlog:problem:validation-failed", errors: [{ path: "/permissionMode" }] })
  expect(p.detail).toContain("IS_SANDBOX=1")
  expect(p.detail).toContain("root")
}

describe("bypassPermissions where Claude refuses it", () => {
  it("the rule: root without IS_SANDBOX=1 exactly", () => {
    expect(bypassPermissionsUnavailable(0, {})).toBeDefined()
    expect(bypassPermissionsUnavailable(0, { IS_SANDBOX: "0" })).toBeDefined()
    expect(bypassPermissionsUnavailable(0, { IS_SANDBOX: "true" })).toBeDefined()
    expect(bypassPermissionsUnavailable(0, { IS_SANDBOX: "1" })).toBeUndefined()
    expect(bypassPermissionsUnavailable(1000, {})).toBeUndefined()
    expect(bypassPermissionsUnavailable(undefined, {})).toBeUndefined()
  })

  it("launch, continue (own or inherited mode) and fork are refused with 400; other modes pass", async () => {
    h = await startHarness({ config: { bypassPermissionsUnavailable: why } })
    await expectRefused(await h.fetch("/v1/sessions", { method: "POST", json: { query: "q", permissionMode: "bypassPermissions" } }))
    expect((await h.fetch("/v1/sessions", { method: "POST", json: { query: "q", permissionMode: "acceptEdits" } })).status).toBe(202)

    // A session launched with bypass before the service ran as root (or recorded elsewhere).
    const seeded = await h.seedCompleted()
    const bypassing = await h.seedSession({ permissionMode: "bypassPermissions" })
    await h.command({ kind: "FinishRun", sessionId: bypassing.sessionId, runId: bypassing.runId, outcome: { kind: "failed", error: "x" } })
    const count = async (sessionId: string) => (await h!.events(sessionId)).length
    const n = await count(bypassing.sessionId)
    await expectRefused(await h.fetch(`/v1/sessions/${bypassing.sessionId}/continue`, { method: "POST", json: { query: "again" } }))
    await expectRefused(
      await h.fetch(`/v1/sessions/${seeded.sessionId}/continue`, { method: "POST", json: { query: "again", permissionMode: "bypassPermissions" } })
    )
    expect(await count(bypassing.sessionId)).toBe(n)
    // Overriding the mode makes it runnable.
    expect(
      (await h.fetch(`/v1/sessions/${bypassing.sessionId}/continue`, { method: "POST", json: { query: "again", permissionMode: "default" } })).status
    ).toBe(202)

    await expectRefused(
      await h.fetch(`/v1/sessions/${seeded.sessionId}/fork`, { method: "POST", json: { query: "f", permissionMode: "bypassPermissions" } })
    )
    expect((await h.fetch(`/v1/sessions/${seeded.sessionId}/fork`, { method: "POST", json: { query: "f" } })).status).toBe(202)
  })

  it("without the condition, bypassPermissions is accepted", async () => {
    h = await startHarness()
    expect((await h.fetch("/v1/sessions", { method: "POST", json: { query: "q", permissionMode: "bypassPermissions" } })).status).toBe(202)
  })

  it.runIf(process.getuid?.() === 0)(
    "the real service as root: refused without IS_SANDBOX=1 in Claude's environment, accepted with it",
    async () => {
      world = await openOfflineWorld("bypass")
      service = await startServiceProcess({ dataDir: world.dataDir, claude: world.claude, env: { IS_SANDBOX: "0" } })
      const launch = () =>
        fetch(`${service!.url}/v1/sessions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ query: "hi", cwd: world!.claude.cwd, permissionMode: "bypassPermissions" })
        })
      await expectRefused(await launch())
      await service.stop()
      service = await startServiceProcess({ dataDir: world.dataDir, claude: world.claude })
      const r = await launch()
      expect(r.status).toBe(202)
      // The run goes through: Claude starts with bypassPermissions and answers.
      await waitForStatus(service.url, ((await r.json()) as { sessionId: string }).sessionId, ["completed"], 45_000)
    },
    60_000
  )
})
