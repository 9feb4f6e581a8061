// Drafts, bulk archiving and recent directories over HTTP, against the real store, decider,
// supervisor and read side: what a person writing a session down and coming back to it
// does, and what a client sees when it gets things wrong.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { expectProblem } from "./expectProblem.ts"
import { startHarness, type Harness } from "./httpHarness.ts"

let h: Harness | undefined
let dir: string | undefined
afterEach(async () => {
  await h?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
  h = dir = undefined
})

type Json = Record<string, any>
const json = async (r: Response): Promise<Json> => (await r.json()) as Json

const draft = async (harness: Harness, body: Json, headers: Record<string, string> = {}) => {
  const r = await harness.fetch("/v1/drafts", { method: "POST", json: body, headers })
  expect(r.status, await r.clone().text()).toBe(202)
  return json(r)
}

describe("drafts", () => {
  it("a draft starts nothing, is listed as a draft, is edited, then launched as recorded", async () => {
    h = await startHarness()
    dir = mkdtempSync(join(tmpdir(), "agentlog-draft-"))
    const created = await draft(h, { cwd: dir, model: "sonnet", title: "later" })
    expect(created).toMatchObject({ status: "draft", runId: null, revision: 0 })

    const listed = await json(await h.fetch(`/v1/sessions?status=draft&minPosition=${created.position}`))
    expect(listed.items.map((s: Json) => [s.sessionId, s.status, s.runs, s.runId])).toEqual([[created.sessionId, "draft", 0, ""]])

    const edited = await h.fetch(`/v1/drafts/${created.sessionId}`, {
      method: "PATCH",
      json: { query: "write the tests", maxTurns: 3 },
      headers: { "If-Match": '"0"' }
    })
    expect(edited.status).toBe(202)
    expect(edited.headers.get("etag")).toBe('"1"')
    const stale = await h.fetch(`/v1/drafts/${created.sessionId}`, { method: "PATCH", json: { model: "opus" }, headers: { "If-Match": '"0"' } })
    await expectProblem(stale, 412, "precondition-failed")

    const launched = await h.fetch(`/v1/drafts/${created.sessionId}/launch`, { method: "POST" })
    expect(launched.status).toBe(202)
    const l = await json(launched)
    expect(l).toMatchObject({ sessionId: created.sessionId, status: "queued", revision: 2 })
    const events = await h.events(created.sessionId)
    expect(events.map((e) => e.type).slice(0, 3)).toEqual(["DraftCreated", "DraftEdited", "SessionLaunched"])
    expect(events[2]!.data).toEqual({
      sessionId: created.sessionId,
      runId: l.runId,
      query: "write the tests",
      options: { cwd: dir, model: "sonnet", title: "later", maxTurns: 3 }
    })
    // The supervisor ran it as any launch (this harness's claude does not exist: it fails fast).
    const s = await h.waitForStatus(created.sessionId, "failed")
    expect(s.runs).toBe(1)
    await expectProblem(await h.fetch(`/v1/drafts/${created.sessionId}/launch`, { method: "POST" }), 409, "invalid-transition")
    await expectProblem(await h.fetch(`/v1/drafts/${created.sessionId}`, { method: "PATCH", json: { model: "x" } }), 409, "invalid-transition")
  })

  it("a discarded draft can be restored; meanwhile it cannot be launched or edited", async () => {
    h = await startHarness()
    const { sessionId } = await draft(h, { query: "maybe" })
    expect((await json(await h.fetch(`/v1/drafts/${sessionId}/discard`, { method: "POST" }))).status).toBe("discarded")
    await expectProblem(await h.fetch(`/v1/drafts/${sessionId}/launch`, { method: "POST" }), 409, "invalid-transition")
    await expectProblem(await h.fetch(`/v1/drafts/${sessionId}`, { method: "PATCH", json: { query: "x" } }), 409, "invalid-transition")
    expect((await json(await h.fetch(`/v1/drafts/${sessionId}/restore`, { method: "POST" }))).status).toBe("draft")
    expect((await h.events(sessionId)).map((e) => e.type)).toEqual(["DraftCreated", "DraftDiscarded", "DraftRestored"])
  })

  it("an empty draft cannot be launched; a draft cannot be continued or interrupted", async () => {
    h = await startHarness()
    const { sessionId } = await draft(h, {})
    const p = await expectProblem(await h.fetch(`/v1/drafts/${sessionId}/launch`, { method: "POST" }), 409, "invalid-transition")
    expect(p.detail).toMatch(/the draft has no query yet/)
    await expectProblem(await h.fetch(`/v1/sessions/${sessionId}/continue`, { method: "POST", json: { query: "q" } }), 409, "invalid-transition")
    await expectProblem(await h.fetch(`/v1/sessions/${sessionId}/interrupt`, { method: "POST" }), 409, "invalid-transition")
    expect((await h.events(sessionId)).map((e) => e.type)).toEqual(["DraftCreated"])
  })

  it("refuses secrets, bad directories and unknown fields with 400, appending nothing", async () => {
    h = await startHarness()
    dir = mkdtempSync(join(tmpdir(), "agentlog-draft-"))
    const file = join(dir, "file")
    writeFileSync(file, "")
    const cases: Array<[Json, ReadonlyArray<string>]> = [
      [{ mcpServers: { s: { command: "x", env: { KEY: "secret" } } } }, ["/mcpServers"]],
      [{ cwd: "relative" }, ["/cwd"]],
      [{ additionalDirectories: [dir, join(dir, "missing")] }, ["/additionalDirectories/1"]],
      [{ additionalDirectories: [file] }, ["/additionalDirectories/0"]],
      [{ bogus: 1 }, ["/bogus"]]
    ]
    for (const [body, blamed] of cases) await expectProblem(await h.fetch("/v1/drafts", { method: "POST", json: body }), 400, "validation-failed", blamed)
    // A ${VAR} reference is no secret: accepted.
    await draft(h, { mcpServers: { s: { command: "x", env: { KEY: "${MCP_KEY}" } } } })
    await h.caughtUp()
    expect((await json(await h.fetch("/v1/sessions"))).items).toHaveLength(1)
  })

  it("a keyed draft creation retried is answered as the first, and the key with another draft is 422", async () => {
    h = await startHarness()
    const first = await draft(h, { query: "q" }, { "Idempotency-Key": "draft-1" })
    const again = await h.fetch("/v1/drafts", { method: "POST", json: { query: "q" }, headers: { "Idempotency-Key": "draft-1" } })
    expect(again.status).toBe(202)
    expect(again.headers.get("idempotent-replayed")).toBe("true")
    expect(await json(again)).toEqual(first)
    await expectProblem(
      await h.fetch("/v1/drafts", { method: "POST", json: { query: "other" }, headers: { "Idempotency-Key": "draft-1" } }),
      422,
      "idempotency-key-reused"
    )
  })

  it("a launch with additionalDirectories checks each of them", async () => {
    h = await startHarness()
    dir = mkdtempSync(join(tmpdir(), "agentlog-dirs-"))
    await expectProblem(
      await h.fetch("/v1/sessions", { method: "POST", json: { query: "q", additionalDirectories: ["/nonexistent-agentlog-dir"] } }),
      400,
      "validation-failed",
      ["/additionalDirectories/0"]
    )
    const r = await h.fetch("/v1/sessions", { method: "POST", json: { query: "q", additionalDirectories: [dir] } })
    expect(r.status).toBe(202)
    const { sessionId } = await json(r)
    expect((await h.events(sessionId))[0]!.data).toMatchObject({ options: { additionalDirectories: [dir] } })
  })
})

