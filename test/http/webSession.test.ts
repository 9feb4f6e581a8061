// The dashboard's side of the server: the page served at its routes (not at any path), and
// the login that trades the token for an HttpOnly cookie which the API then accepts, with
// the page's header required on state-changing cookie requests (CSRF).
import { randomUUID } from "node:crypto"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Hono } from "hono"
import { afterEach, describe, expect, it } from "vitest"
import type { HttpEnv } from "../../src/http/env.ts"
import { webStatic } from "../../src/http/webStatic.ts"
import { startHarness, type Harness } from "./httpHarness.ts"

let h: Harness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

const token = "web-test-token-0123456789abcdef"

describe("the page", () => {
  const dist = mkdtempSync(join(tmpdir(), "agentlog-web-dist-"))
  mkdirSync(join(dist, "assets"))
  writeFileSync(join(dist, "index.html"), "<!doctype html><title>agentlog</title>")
  writeFileSync(join(dist, "assets", "app-1234.js"), "console.log(1)")
  const app = new Hono<HttpEnv>()
  app.use("*", webStatic(dist))
  app.all("*", (c) => c.text("api", 404))
  afterEach(() => undefined)

  it("answers index.html at the page's routes and the files of the build, and leaves every other path to the API", async () => {
    for (const path of ["/", "/new", "/audit", `/sessions/${randomUUID()}`]) {
      const r = await app.request(path)
      expect(r.status, path).toBe(200)
      expect(await r.text()).toContain("<title>agentlog</title>")
      expect(r.headers.get("content-security-policy")).toContain("default-src 'self'")
      expect(r.headers.get("cache-control")).toBe("no-cache")
    }
    const js = await app.request("/assets/app-1234.js")
    expect(js.headers.get("content-type")).toMatch(/^text\/javascript/)
    expect(js.headers.get("cache-control")).toContain("immutable")
    for (const path of ["/nope", "/assets/missing.js", "/index.html", "/assets/../index.html", "/%2e%2e/etc/passwd", "/v1/sessions", "/sessions/x"]) {
      const r = await app.request(path)
      expect(await r.text(), path).toBe("api")
    }
    expect((await app.request("/", { method: "POST" })).status).toBe(404)
    rmSync(dist, { recursive: true, force: true })
  })
})

describe("the page's login", () => {
  it("trades the right token for an HttpOnly SameSite=Strict cookie that the API accepts; a wrong one gets 401 and no cookie", async () => {
    h = await startHarness({ config: { apiToken: token } })
    const state = await h.fetch("/v1/web/session", { token: null })
    expect(await state.json()).toEqual({ authRequired: true, authenticated: false })

    const wrong = await h.fetch("/v1/web/session", { method: "POST", json: { token: `${token}x` }, token: null })
    expect(wrong.status).toBe(401)
    expect(wrong.headers.get("set-cookie")).toBeNull()

    const right = await h.fetch("/v1/web/session", { method: "POST", json: { token }, token: null })
    expect(right.status).toBe(204)
    const setCookie = right.headers.get("set-cookie") ?? ""
    expect(setCookie).toMatch(/^agentlog_session=[A-Za-z0-9_-]{20,}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/)
    expect(setCookie).not.toContain(token)
    const cookie = setCookie.split(";")[0]!

    expect(await (await h.fetch("/v1/web/session", { token: null, headers: { cookie } })).json()).toEqual({
      authRequired: true,
      authenticated: true,
      principal: { name: "web", role: "admin" }
    })
    expect((await h.fetch("/v1/sessions", { token: null, headers: { cookie } })).status).toBe(200)
    expect((await h.fetch("/v1/sessions", { token: null, headers: { cookie: "agentlog_session=forged" } })).status).toBe(401)
  })

  it("refuses a state-changing request made with the cookie but without the page's header (CSRF), and takes it with the header", async () => {
    h = await startHarness({ config: { apiToken: token } })
    const right = await h.fetch("/v1/web/session", { method: "POST", json: { token }, token: null })
    const cookie = (right.headers.get("set-cookie") ?? "").split(";")[0]!
    const launch = (headers: Record<string, string>) =>
      h!.fetch("/v1/sessions", { method: "POST", json: { query: "hi" }, token: null, headers: { cookie, ...headers } })
    const forged = await launch({})
    expect(forged.status).toBe(403)
    expect(forged.headers.get("content-type")).toMatch(/^application\/problem\+json/)
    const fromPage = await launch({ "x-agentlog-client": "web" })
    expect(fromPage.status).toBe(202)
  })
})
