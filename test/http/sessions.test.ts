// Commands over HTTP: launch, continue, fork, interrupt, archive/unarchive, rename, with
// If-Match and Idempotency-Key, against the real store, decider, supervisor and read side.
import { randomUUID } from "node:crypto"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { Effect, Stream } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { derivedUuid } from "../../src/http/idempotency.ts"
import { expectProblem } from "./expectProblem.ts"
import { problemOf, startHarness, type Harness, type HarnessOptions } from "./httpHarness.ts"

let h: Harness | undefined
const start = async (options?: HarnessOptions) => (h = await startHarness(options))
afterEach(async () => {
  await h?.close()
  h = undefined
})

type Json = Record<string, any>
const json = async (r: Response): Promise<Json> => (await r.json()) as Json

const countType = async (harness: Harness, type: string): Promise<number> =>
  (await Effect.runPromise(Stream.runCollect(harness.store.readAll({ filter: { eventTypes: [type] } })))).length

describe("POST /v1/sessions (launch)", () => {
  it("answers 202 with ids, status and the position; the run is submitted and fails fast", async () => {
    const h = await start()
    const r = await h.fetch("/v1/sessions", { method: "POST", json: { query: "hello", model: "sonnet", maxTurns: 3, title: "T" } })
    expect(r.status).toBe(202)
    const body = await json(r)
    expect(body).toMatchObject({ status: "queued", revision: 0 })
    expect(body.sessionId).toMatch(/^[0-9a-f-]{36}$/)
    expect(body.runId).toMatch(/^[0-9a-f-]{36}$/)
    expect(typeof body.position).toBe("string")
    expect(r.headers.get("etag")).toBe('"0"')
    const events = await h.events(body.sessionId)
    expect(events[0]!.type).toBe("SessionLaunched")
    expect(events[0]!.data).toMatchObject({ query: "hello", runId: body.runId, options: { model: "sonnet", maxTurns: 3, title: "T" } })
    expect(events[0]!.metadata).toMatchObject({ source: "api" })
    await h.waitForStatus(body.sessionId, "failed")
  })

  it("uses X-Request-Id as the correlation id of what it appends", async () => {
    const h = await start()
    const r = await h.fetch("/v1/sessions", { method: "POST", json: { query: "x" }, headers: { "x-request-id": "req-abc.123" } })
    expect(r.headers.get("x-request-id")).toBe("req-abc.123")
    const { sessionId } = await json(r)
    expect((await h.events(sessionId))[0]!.metadata).toMatchObject({ correlationId: "req-abc.123", source: "api" })
  })

  it("reads its own write with minPosition", async () => {
    const h = await start()
    const { sessionId, position } = await json(await h.fetch("/v1/sessions", { method: "POST", json: { query: "q" } }))
    const r = await h.fetch(`/v1/sessions/${sessionId}?minPosition=${position}`)
    expect(r.status).toBe(200)
    expect((await json(r)).sessionId).toBe(sessionId)
  })

  it("reports the queue position when every slot is taken", async () => {
    // A `claude` that starts and never answers keeps the only slot busy.
    const h = await start({ maxRunning: 1, hangingClaude: true })
    const first = await json(await h.fetch("/v1/sessions", { method: "POST", json: { query: "one" } }))
    expect(first.queuePosition).toBeUndefined()
    await h.waitForStatus(first.sessionId, "running")
    const second = await json(await h.fetch("/v1/sessions", { method: "POST", json: { query: "two" } }))
    expect(second).toMatchObject({ status: "queued", queuePosition: 1 })
    const got = await h.fetch(`/v1/sessions/${second.sessionId}?minPosition=${second.position}`)
    expect(await json(got)).toMatchObject({ status: "queued", queuePosition: 1 })
    // Interrupting the queued one stops it before it ever starts.
    expect(await json(await h.fetch(`/v1/sessions/${second.sessionId}/interrupt`, { method: "POST" }))).toMatchObject({
      status: "interrupted"
    })
    h.killClaudes()
    await h.waitForStatus(first.sessionId, "failed")
  })

  it("validates the body: 400 with every problem, unknown fields refused", async () => {
    const h = await start()
    const r = await h.fetch("/v1/sessions", { method: "POST", json: { maxTurns: 0, bogus: true, permissionMode: "yolo" } })
    expect(r.status).toBe(400)
    const p = await problemOf(r)
    expect(p.status).toBe(400)
    const paths = (p.errors as Array<{ path: string }>).map((e) => e.path).sort()
    expect(paths).toEqual(["/bogus", "/maxTurns", "/permissionMode", "/query"])
    expect(await countType(h, "SessionLaunched")).toBe(0)
  })

  it("refuses a body that is not an object, and a missing body", async () => {
    const h = await start()
    await expectProblem(await h.fetch("/v1/sessions", { method: "POST", json: ["query"] }), 400, "validation-failed", [""])
    const none = await h.fetch("/v1/sessions", { method: "POST" })
    expect((await expectProblem(none, 400, "validation-failed")).errors).toEqual([{ path: "/query", message: "Missing key" }])
  })

  it("checks that cwd exists and is a directory", async () => {
    const h = await start()
    const missing = await h.fetch("/v1/sessions", { method: "POST", json: { query: "q", cwd: join(h.dataDir, "nope") } })
    expect((await expectProblem(missing, 400, "validation-failed", ["/cwd"])).detail).toMatch(/does not exist/)
    const file = join(h.dataDir, "file.txt")
    writeFileSync(file, "x")
    const notDir = await h.fetch("/v1/sessions", { method: "POST", json: { query: "q", cwd: file } })
    expect((await expectProblem(notDir, 400, "validation-failed", ["/cwd"])).detail).toMatch(/not a directory/)
    const relative = await h.fetch("/v1/sessions", { method: "POST", json: { query: "q", cwd: "some/dir" } })
    expect((await expectProblem(relative, 400, "validation-failed", ["/cwd"])).detail).toMatch(/not an absolute path/)
    const ok = await h.fetch("/v1/sessions", { method: "POST", json: { query: "q", cwd: h.dataDir } })
    expect(ok.status).toBe(202)
    await h.waitForStatus((await json(ok)).sessionId, "failed")
  })

  it("keeps MCP secrets out of the record", async () => {
    const h = await start()
    const r = await h.fetch("/v1/sessions", {
      method: "POST",
      json: { query: "q", mcpServers: { s: { command: "srv", env: { TOKEN: "hunter2", REF: "${HOME}" } } } }
    })
    expect(r.status).toBe(202)
    const { sessionId } = await json(r)
    const text = JSON.stringify((await h.events(sessionId)).map((e) => e.data))
    expect(text).not.toContain("hunter2")
    expect(text).toContain("${HOME}")
    await h.waitForStatus(sessionId, "failed")
  })
})

