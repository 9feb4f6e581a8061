// /healthz, /readyz, /openapi.json and the request log.
import { randomUUID } from "node:crypto"
import { Effect, Schema } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { EventStoreUnavailable } from "../../src/eventstore/eventStore.ts"
import { createApp } from "../../src/http/app.ts"
import { LaunchBody, ContinueBody, DecisionBody, RenameBody } from "../../src/http/bodies.ts"
import { allRoutes } from "../../src/http/routes.ts"
import { startHttpServer } from "../../src/http/server.ts"
import { startHarness, type Harness, type HarnessOptions } from "./httpHarness.ts"

let h: Harness | undefined
const start = async (options?: HarnessOptions) => (h = await startHarness(options))
afterEach(async () => {
  await h?.close()
  h = undefined
})

type Json = Record<string, any>

describe("health", () => {
  it("/healthz is 200 while the process is up; /readyz once the read models caught up", async () => {
    const h = await start()
    const live = await h.fetch("/healthz")
    expect(live.status).toBe(200)
    expect(await live.json()).toEqual({ status: "ok" })
    await h.caughtUp()
    const deadline = Date.now() + 5_000
    let ready = await h.fetch("/readyz")
    while (ready.status !== 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20))
      ready = await h.fetch("/readyz")
    }
    expect(ready.status).toBe(200)
    expect(await ready.json()).toEqual({ status: "ready", store: "ok", projections: "caught_up" })
  })

  it("/readyz is 503 while the read models catch up or the store does not answer", async () => {
    const lagging = await start({
      wrap: (deps) => ({ ...deps, projections: { ...deps.projections, isCaughtUp: () => false } })
    })
    const r = await lagging.fetch("/readyz")
    expect(r.status).toBe(503)
    expect(r.headers.get("retry-after")).toBe("1")
    expect(await r.json()).toMatchObject({ status: "not_ready", projections: "catching_up" })
    await lagging.close()
    h = undefined

    const down = await start({
      wrap: (deps) => ({
        ...deps,
        projections: { ...deps.projections, isCaughtUp: () => true },
        store: { ...deps.store, headPosition: () => Effect.fail(new EventStoreUnavailable({ reason: "down" })) }
      })
    })
    const d = await down.fetch("/readyz")
    expect(d.status).toBe(503)
    expect(await d.json()).toMatchObject({ status: "not_ready", store: "unavailable" })
    expect((await down.fetch("/healthz")).status).toBe(200)
  })
})

describe("GET /openapi.json", () => {
  it("describes every route of the table, which is every route the app serves", async () => {
    const h = await start()
    const r = await h.fetch("/openapi.json")
    expect(r.status).toBe(200)
    const doc = (await r.json()) as Json
    expect(doc.openapi).toBe("3.1.0")
    for (const route of allRoutes) {
      const op = doc.paths[route.path.replace(/:(\w+)/g, "{$1}")]?.[route.method.toLowerCase()]
      expect(op, `${route.method} ${route.path}`).toBeDefined()
      expect(op.operationId).toBe(route.operationId)
      expect(Object.keys(op.responses).length).toBeGreaterThan(0)
    }
    // Every handler the app registered is in the table (and so in the document).
    const app = createApp({
      config: { maxBodyBytes: 1, readWaitMs: 1, heartbeatMs: 1000, dataDir: h.dataDir },
      logger: { log: () => {} }
    } as never)
    const served = app.routes.filter((x) => x.method !== "ALL").map((x) => `${x.method} ${x.path}`)
    expect(new Set(served)).toEqual(new Set(allRoutes.map((x) => `${x.method} ${x.path}`)))
  })

  it("request bodies are the schemas the handlers decode with, strict like the decoder", async () => {
    const h = await start()
    const doc = (await (await h.fetch("/openapi.json")).json()) as Json
    const bodySchema = (path: string, method: string) => {
      const s = doc.paths[path][method].requestBody.content["application/json"].schema
      return s.$ref ? doc.components.schemas[s.$ref.split("/").pop()] : s
    }
    const cases: Array<[string, string, Schema.Struct<any>]> = [
      ["/v1/sessions", "post", LaunchBody],
      ["/v1/sessions/{id}/continue", "post", ContinueBody],
      ["/v1/sessions/{id}", "patch", RenameBody],
      ["/v1/approvals/{id}/decision", "post", DecisionBody]
    ]
    for (const [path, method, schema] of cases) {
      const s = bodySchema(path, method)
      expect(s.additionalProperties, path).toBe(false)
      expect(Object.keys(s.properties).sort(), path).toEqual(Object.keys(schema.fields).sort())
    }
    const launch = bodySchema("/v1/sessions", "post")
    expect(launch.required).toEqual(["query"])
    expect(launch.properties.maxTurns).toMatchObject({ type: "integer", minimum: 1, maximum: 1000 })
    const list = doc.paths["/v1/sessions"].get.parameters.map((p: Json) => p.name)
    expect(list).toEqual(expect.arrayContaining(["status", "archived", "q", "limit", "cursor", "minPosition"]))
    expect(doc.paths["/healthz"].get.security).toEqual([])
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: "http", scheme: "bearer" })
  })
})

describe("startHttpServer", () => {
  it("rejects when the port is taken", async () => {
    const h = await start()
    const app = createApp({
      config: { maxBodyBytes: 1, readWaitMs: 1, heartbeatMs: 1000, dataDir: h.dataDir },
      logger: { log: () => {} }
    } as never)
    await expect(startHttpServer(app, { host: "127.0.0.1", port: h.server.port })).rejects.toThrow(/EADDRINUSE/)
  })
})

describe("request log", () => {
  it("one line per request with method, path, status, ms and requestId; no headers or bodies", async () => {
    const h = await start()
    await h.fetch("/v1/sessions", { method: "POST", json: { query: "very private prompt" }, headers: { "x-request-id": "r-1" } })
    await h.fetch(`/v1/sessions/${randomUUID()}`, { headers: { "x-request-id": "r-2" } })
    await h.fetch("/nope", { headers: { "x-request-id": "r-3" } })
    const lines = h.logs.filter((l) => l.msg === "http request")
    expect(lines.map((l) => [l.fields.requestId, l.fields.status])).toEqual([
      ["r-1", 202],
      ["r-2", 404],
      ["r-3", 404]
    ])
    for (const l of lines) {
      expect(Object.keys(l.fields).sort()).toEqual(["method", "ms", "path", "requestId", "status"])
      expect(typeof l.fields.ms).toBe("number")
    }
    expect(JSON.stringify(h.logs)).not.toContain("very private prompt")
  })
})
