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

describe("a run opened in bypassPermissions (launch, continue, fork, draft launch)", () => {
  const grants = async (harness: Harness, sessionId: string) =>
    (await harness.events(sessionId)).filter((e) => e.type === "PermissionModeChanged").map((e) => e.data as Json)
  const endsIn = (expiresAt: string, ms: number, before: number) => {
    expect(Date.parse(expiresAt) - before).toBeGreaterThanOrEqual(ms - 1_000)
    expect(Date.parse(expiresAt) - Date.now()).toBeLessThanOrEqual(ms)
  }

  it("records the bypass's end with the run, in the same append: 15 minutes by default, or bypassExpiresInMs", async () => {
    h = await startHarness()
    const before = Date.now()
    const l = (await (await post(h, "/v1/sessions", { query: "q", permissionMode: "bypassPermissions" })).json()) as Json
    const [launched, granted] = await h.events(l.sessionId)
    expect([launched!.type, granted!.type]).toEqual(["SessionLaunched", "PermissionModeChanged"])
    expect(granted!.data).toMatchObject({ mode: "bypassPermissions", changedBy: "api" })
    expect(granted!.data).not.toHaveProperty("previousMode")
    endsIn((granted!.data as Json).expiresAt, 15 * 60_000, before)

    // A continue in bypass: from the session's mode, which it returns to; with its own duration.
    const { sessionId } = await h.seedCompleted()
    await h.command({ kind: "ChangePermissionMode", sessionId, mode: "plan", changedBy: "alice" })
    const t = Date.now()
    const c = await post(h, `/v1/sessions/${sessionId}/continue`, { query: "go", permissionMode: "bypassPermissions", bypassExpiresInMs: 120_000 })
    expect(c.status, await c.clone().text()).toBe(202)
    const last = (await grants(h, sessionId)).at(-1)!
    expect(last).toMatchObject({ mode: "bypassPermissions", previousMode: "plan", changedBy: "api" })
    endsIn(last.expiresAt, 120_000, t)

    // A fork inherits the parent's bypass and gets its own end.
    const f = (await (await post(h, `/v1/sessions/${sessionId}/fork`, { query: "branch" })).json()) as Json
    expect((await grants(h, f.sessionId)).map((g) => g.mode)).toEqual(["bypassPermissions"])

    // A draft in bypass gets its end when it is launched.
    const d = (await (await post(h, "/v1/drafts", { query: "later", permissionMode: "bypassPermissions" })).json()) as Json
    expect(await grants(h, d.sessionId)).toEqual([])
    expect((await post(h, `/v1/drafts/${d.sessionId}/launch`, {})).status).toBe(202)
    expect((await grants(h, d.sessionId)).map((g) => g.mode)).toEqual(["bypassPermissions"])
  })

  it("refuses a duration over AGENTLOG_BYPASS_MAX_MS, or for another mode, appending nothing", async () => {
    h = await startHarness({ config: { bypassMaxMs: 60_000 } })
    const { sessionId } = await h.seedCompleted()
    const n = (await h.events(sessionId)).length
    await expectProblem(await post(h, "/v1/sessions", { query: "q", permissionMode: "bypassPermissions", bypassExpiresInMs: 60_001 }), 400, "validation-failed", ["/bypassExpiresInMs"])
    await expectProblem(await post(h, "/v1/sessions", { query: "q", bypassExpiresInMs: 60_000 }), 400, "validation-failed", ["/bypassExpiresInMs"])
    const cont = `/v1/sessions/${sessionId}/continue`
    await expectProblem(await post(h, cont, { query: "q", permissionMode: "bypassPermissions", bypassExpiresInMs: 60_001 }), 400, "validation-failed", ["/bypassExpiresInMs"])
    await expectProblem(await post(h, `/v1/sessions/${sessionId}/fork`, { query: "q", permissionMode: "bypassPermissions", bypassExpiresInMs: 60_001 }), 400, "validation-failed", ["/bypassExpiresInMs"])
    expect((await h.events(sessionId)).length).toBe(n)
    // The default is capped by the maximum.
    const before = Date.now()
    const l = (await (await post(h, "/v1/sessions", { query: "q", permissionMode: "bypassPermissions" })).json()) as Json
    endsIn((await grants(h, l.sessionId))[0]!.expiresAt, 60_000, before)
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