describe("Idempotency-Key", () => {
  const launch = (harness: Harness, key: string, body: Json) =>
    harness.fetch("/v1/sessions", { method: "POST", json: body, headers: { "idempotency-key": key } })

  it("a retry gets the first answer and launches nothing twice", async () => {
    const h = await start()
    const first = await launch(h, "key-1", { query: "once", model: "m" })
    const firstBody = await json(first)
    // The same request, keys in another order.
    const again = await launch(h, "key-1", { model: "m", query: "once" })
    expect(again.status).toBe(first.status)
    expect(await json(again)).toEqual(firstBody)
    expect(again.headers.get("idempotent-replayed")).toBe("true")
    expect(await countType(h, "SessionLaunched")).toBe(1)
    await h.waitForStatus(firstBody.sessionId, "failed")
  })

  it("concurrent retries launch once", async () => {
    const h = await start()
    const rs = await Promise.all([1, 2, 3, 4].map(() => launch(h, "key-c", { query: "race" })))
    const bodies = await Promise.all(rs.map(json))
    for (const r of rs) expect(r.status).toBe(202)
    for (const b of bodies) expect(b).toEqual(bodies[0])
    expect(await countType(h, "SessionLaunched")).toBe(1)
    await h.waitForStatus(bodies[0]!.sessionId, "failed")
  })

  it("the same key with a different body is 422", async () => {
    const h = await start()
    const first = await json(await launch(h, "key-2", { query: "a" }))
    const r = await launch(h, "key-2", { query: "b" })
    expect(r.status).toBe(422)
    expect((await problemOf(r)).type).toMatch(/idempotency-key-reused/)
    expect(await countType(h, "SessionLaunched")).toBe(1)
    await h.waitForStatus(first.sessionId, "failed")
  })

  it("a refused request frees its key", async () => {
    const h = await start()
    await expectProblem(await launch(h, "key-3", { query: "q", cwd: "/no/such/dir" }), 400, "validation-failed", ["/cwd"])
    const ok = await launch(h, "key-3", { query: "q" })
    expect(ok.status).toBe(202)
    await h.waitForStatus((await json(ok)).sessionId, "failed")
  })

  it("survives a restart of the API (the store is the record of keys)", async () => {
    const h = await start()
    const first = await json(await launch(h, "key-r", { query: "persist" }))
    await h.restartHttp()
    const again = await launch(h, "key-r", { query: "persist" })
    expect(again.status).toBe(202)
    expect(await json(again)).toEqual(first)
    expect((await launch(h, "key-r", { query: "other" })).status).toBe(422)
    expect(await countType(h, "SessionLaunched")).toBe(1)
    await h.waitForStatus(first.sessionId, "failed")
  })

  it("a crash between the append and the stored answer does not launch twice", async () => {
    const h = await start()
    const key = "key-crash"
    const sessionId = derivedUuid("launch", "session", key)
    const runId = derivedUuid("launch", "run", key)
    // The first attempt appended, then died before it could store its answer.
    await h.command({ kind: "LaunchSession", sessionId, runId, query: "q", options: {} })
    const r = await launch(h, key, { query: "q" })
    expect(r.status).toBe(202)
    expect(await json(r)).toMatchObject({ sessionId, runId })
    expect(await countType(h, "SessionLaunched")).toBe(1)
  })

  it("continue: a retry after a crash finds the run it already requested", async () => {
    const h = await start()
    const { sessionId } = await h.seedCompleted()
    const key = "key-continue"
    const body = { query: "again" }
    const path = `/v1/sessions/${sessionId}/continue`
    const runId = derivedUuid("continue", sessionId, key)
    // The first attempt appended ContinueRequested, then crashed before it answered.
    await h.command({ kind: "ContinueSession", sessionId, runId, query: "again", overrides: {} })
    const r = await h.fetch(path, { method: "POST", json: body, headers: { "idempotency-key": key } })
    expect(r.status).toBe(202)
    expect(await json(r)).toMatchObject({ sessionId, runId })
    expect(await countType(h, "ContinueRequested")).toBe(1)
    // Still the first answer once that run has ended (a new continue would be accepted then).
    await h.command({ kind: "FinishRun", sessionId, runId, outcome: { kind: "failed", error: "x" } })
    const again = await h.fetch(path, { method: "POST", json: body, headers: { "idempotency-key": key } })
    expect(again.headers.get("idempotent-replayed")).toBe("true")
    expect(await countType(h, "ContinueRequested")).toBe(1)
  })

  it("continue and fork honour keys too", async () => {
    const h = await start()
    const { sessionId } = await h.seedCompleted()
    const headers = { "idempotency-key": "k-cf" }
    const c1 = await h.fetch(`/v1/sessions/${sessionId}/continue`, { method: "POST", json: { query: "c" }, headers })
    expect(c1.status).toBe(202)
    const c1Body = await json(c1)
    const c2 = await h.fetch(`/v1/sessions/${sessionId}/continue`, { method: "POST", json: { query: "c" }, headers })
    expect(await json(c2)).toEqual(c1Body)
    expect(await countType(h, "ContinueRequested")).toBe(1)
    await h.waitForStatus(sessionId, "failed")

    const { sessionId: parent } = await h.seedCompleted()
    // A key names one request on one target: the same key on another route or session is another request.
    const other = await h.fetch(`/v1/sessions/${parent}/fork`, { method: "POST", json: { query: "c" }, headers })
    expect(other.status).toBe(202)
    const otherBody = await json(other)
    await h.waitForStatus(otherBody.sessionId, "failed")
    // The same key and target with another body is refused.
    const reused = await h.fetch(`/v1/sessions/${sessionId}/continue`, { method: "POST", json: { query: "d" }, headers })
    expect(reused.status).toBe(422)
    const forkHeaders = { "idempotency-key": "k-fork" }
    const f1 = await json(await h.fetch(`/v1/sessions/${parent}/fork`, { method: "POST", json: { query: "f" }, headers: forkHeaders }))
    const f2 = await json(await h.fetch(`/v1/sessions/${parent}/fork`, { method: "POST", json: { query: "f" }, headers: forkHeaders }))
    expect(f2).toEqual(f1)
    expect(await countType(h, "SessionForked")).toBe(2)
    await h.waitForStatus(f1.sessionId, "failed")
  })

  it("refuses a malformed key", async () => {
    const h = await start()
    const r = await launch(h, "x".repeat(256), { query: "q" })
    await expectProblem(r, 400, "validation-failed", ["Idempotency-Key"])
    expect(await countType(h, "SessionLaunched")).toBe(0)
  })
})

