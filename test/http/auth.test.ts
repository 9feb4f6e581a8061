// AGENTLOG_API_TOKEN: every route but /healthz needs the bearer token (SSE too).
import { randomUUID } from "node:crypto"
import { afterEach, describe, expect, it } from "vitest"
import { allRoutes } from "../../src/http/routes.ts"
import { problemOf, startHarness, type Harness } from "./httpHarness.ts"
import { openSse } from "./sseClient.ts"

const token = "test-token-0123456789abcdef"
let h: Harness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

const concrete = (path: string) => path.replace(/:id/g, randomUUID())

describe("bearer auth", () => {
  it("401 on every route without the token or with a wrong one; /healthz stays open", async () => {
    h = await startHarness({ config: { apiToken: token } })
    for (const route of allRoutes) {
      const path = concrete(route.path)
      for (const auth of [null, "Bearer wrong-token-0123456789abcdef", `Bearer ${token}x`, `Basic ${token}`, "Bearer", token]) {
        const r = await h.fetch(path, {
          method: route.method,
          token: null,
          headers: auth === null ? {} : { authorization: auth },
          ...(route.method === "GET" ? {} : { json: {} })
        })
        if (route.role === "anyone") {
          // Open routes answer on their own terms (the dashboard's login refuses an empty body with 400).
          expect(r.status, `${route.method} ${path}`).not.toBe(401)
          continue
        }
        expect(r.status, `${route.method} ${path} with ${auth}`).toBe(401)
        expect(r.headers.get("www-authenticate")).toMatch(/^Bearer/)
        expect((await problemOf(r)).status).toBe(401)
      }
    }
    // Unknown routes and wrong methods do not reveal anything either.
    expect((await h.fetch("/nope", { token: null })).status).toBe(401)
    expect((await h.fetch("/v1/sessions", { method: "DELETE", token: null })).status).toBe(401)
  })

  it("the right token passes, on commands, reads and SSE", async () => {
    h = await startHarness({ config: { apiToken: token } })
    expect((await h.fetch("/readyz")).status).not.toBe(401)
    expect((await h.fetch("/v1/sessions")).status).toBe(200)
    expect((await h.fetch("/openapi.json")).status).toBe(200)
    expect((await h.fetch(`/v1/sessions/${randomUUID()}`)).status).toBe(404)
    const { sessionId } = await h.seedRunning()
    const denied = await openSse(`${h.url}/v1/sessions/${sessionId}/events/live`)
    expect(denied.response.status).toBe(401)
    denied.close()
    const wrong = await openSse(`${h.url}/v1/sessions/${sessionId}/events/live`, { authorization: "Bearer nope" })
    expect(wrong.response.status).toBe(401)
    wrong.close()
    const sse = await openSse(`${h.url}/v1/sessions/${sessionId}/events/live`, { authorization: `Bearer ${token}` })
    try {
      expect(sse.response.status).toBe(200)
      expect((await sse.waitForFrames(2)).map((f) => f.id)).toEqual(["0", "1"])
    } finally {
      sse.close()
    }
    const r = await h.fetch(`/v1/sessions/${sessionId}/interrupt`, { method: "POST" })
    expect(r.status).toBe(202)
  })

  it("never logs the token", async () => {
    h = await startHarness({ config: { apiToken: token } })
    await h.fetch("/v1/sessions")
    await h.fetch("/v1/sessions", { token: "wrong-token-0123456789abcdef" })
    expect(JSON.stringify(h.logs)).not.toContain(token)
    expect(JSON.stringify(h.logs)).not.toContain("wrong-token")
  })
})