describe("bulk archive", () => {
  it("archives each session with its own event and names the ones that failed", async () => {
    h = await startHarness()
    const a = await draft(h, { query: "a" })
    const b = await draft(h, { query: "b" })
    await h.fetch(`/v1/sessions/${b.sessionId}/archive`, { method: "POST" })
    const missing = "00000000-0000-4000-8000-000000000000"
    const r = await h.fetch("/v1/bulk/archive", { method: "POST", json: { sessionIds: [a.sessionId, b.sessionId, missing] } })
    expect(r.status).toBe(200)
    const body = await json(r)
    expect(body.succeeded.map((s: Json) => [s.sessionId, s.archived])).toEqual([[a.sessionId, true]])
    expect(body.failed.map((f: Json) => [f.sessionId, f.problem.status, f.problem.type])).toEqual([
      [b.sessionId, 409, "urn:agentlog:problem:invalid-transition"],
      [missing, 404, "urn:agentlog:problem:session-not-found"]
    ])
    expect((await h.events(a.sessionId)).map((e) => e.type)).toEqual(["DraftCreated", "SessionArchived"])
    const un = await json(await h.fetch("/v1/bulk/unarchive", { method: "POST", json: { sessionIds: [a.sessionId, b.sessionId] } }))
    expect(un.succeeded.map((s: Json) => s.archived)).toEqual([false, false])
    await expectProblem(await h.fetch("/v1/bulk/archive", { method: "POST", json: { sessionIds: [] } }), 400, "validation-failed", ["/sessionIds"])
  })
})

describe("recent directories", () => {
  it("lists the working directories of sessions, most recently used first, with how many sessions ran there", async () => {
    h = await startHarness()
    dir = mkdtempSync(join(tmpdir(), "agentlog-recent-"))
    const one = join(dir, "one")
    const two = join(dir, "two")
    for (const d of [one, two]) mkdirSync(d)
    await draft(h, { cwd: `${one}` })
    await draft(h, { cwd: `${two}` })
    const last = await draft(h, { cwd: `${one}` })
    const r = await json(await h.fetch(`/v1/directories/recent?minPosition=${last.position}`))
    expect(r.items.map((d: Json) => [d.path, d.sessions])).toEqual([[one, 2], [two, 1]])
    await expectProblem(await h.fetch("/v1/directories/recent?limit=0"), 400, "validation-failed", ["?limit"])
  })
})