describe("POST /v1/sessions/:id/continue", () => {
  it("continues an ended session: 202 with a new run", async () => {
    const h = await start()
    const { sessionId, runId: firstRun } = await h.seedCompleted()
    const r = await h.fetch(`/v1/sessions/${sessionId}/continue`, { method: "POST", json: { query: "more", maxTurns: 2 } })
    expect(r.status).toBe(202)
    const body = await json(r)
    expect(body).toMatchObject({ sessionId, status: "queued" })
    expect(body.runId).not.toBe(firstRun)
    const events = await h.events(sessionId)
    expect(events.find((e) => e.type === "ContinueRequested")!.data).toMatchObject({
      runId: body.runId,
      query: "more",
      overrides: { maxTurns: 2 }
    })
    await h.waitForStatus(sessionId, "failed")
  })

  it("while a run is active it is queued as a follow-up (202), the active run untouched (see followUps.test.ts)", async () => {
    const h = await start()
    const { sessionId, runId } = await h.seedRunning()
    const before = (await h.events(sessionId)).length
    const r = await h.fetch(`/v1/sessions/${sessionId}/continue`, { method: "POST", json: { query: "more" } })
    expect(r.status).toBe(202)
    expect(await r.json()).toMatchObject({ status: "running", followUpId: expect.any(String) })
    const events = await h.events(sessionId)
    expect(events.slice(before).map((e) => e.type)).toEqual(["FollowUpQueued"])
    expect(events.at(-1)!.data).toMatchObject({ query: "more", afterRunId: runId })
  })

  it("404 for an unknown session and for an id that is not a UUID", async () => {
    const h = await start()
    const r = await h.fetch(`/v1/sessions/${randomUUID()}/continue`, { method: "POST", json: { query: "q" } })
    await expectProblem(r, 404, "session-not-found")
    await expectProblem(await h.fetch(`/v1/sessions/not-a-uuid/continue`, { method: "POST", json: { query: "q" } }), 404, "not-found")
  })

  it("does not take a title override (rename with PATCH)", async () => {
    const h = await start()
    const { sessionId } = await h.seedCompleted()
    const r = await h.fetch(`/v1/sessions/${sessionId}/continue`, { method: "POST", json: { query: "q", title: "t" } })
    await expectProblem(r, 400, "validation-failed", ["/title"])
  })
})

