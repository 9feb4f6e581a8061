// Roles over HTTP: every operation of the served OpenAPI document says the role it needs,
// and is tried with a key of every role: below it, 403 problem+json and nothing appended;
// at or above it, the request gets through. The shared token is an admin; a revoked key
// stops working on the next request; the page's login with a key is that key's principal.
import { randomUUID } from "node:crypto"
import { join } from "node:path"
import { Effect, Stream } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { allRoutes } from "../../src/http/routes.ts"
import { keysStream } from "../../src/principals/keyEvents.ts"
import { addKey, readKeys, revokeKey } from "../../src/principals/keyFile.ts"
import { permits, type Role, roles } from "../../src/principals/roles.ts"
import { startHarness, type Harness } from "../http/httpHarness.ts"
import { recordedText } from "../support/recordedText.ts"
import { waitForEvents } from "../support/waitFor.ts"

const token = "roles-test-token-0123456789"
let h: Harness
const keyOf: Record<string, string> = {}
let completed: string
let running: string
let approvalId: string
let webhookId: string

const keysFile = () => join(h.dataDir, "keys.json")

beforeAll(async () => {
  h = await startHarness({ config: { apiToken: token } })
  for (const role of roles) keyOf[role] = addKey(keysFile(), `${role}-person`, role).key
  // The service records the new keys in its keys stream on its own time: once they are
  // there, whatever moves the store's head later was appended by a request.
  await waitForEvents("the keys recorded", h.store, keysStream, async () => {
    const recorded = await Effect.runPromise(
      Stream.runCollect(h.store.readStream(keysStream)).pipe(Effect.catchTag("StreamNotFound", () => Effect.succeed([])))
    )
    return [...recorded].length >= roles.length ? true : undefined
  })
  completed = (await h.seedCompleted()).sessionId
  const run = await h.seedRunning()
  running = run.sessionId
  approvalId = randomUUID()
  await h.command({
    kind: "RequestApproval",
    sessionId: run.sessionId,
    runId: run.runId,
    approvalId,
    toolUseId: "toolu_roles",
    toolName: "Bash",
    input: { command: "ls" },
    suggestions: []
  })
  const hook = await h.fetch("/v1/webhooks", { method: "POST", json: { url: "http://127.0.0.1:9/hook", events: ["session.ended"], secret: "roles-webhook-secret-0123" } })
  webhookId = ((await hook.json()) as { id: string }).id
  await h.caughtUp()
})
afterAll(async () => {
  await h?.close()
})

const head = async (): Promise<bigint> => (await Effect.runPromise(h.store.headPosition()))?.commit ?? 0n

type Operation = { method: string; template: string; role: string }

const documented = async (): Promise<Array<Operation>> => {
  const doc = (await (await h.fetch("/openapi.json")).json()) as { paths: Record<string, Record<string, { "x-agentlog-role"?: string }>> }
  return Object.entries(doc.paths).flatMap(([template, ops]) =>
    Object.entries(ops)
      .filter(([m]) => ["get", "post", "put", "patch", "delete"].includes(m))
      .map(([m, op]) => ({ method: m.toUpperCase(), template, role: String(op["x-agentlog-role"]) }))
  )
}

/** A request that would be accepted if it got through. */
const request = (op: Operation): { path: string; json?: unknown } => {
  const path = op.template
    .replace(/^\/v1\/approvals\/\{id\}/, `/v1/approvals/${approvalId}`)
    .replace(/^\/v1\/sessions\/\{id\}\/interrupt/, `/v1/sessions/${running}/interrupt`)
    .replace(/^\/v1\/sessions\/\{id\}/, `/v1/sessions/${completed}`)
    .replace(/^\/v1\/webhooks\/\{id\}/, `/v1/webhooks/${webhookId}`)
    .replace(/\{id\}/, randomUUID())
  if (op.method === "GET") return { path }
  const json =
    op.template === "/v1/sessions"
      ? { query: "hello" }
      : /\/(continue|fork)$/.test(op.template)
        ? { query: "again" }
        : op.template.endsWith("/decision")
          ? { decision: "allow" }
          : op.method === "PATCH"
            ? { title: "renamed" }
            : op.template === "/v1/web/session"
              ? { token: keyOf.viewer }
              : op.template === "/v1/webhooks"
                ? { url: "http://127.0.0.1:9/hook", events: ["approval.requested"], secret: "roles-webhook-secret-4567" }
                : {}
  return { path, json }
}

const call = async (op: Operation, credential: string) => {
  const { path, json } = request(op)
  const r = await h.fetch(path, { method: op.method, token: credential, ...(json !== undefined ? { json } : {}) })
  // A live stream is only opened: its status is the answer.
  if ((r.headers.get("content-type") ?? "").startsWith("text/event-stream")) await r.body?.cancel()
  return r
}

