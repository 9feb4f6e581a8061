// Permission mode and model over HTTP: what is recorded (and by whom), the bypass's end the
// service works out, and every refusal as problem+json with nothing appended.
import { afterEach, describe, expect, it } from "vitest"
import { expectProblem } from "./expectProblem.ts"
import { startHarness, type Harness } from "./httpHarness.ts"

let h: Harness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

type Json = Record<string, any>
const post = (harness: Harness, path: string, json: unknown, headers: Record<string, string> = {}) =>
  harness.fetch(path, { method: "POST", json, headers })

describe("POST /v1/sessions/:id/permission-mode", () => {
  it("records the change with who asked; a bypass ends after 15 minutes unless told otherwise", async () => {
    h = await startHarness()
    const { sessionId } = await h.seedRunning({ permissionMode: "default" })
    const r = await post(h, `/v1/sessions/${sessionId}/permission-mode`, { mode: "acceptEdits" })
    expect(r.status, await r.clone().text()).toBe(202)
    expect(await r.json()).toMatchObject({ sessionId, status: "running", permissionMode: "acceptEdits" })

    const before = Date.now()
    const b = (await (await post(h, `/v1/sessions/${sessionId}/permission-mode`, { mode: "bypassPermissions" })).json()) as Json
    const ends = Date.parse(b.bypassExpiresAt)
    expect(ends - before).toBeGreaterThanOrEqual(15 * 60_000 - 1_000)
    expect(ends - Date.now()).toBeLessThanOrEqual(15 * 60_000)

    const events = (await h.events(sessionId)).filter((e) => e.type === "PermissionModeChanged")
    expect(events.map((e) => e.data)).toEqual([
      { mode: "acceptEdits", previousMode: "default", changedBy: "api" },
      { mode: "bypassPermissions", previousMode: "acceptEdits", expiresAt: b.bypassExpiresAt, changedBy: "api" }
    ])
    expect((events[0]!.metadata as Json).actor).toBe("api")

    // The session says which mode it is in and until when.
    const s = (await (await h.fetch(`/v1/sessions/${sessionId}?minPosition=${b.position}`)).json()) as Json
    expect(s).toMatchObject({ permissionMode: "bypassPermissions", bypassExpiresAt: b.bypassExpiresAt })
  })

  it("refuses what it cannot do, as problem+json, appending nothing", async () => {
    h = await startHarness({ config: { bypassMaxMs: 60_000 } })
    const { sessionId } = await h.seedRunning({ permissionMode: "plan" })
    const count = async () => (await h!.events(sessionId)).length
    const n = await count()
    const path = `/v1/sessions/${sessionId}/permission-mode`
    await expectProblem(await post(h, path, { mode: "bypassPermissions", expiresInMs: 60_001 }), 400, "validation-failed", ["/expiresInMs"])
    await expectProblem(await post(h, path, { mode: "acceptEdits", expiresInMs: 60_000 }), 400, "validation-failed", ["/expiresInMs"])
    await expectProblem(await post(h, path, { mode: "bypassPermissions", expiresInMs: 10 }), 400, "validation-failed")
    await expectProblem(await post(h, path, { mode: "yolo" }), 400, "validation-failed")
    await expectProblem(await post(h, path, { mode: "plan" }), 409, "invalid-transition")
    await expectProblem(await post(h, path, { mode: "default", extra: 1 }), 400, "validation-failed")
    await expectProblem(await post(h, `/v1/sessions/${crypto.randomUUID()}/permission-mode`, { mode: "default" }), 404, "session-not-found")
    await expectProblem(await post(h, path, { mode: "default" }, { "If-Match": '"0"' }), 412, "precondition-failed")
    expect(await count()).toBe(n)
  })

  it("refuses bypassPermissions where Claude would refuse it (root without IS_SANDBOX=1)", async () => {
    h = await startHarness({ config: { bypassPermissionsUnavailable: "agentlog runs as root" } })
    const { sessionId } = await h.seedRunning()
    const n = (await h.events(sessionId)).length
    await expectProblem(await post(h, `/v1/sessions/${sessionId}/permission-mode`, { mode: "bypassPermissions" }), 400, "validation-failed", [
      "/permissionMode"
    ])
    expect((await h.events(sessionId)).length).toBe(n)
  })

  it("a draft's mode is edited with its options, not switched", async () => {
    h = await startHarness()
    const d = (await (await post(h, "/v1/drafts", { query: "later" })).json()) as Json
    await expectProblem(await post(h, `/v1/sessions/${d.sessionId}/permission-mode`, { mode: "acceptEdits" }), 409, "invalid-transition")
    await expectProblem(await post(h, `/v1/sessions/${d.sessionId}/model`, { model: "opus" }), 409, "invalid-transition")
  })
})

describe("POST /v1/sessions/:id/model", () => {
  it("records the switch; the same model again is a 409; a bad name a 400", async () => {
    h = await startHarness()
    const { sessionId } = await h.seedRunning({ model: "sonnet" })
    const r = await post(h, `/v1/sessions/${sessionId}/model`, { model: "opus" })
    expect(r.status).toBe(202)
    expect(await r.json()).toMatchObject({ model: "opus" })
    const [changed] = (await h.events(sessionId)).filter((e) => e.type === "ModelChanged")
    expect(changed!.data).toEqual({ model: "opus", previousModel: "sonnet", changedBy: "api" })
    await expectProblem(await post(h, `/v1/sessions/${sessionId}/model`, { model: "opus" }), 409, "invalid-transition")
    await expectProblem(await post(h, `/v1/sessions/${sessionId}/model`, { model: "bad\nname" }), 400, "validation-failed")
    await expectProblem(await post(h, `/v1/sessions/${sessionId}/model`, {}), 400, "validation-failed")
  })
})