describe("POST /v1/sessions/:id/fork", () => {
  it("forks from the parent's Claude session into a new session", async () => {
    const h = await start()
    const parent = await h.seedCompleted()
    const r = await h.fetch(`/v1/sessions/${parent.sessionId}/fork`, { method: "POST", json: { query: "branch", model: "opus" } })
    expect(r.status).toBe(202)
    const body = await json(r)
    expect(body.sessionId).not.toBe(parent.sessionId)
    expect(body.parentSessionId).toBe(parent.sessionId)
    const [first] = await h.events(body.sessionId)
    expect(first!.type).toBe("SessionForked")
    expect(first!.data).toMatchObject({
      parentSessionId: parent.sessionId,
      parentClaudeSessionId: parent.claudeSessionId,
      query: "branch",
      options: { model: "opus" }
    })
    await h.waitForStatus(body.sessionId, "failed")
  })

  it("409 when the parent has no Claude conversation yet; 404 when unknown", async () => {
    const h = await start()
    const { sessionId } = await h.seedSession()
    const r = await h.fetch(`/v1/sessions/${sessionId}/fork`, { method: "POST", json: { query: "q" } })
    expect(r.status).toBe(409)
    expect((await h.fetch(`/v1/sessions/${randomUUID()}/fork`, { method: "POST", json: { query: "q" } })).status).toBe(404)
  })

  it("If-Match on the parent: 412 when it moved on", async () => {
    const h = await start()
    const parent = await h.seedCompleted()
    const r = await h.fetch(`/v1/sessions/${parent.sessionId}/fork`, {
      method: "POST",
      json: { query: "q" },
      headers: { "if-match": '"1"' }
    })
    expect(r.status).toBe(412)
    expect(await countType(h, "SessionForked")).toBe(0)
  })
})

describe("POST /v1/sessions/:id/interrupt", () => {
  it("interrupts a running session (202) and records who asked", async () => {
    const h = await start()
    const { sessionId } = await h.seedRunning()
    const r = await h.fetch(`/v1/sessions/${sessionId}/interrupt`, { method: "POST" })
    expect(r.status).toBe(202)
    expect(await json(r)).toMatchObject({ sessionId, status: "running" })
    const e = (await h.events(sessionId)).find((x) => x.type === "InterruptRequested")
    expect(e!.data).toMatchObject({ requestedBy: "api" })
  })

  it("stops a queued run at once", async () => {
    const h = await start()
    const { sessionId } = await h.seedSession()
    const r = await h.fetch(`/v1/sessions/${sessionId}/interrupt`, { method: "POST", json: {} })
    expect(r.status).toBe(202)
    expect((await json(r)).status).toBe("interrupted")
  })

  it("409 when no run is active; 400 for a body with fields", async () => {
    const h = await start()
    const { sessionId } = await h.seedCompleted()
    expect((await h.fetch(`/v1/sessions/${sessionId}/interrupt`, { method: "POST" })).status).toBe(409)
    const { sessionId: running } = await h.seedRunning()
    expect((await h.fetch(`/v1/sessions/${running}/interrupt`, { method: "POST", json: { now: true } })).status).toBe(400)
  })
})

