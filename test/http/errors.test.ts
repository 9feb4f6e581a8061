// The edge's errors: problem+json everywhere, 404 / 405 (with Allow) / 413 (enforced while
// reading) / 415 / malformed JSON 400, 503 with Retry-After when the store is down, and a
// generic 500 that never carries a stack trace or an internal message.
import { randomUUID } from "node:crypto"
import * as http from "node:http"
import { Effect, Stream } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { EventStoreUnavailable } from "../../src/eventstore/eventStore.ts"
import { expectProblem } from "./expectProblem.ts"
import { problemOf, startHarness, type Harness, type HarnessOptions } from "./httpHarness.ts"

let h: Harness | undefined
const start = async (options?: HarnessOptions) => (h = await startHarness(options))
afterEach(async () => {
  await h?.close()
  h = undefined
})

/** A raw request, for bodies fetch will not send (chunked without length, lying headers). */
const raw = (
  url: string,
  options: { method: string; path: string; headers?: Record<string, string>; chunks: Array<string | Buffer> }
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> =>
  new Promise((resolve, reject) => {
    const u = new URL(url)
    const req = http.request(
      { host: u.hostname, port: u.port, method: options.method, path: options.path, headers: options.headers },
      (res) => {
        let body = ""
        res.setEncoding("utf8")
        res.on("data", (d) => (body += d))
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
      }
    )
    req.on("error", reject)
    for (const c of options.chunks) req.write(c)
    req.end()
  })

describe("problem+json", () => {
  it("unknown routes are 404 problems", async () => {
    const h = await start()
    for (const path of ["/nope", "/v1/session", "/v1/sessions/", `/v1/sessions/${randomUUID()}/nope`, "/v2/sessions"]) {
      const r = await h.fetch(path)
      const p = await expectProblem(r, 404, "not-found")
      expect(p).toMatchObject({ title: "Not found", detail: `no route GET ${new URL(r.url).pathname}` })
      expect(p.requestId).toBe(r.headers.get("x-request-id"))
    }
  })

  it("a wrong method on a known path is 405 with Allow", async () => {
    const h = await start()
    const cases: Array<[string, string, Array<string>]> = [
      ["DELETE", "/v1/sessions", ["GET", "POST"]],
      ["PUT", `/v1/sessions/${randomUUID()}`, ["GET", "PATCH"]],
      ["GET", `/v1/sessions/${randomUUID()}/continue`, ["POST"]],
      ["POST", "/v1/events", ["GET"]],
      ["DELETE", `/v1/approvals/${randomUUID()}/decision`, ["POST"]],
      ["POST", "/healthz", ["GET"]]
    ]
    for (const [method, path, allowed] of cases) {
      const r = await h.fetch(path, { method })
      expect(r.status, `${method} ${path}`).toBe(405)
      const allow = (r.headers.get("allow") ?? "").split(/,\s*/)
      for (const m of allowed) expect(allow).toContain(m)
      expect(allow).not.toContain(method)
      expect((await expectProblem(r, 405, "method-not-allowed")).allow).toEqual(allow)
    }
  })

  it("OPTIONS lists the methods; HEAD works where GET does", async () => {
    const h = await start()
    const o = await h.fetch("/v1/sessions", { method: "OPTIONS" })
    expect(o.status).toBe(204)
    expect(o.headers.get("allow")).toMatch(/GET/)
    expect((await h.fetch("/healthz", { method: "HEAD" })).status).toBe(200)
  })
})

describe("bodies", () => {
  it("413 for a body over the limit, enforced while reading (chunked, no Content-Length)", async () => {
    const h = await start({ config: { maxBodyBytes: 1024 } })
    const big = JSON.stringify({ query: "x".repeat(4096) })
    const chunked = await raw(h.url, {
      method: "POST",
      path: "/v1/sessions",
      headers: { "content-type": "application/json", "transfer-encoding": "chunked" },
      chunks: [big.slice(0, 1000), big.slice(1000)]
    })
    expect(chunked.status).toBe(413)
    expect(chunked.headers["content-type"]).toMatch(/^application\/problem\+json/)
    expect(JSON.parse(chunked.body)).toMatchObject({ status: 413, type: "urn:agentlog:problem:payload-too-large", limit: 1024 })
    // Declared too large: refused before reading.
    const declared = await raw(h.url, {
      method: "POST",
      path: "/v1/sessions",
      headers: { "content-type": "application/json", "content-length": String(big.length) },
      chunks: [big]
    })
    expect(declared.status).toBe(413)
    const fits = await h.fetch("/v1/sessions", { method: "POST", json: { query: "small" } })
    expect(fits.status).toBe(202)
    await h.waitForStatus(((await fits.json()) as { sessionId: string }).sessionId, "failed")
    const launched = await Effect.runPromise(Stream.runCollect(h.store.readAll({ filter: { eventTypes: ["SessionLaunched"] } })))
    expect(launched).toHaveLength(1)
  })

  it("415 for a body that is not JSON", async () => {
    const h = await start()
    for (const ct of ["text/plain", "application/x-www-form-urlencoded", "application/jsonx"]) {
      const r = await h.fetch("/v1/sessions", { method: "POST", body: '{"query":"q"}', headers: { "content-type": ct } })
      await expectProblem(r, 415, "unsupported-media-type")
    }
    const noType = await raw(h.url, { method: "POST", path: "/v1/sessions", headers: { "content-length": "13" }, chunks: ['{"query":"q"}'] })
    expect(noType.status).toBe(415)
    // A JSON flavour with a charset is fine.
    const ok = await h.fetch("/v1/sessions", {
      method: "POST",
      body: '{"query":"q"}',
      headers: { "content-type": "application/json; charset=utf-8" }
    })
    expect(ok.status).toBe(202)
    await h.waitForStatus(((await ok.json()) as { sessionId: string }).sessionId, "failed")
  })

  it("400 for malformed JSON, without echoing it", async () => {
    const h = await start()
    const r = await h.fetch("/v1/sessions", { method: "POST", body: '{"query": "secret-text', headers: { "content-type": "application/json" } })
    expect(r.status).toBe(400)
    const p = await problemOf(r)
    expect(p.type).toMatch(/malformed-json/)
    expect(JSON.stringify(p)).not.toContain("secret-text")
  })
})

describe("failures inside", () => {
  it("EventStoreUnavailable is 503 with Retry-After", async () => {
    const h = await start({
      wrap: (deps) => ({
        ...deps,
        store: { ...deps.store, readStream: () => Stream.fail(new EventStoreUnavailable({ reason: "connection refused 10.0.0.7" })) }
      })
    })
    const { sessionId } = await h.seedSession()
    const r = await h.fetch(`/v1/sessions/${sessionId}/events`)
    expect(r.status).toBe(503)
    expect(r.headers.get("retry-after")).toBe("1")
    const p = await problemOf(r)
    expect(p.status).toBe(503)
    expect(JSON.stringify(p)).not.toContain("10.0.0.7")
  })

  it("anything unexpected is a generic 500: no stack, no internal message; it is logged", async () => {
    const h = await start({
      wrap: (deps) => ({
        ...deps,
        readModels: {
          ...deps.readModels,
          // A handler that throws…
          getSession: () => {
            throw new Error("kaboom: internal detail /etc/passwd")
          },
          // …and an Effect that dies.
          listSessionsJson: () => Effect.die(new Error("defect: db handle 0xdeadbeef"))
        }
      })
    })
    for (const path of [`/v1/sessions/${randomUUID()}`, "/v1/sessions"]) {
      const r = await h.fetch(path)
      expect(r.status, path).toBe(500)
      const text = await r.clone().text()
      const p = await problemOf(r)
      expect(p).toMatchObject({ status: 500, title: "Internal server error" })
      expect(text).not.toMatch(/kaboom|passwd|defect|deadbeef|\bat\s+\S+\s+\(|\.ts:\d+/)
      expect(p).not.toHaveProperty("stack")
      const logged = h.logs.find((l) => l.msg === "request failed" && l.fields.requestId === p.requestId)
      expect(logged).toBeDefined()
    }
  })
})
