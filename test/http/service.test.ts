// /healthz, /readyz, /openapi.json and the request log.
import { randomUUID } from "node:crypto"
import { Effect } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { EventStoreUnavailable } from "../../src/eventstore/eventStore.ts"
import { createApp } from "../../src/http/app.ts"
import { allRoutes } from "../../src/http/routes.ts"
import { startHttpServer } from "../../src/http/server.ts"
import { problemOf, startHarness, type Harness, type HarnessOptions } from "./httpHarness.ts"

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

  it("the handlers decode with what the document says: its types, its required fields, nothing else", async () => {
    // Black-box: for every operation, requests built from the served document's own
    // parameters and body schemas, broken one way at a time, are refused naming the part
    // the document says is wrong. A handler decoding with another schema than the
    // document's (the old transcript paging) fails here.
    const h = await start()
    const doc = (await (await h.fetch("/openapi.json")).json()) as Json
    const schemaOf = (s: Json): Json => (s.$ref ? doc.components.schemas[s.$ref.split("/").pop()] : s)
    const refusals = async (method: string, path: string, query: string, body?: unknown) => {
      const r = await h.fetch(`${path}${query}`, { method: method.toUpperCase(), ...(body !== undefined ? { json: body } : {}) })
      expect(r.status, `${method} ${path}${query}`).toBe(400)
      const p = await problemOf(r)
      expect(p.type).toBe("urn:agentlog:problem:validation-failed")
      return (p.errors as Array<{ path: string }>).map((e) => e.path)
    }
    let checked = 0
    for (const [template, item] of Object.entries(doc.paths as Record<string, Json>)) {
      const path = template.replace("{id}", randomUUID())
      for (const method of ["get", "post", "patch"]) {
        const op = item[method]
        if (op === undefined) continue
        const body = op.requestBody ? schemaOf(op.requestBody.content["application/json"].schema) : undefined
        const valid = body ? Object.fromEntries((body.required ?? []).map((k: string) => [k, k === "decision" ? "allow" : "x"])) : undefined
        // A parameter the document does not list.
        expect(await refusals(method, path, "?notAParameter=1", valid), `${method} ${template}`).toEqual(["?notAParameter"])
        // Each typed parameter, sent with a value of another type.
        for (const p of op.parameters.filter((p: Json) => p.in === "query")) {
          const s = schemaOf(p.schema)
          const wrong = s.type === "integer" ? "1.5" : s.type === "boolean" ? "maybe" : s.enum ? "not-one-of-them" : s.format === "date-time" ? "yesterday" : s.format === "uuid" ? "123" : undefined
          if (wrong === undefined) continue
          expect(await refusals(method, path, `?${p.name}=${wrong}`, valid), `${method} ${template} ?${p.name}`).toEqual([`?${p.name}`])
          checked++
        }
        if (body === undefined) continue
        // A field the body schema does not have, and every required field missing.
        expect(await refusals(method, path, "", { ...valid, notAField: 1 }), `${method} ${template}`).toContain("/notAField")
        if ((body.required ?? []).length > 0)
          expect((await refusals(method, path, "", {})).sort(), `${method} ${template}`).toEqual(body.required.map((k: string) => `/${k}`).sort())
        checked++
      }
    }
    expect(checked).toBeGreaterThan(20)
    // The types are the real ones, not strings.
    const transcript = doc.paths["/v1/sessions/{id}/transcript"].get.parameters
    expect(transcript.map((p: Json) => [p.name, p.schema.type])).toEqual(
      expect.arrayContaining([["afterSeq", "integer"], ["limit", "integer"]])
    )
    expect(doc.paths["/v1/sessions"].get.parameters.find((p: Json) => p.name === "archived").schema.type).toBe("boolean")
    expect(doc.paths["/v1/events"].get.parameters.find((p: Json) => p.name === "after").schema.format).toBe("date-time")
    expect(schemaOf(doc.paths["/v1/approvals/{id}/decision"].post.requestBody.content["application/json"].schema).properties.updatedInput)
      .toMatchObject({ type: "object", additionalProperties: {} })
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
  it("one line per request with method, path, status, ms, requestId and principal; no headers or bodies", async () => {
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
      // principal: who called, by name (never the credential).
      expect(Object.keys(l.fields).sort()).toEqual(["method", "ms", "path", "principal", "requestId", "status"])
      expect(typeof l.fields.ms).toBe("number")
    }
    expect(JSON.stringify(h.logs)).not.toContain("very private prompt")
  })
})