describe("roles", () => {
  it("every operation of the document names its role, the same as the route table", async () => {
    const ops = await documented()
    expect(ops.length).toBe(allRoutes.length)
    for (const op of ops) {
      const route = allRoutes.find((r) => r.method === op.method && r.path.replace(/:([A-Za-z]+)/g, "{$1}") === op.template)!
      expect(route, `${op.method} ${op.template}`).toBeDefined()
      expect(op.role, `${op.method} ${op.template}`).toBe(route.role)
      expect([...roles, "anyone"]).toContain(op.role)
    }
    // Only liveness and the page's login need no credentials.
    expect(ops.filter((o) => o.role === "anyone").map((o) => `${o.method} ${o.template}`).sort()).toEqual([
      "GET /healthz",
      "GET /v1/web/session",
      "POST /v1/web/session"
    ])
  })

  it("a key below an operation's role gets 403 problem+json and nothing is appended; at or above it, the request gets through", async () => {
    const ops = (await documented()).filter((o) => o.role !== "anyone")
    const before = await head()
    let refused = 0
    for (const op of ops)
      for (const role of roles) {
        if (permits(role, op.role as Role)) continue
        const r = await call(op, keyOf[role]!)
        expect(`${op.method} ${op.template} as ${role}: ${r.status}`).toBe(`${op.method} ${op.template} as ${role}: 403`)
        expect(r.headers.get("content-type")).toMatch(/^application\/problem\+json/)
        expect(await r.json()).toMatchObject({ type: "urn:agentlog:problem:forbidden", principal: `${role}-person`, role, requiredRole: op.role })
        refused++
      }
    expect(await head()).toBe(before)
    // Every operator command refuses the viewer; the decision refuses the viewer and the
    // operator; an admin's operation (the store's backup) every other role.
    const count = (role: Role) => ops.filter((o) => o.role === role).length
    expect(count("operator")).toBeGreaterThanOrEqual(7)
    expect(refused).toBe(count("operator") + 2 * count("approver") + 3 * count("admin"))
    // Allowed: the least role that may, then an admin key and the shared token (an admin).
    for (const op of ops)
      for (const credential of [keyOf[op.role]!, keyOf.admin!, token]) {
        const r = await call(op, credential)
        expect([401, 403], `${op.method} ${op.template}: ${r.status}`).not.toContain(r.status)
      }
    console.log(`roles: ${ops.length} operations, ${refused} refusals below the role, appends 0`)
  })

  it("an interrupt and a decision name the key's owner; a revoked key stops working on the next request", async () => {
    const run = await h.seedRunning()
    const id = randomUUID()
    await h.command({ kind: "RequestApproval", sessionId: run.sessionId, runId: run.runId, approvalId: id, toolUseId: "toolu_who", toolName: "Bash", input: {}, suggestions: [] })
    const decided = await h.fetch(`/v1/approvals/${id}/decision`, { method: "POST", token: keyOf.approver, json: { decision: "deny" } })
    expect(decided.status).toBe(202)
    const interrupted = await h.fetch(`/v1/sessions/${run.sessionId}/interrupt`, { method: "POST", token: keyOf.operator, json: {} })
    expect(interrupted.status).toBe(202)
    const events = await h.events(run.sessionId)
    const decision = events.find((e) => e.type === "ApprovalDecided")!
    expect(decision.data).toMatchObject({ decidedBy: "approver-person" })
    expect(decision.metadata).toMatchObject({ source: "api", actor: "approver-person" })
    const interrupt = events.find((e) => e.type === "InterruptRequested")!
    expect(interrupt.data).toMatchObject({ requestedBy: "operator-person" })
    expect(interrupt.metadata).toMatchObject({ actor: "operator-person" })
    // The stored key material is only a hash: no event names a key.
    expect(JSON.stringify(events, (_k, v) => (typeof v === "bigint" ? String(v) : v))).not.toMatch(/al_[A-Za-z0-9_-]{43}/)

    expect((await h.fetch("/v1/sessions", { token: keyOf.viewer })).status).toBe(200)
    revokeKey(keysFile(), "viewer-person")
    const after = await h.fetch("/v1/sessions", { token: keyOf.viewer })
    expect(after.status).toBe(401)
    keyOf.viewer = addKey(keysFile(), "viewer-person", "viewer").key
    expect((await h.fetch("/v1/sessions", { token: keyOf.viewer })).status).toBe(200)
  })

  it("the page's login with a key gives that key's principal; the cookie dies with the key", async () => {
    const key = addKey(keysFile(), "pat", "viewer").key
    const login = await h.fetch("/v1/web/session", { method: "POST", token: null, json: { token: key } })
    expect(login.status).toBe(204)
    const setCookie = login.headers.get("set-cookie") ?? ""
    expect(setCookie).not.toContain(key)
    const cookie = setCookie.split(";")[0]!
    expect(await (await h.fetch("/v1/web/session", { token: null, headers: { cookie } })).json()).toEqual({
      authRequired: true,
      authenticated: true,
      principal: { name: "pat", role: "viewer" }
    })
    expect((await h.fetch("/v1/sessions", { token: null, headers: { cookie } })).status).toBe(200)
    const launch = await h.fetch("/v1/sessions", { method: "POST", token: null, headers: { cookie, "x-agentlog-client": "web" }, json: { query: "hi" } })
    expect(launch.status).toBe(403)
    // A forged cookie naming the key's id, and the cookie after the key is revoked, name nobody.
    const forged = cookie.replace(/\.[^.]+$/, ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
    expect((await h.fetch("/v1/sessions", { token: null, headers: { cookie: forged } })).status).toBe(401)
    revokeKey(keysFile(), "pat")
    expect((await h.fetch("/v1/sessions", { token: null, headers: { cookie } })).status).toBe(401)
  })

  it("no key, and no key's hash, appears in a log line, an event or the read models", async () => {
    await h.caughtUp()
    const hashes = readKeys(keysFile()).map((k) => k.hash)
    const texts = await recordedText(h.store, h.dataDir, h.logs)
    for (const secret of [...Object.values(keyOf), ...hashes, token])
      for (const [where, text] of texts)
        expect(text.includes(secret), `${secret.slice(0, 6)}… in ${where}`).toBe(false)
    // The logs do say who called.
    expect(h.logs.some((l) => l.fields.principal === "approver-person")).toBe(true)
  })
})