describe("housekeeping", () => {
  it("archive and unarchive (409 when already in that state)", async () => {
    const h = await start()
    const { sessionId } = await h.seedCompleted()
    const a = await h.fetch(`/v1/sessions/${sessionId}/archive`, { method: "POST" })
    expect(a.status).toBe(202)
    const { position } = await json(a)
    expect((await h.fetch(`/v1/sessions/${sessionId}/archive`, { method: "POST" })).status).toBe(409)
    const listed = await json(await h.fetch(`/v1/sessions?archived=true&minPosition=${position}`))
    expect(listed.items.map((s: Json) => s.sessionId)).toEqual([sessionId])
    expect((await h.fetch(`/v1/sessions/${sessionId}/unarchive`, { method: "POST" })).status).toBe(202)
    expect((await h.fetch(`/v1/sessions/${sessionId}/unarchive`, { method: "POST" })).status).toBe(409)
  })

  it("PATCH renames; the title is validated", async () => {
    const h = await start()
    const { sessionId } = await h.seedCompleted()
    const r = await h.fetch(`/v1/sessions/${sessionId}`, { method: "PATCH", json: { title: "New name" } })
    expect(r.status).toBe(202)
    const { position } = await json(r)
    const s = await json(await h.fetch(`/v1/sessions/${sessionId}?minPosition=${position}`))
    expect(s.title).toBe("New name")
    await expectProblem(await h.fetch(`/v1/sessions/${sessionId}`, { method: "PATCH", json: { title: "" } }), 400, "validation-failed", ["/title"])
    await expectProblem(
      await h.fetch(`/v1/sessions/${sessionId}`, { method: "PATCH", json: { title: "x", status: "done" } }),
      400,
      "validation-failed",
      ["/status"]
    )
    await expectProblem(await h.fetch(`/v1/sessions/${randomUUID()}`, { method: "PATCH", json: { title: "x" } }), 404, "session-not-found")
  })
})

describe("ETag and If-Match", () => {
  it("GET hands out the revision as ETag; a command with a stale If-Match is 412, a current one passes", async () => {
    const h = await start()
    const { sessionId } = await h.seedCompleted()
    await h.caughtUp()
    const g = await h.fetch(`/v1/sessions/${sessionId}`)
    const etag = g.headers.get("etag")!
    expect(etag).toMatch(/^"\d+"$/)
    expect((await json(g)).revision).toBe(Number(etag.slice(1, -1)))

    const renamed = await h.fetch(`/v1/sessions/${sessionId}`, { method: "PATCH", json: { title: "one" }, headers: { "if-match": etag } })
    expect(renamed.status).toBe(202)
    const newEtag = renamed.headers.get("etag")
    expect(newEtag).not.toBe(etag)

    const stale = await h.fetch(`/v1/sessions/${sessionId}`, { method: "PATCH", json: { title: "two" }, headers: { "if-match": etag } })
    expect(stale.status).toBe(412)
    expect(await problemOf(stale)).toMatchObject({ status: 412, currentRevision: newEtag!.slice(1, -1) })

    for (const path of ["archive", "continue", "interrupt"]) {
      const r = await h.fetch(`/v1/sessions/${sessionId}/${path}`, {
        method: "POST",
        json: path === "continue" ? { query: "q" } : {},
        headers: { "if-match": etag }
      })
      expect(r.status, path).toBe(412)
    }
    const ok = await h.fetch(`/v1/sessions/${sessionId}/archive`, { method: "POST", headers: { "if-match": newEtag! } })
    expect(ok.status).toBe(202)
  })

  it("a malformed If-Match is 400", async () => {
    const h = await start()
    const { sessionId } = await h.seedCompleted()
    for (const value of ['W/"1"', '"1", "2"', "1"]) {
      const r = await h.fetch(`/v1/sessions/${sessionId}/archive`, { method: "POST", headers: { "if-match": value } })
      await expectProblem(r, 400, "validation-failed", ["If-Match"])
    }
    // A route that has no revision to check refuses If-Match rather than ignore it.
    const launch = await h.fetch("/v1/sessions", { method: "POST", json: { query: "q" }, headers: { "if-match": '"0"' } })
    await expectProblem(launch, 400, "bad-request")
  })
})
