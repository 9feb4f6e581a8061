// Reads over HTTP: the session list (filters, keyset pagination), one session, its
// transcript, tool calls, approvals and deciding one; minPosition's bounded wait.
import { randomUUID } from "node:crypto"
import { Effect } from "effect"
import { afterEach, describe, expect, it } from "vitest"
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

/** A running session where Claude used Bash (after an approval) and got a result. */
const seedToolUse = async (harness: Harness) => {
  const { sessionId, runId } = await harness.seedRunning()
  const approvalId = randomUUID()
  await harness.command({
    kind: "RecordClaudeMessage",
    sessionId,
    runId,
    message: {
      type: "assistant",
      uuid: randomUUID(),
      message: {
        id: "msg_1",
        role: "assistant",
        content: [
          { type: "text", text: "Let me look." },
          { type: "tool_use", id: "toolu_1", name: "Bash", input: { command: "ls" } }
        ]
      }
    }
  })
  await harness.command({
    kind: "RequestApproval",
    sessionId,
    runId,
    approvalId,
    toolUseId: "toolu_1",
    toolName: "Bash",
    input: { command: "ls" },
    suggestions: []
  })
  return { sessionId, runId, approvalId }
}

describe("GET /v1/sessions", () => {
  it("pages with cursors: every session once, newest first", async () => {
    const h = await start()
    const ids: Array<string> = []
    for (let i = 0; i < 5; i++) ids.push((await h.seedSession({}, `query ${i}`)).sessionId)
    await h.caughtUp()
    const seen: Array<string> = []
    const activity: Array<string> = []
    let cursor: string | null = null
    let pages = 0
    do {
      const r = await h.fetch(`/v1/sessions?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`)
      expect(r.status).toBe(200)
      const page = await json(r)
      expect(page.items.length).toBeLessThanOrEqual(2)
      seen.push(...page.items.map((s: Json) => s.sessionId))
      activity.push(...page.items.map((s: Json) => `${s.createdAt} ${s.sessionId}`))
      cursor = page.nextCursor
      pages++
    } while (cursor !== null)
    expect(pages).toBe(3)
    expect([...seen].sort()).toEqual([...ids].sort())
    // Newest first by creation (ties broken by id): a key that never changes, so pages never skip or repeat.
    expect(activity).toEqual([...activity].sort().reverse())
  })

  it("filters by status, archived and text", async () => {
    const h = await start()
    const queued = await h.seedSession({}, "find the needle")
    const running = await h.seedRunning({ title: "Haystack" })
    const archived = await h.seedCompleted()
    await h.command({ kind: "ArchiveSession", sessionId: archived.sessionId })
    await h.caughtUp()
    const ids = async (q: string) => (await json(await h.fetch(`/v1/sessions?${q}`))).items.map((s: Json) => s.sessionId)
    expect(await ids("status=queued")).toEqual([queued.sessionId])
    expect(await ids("status=running")).toEqual([running.sessionId])
    expect(await ids("archived=true")).toEqual([archived.sessionId])
    expect((await ids("archived=false")).sort()).toEqual([queued.sessionId, running.sessionId].sort())
    expect(await ids("q=needle")).toEqual([queued.sessionId])
    expect(await ids("q=haystack")).toEqual([running.sessionId])
  })

  it("refuses bad parameters: limit out of 1..200, unknown status, a foreign cursor", async () => {
    const h = await start()
    for (const q of ["limit=0", "limit=201", "limit=abc", "status=sleeping", "archived=yes", "cursor=nope", "minPosition=x", "bogus=1"]) {
      await expectProblem(await h.fetch(`/v1/sessions?${q}`), 400, "validation-failed", [`?${q.split("=")[0]}`])
    }
    expect((await h.fetch("/v1/sessions?limit=200")).status).toBe(200)
  })
})

describe("GET /v1/sessions/:id", () => {
  it("one session with totals, revision and ETag", async () => {
    const h = await start()
    const { sessionId } = await h.seedCompleted()
    await h.caughtUp()
    const r = await h.fetch(`/v1/sessions/${sessionId}`)
    expect(r.status).toBe(200)
    const s = await json(r)
    const last = Number((await h.events(sessionId)).at(-1)!.revision)
    expect(s).toMatchObject({ sessionId, status: "completed", runs: 1, revision: last })
    expect(s).toHaveProperty("costUsd")
    expect(s).toHaveProperty("inputTokens")
    expect(s).toHaveProperty("turns")
    expect(r.headers.get("etag")).toBe(`"${last}"`)
  })

  it("404 for an unknown session and for a path id that is not a UUID", async () => {
    const h = await start()
    for (const path of [`/v1/sessions/${randomUUID()}`, `/v1/sessions/${randomUUID()}/transcript`])
      await expectProblem(await h.fetch(path), 404, "session-not-found")
    for (const path of ["/v1/sessions/123", "/v1/sessions/..%2F.."]) await expectProblem(await h.fetch(path), 404, "not-found")
  })
})

describe("GET /v1/sessions/:id/transcript", () => {
  it("ordered entries, tool calls carry their approval", async () => {
    const h = await start()
    const { sessionId, approvalId } = await seedToolUse(h)
    await h.caughtUp()
    const r = await h.fetch(`/v1/sessions/${sessionId}/transcript`)
    expect(r.status).toBe(200)
    const t = await json(r)
    expect(t.sessionId).toBe(sessionId)
    const kinds = t.entries.map((e: Json) => e.kind)
    expect(kinds).toEqual(expect.arrayContaining(["user_text", "assistant_text", "tool_call"]))
    const seqs = t.entries.map((e: Json) => e.seq)
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
    const call = t.entries.find((e: Json) => e.kind === "tool_call")
    expect(call).toMatchObject({ toolName: "Bash", toolUseId: "toolu_1", approval: { approvalId, decision: "pending" } })
    // Paged by seq.
    const page = await json(await h.fetch(`/v1/sessions/${sessionId}/transcript?limit=1&afterSeq=1`))
    expect(page.entries.map((e: Json) => e.seq)).toEqual([2])
    expect(page.nextAfterSeq).toBe(2)
    const all = await h.fetch(`/v1/sessions/${sessionId}/transcript?limit=500`)
    expect(all.headers.get("content-type")).toBe("application/json")
    const whole = await json(all)
    expect(whole).toMatchObject({ sessionId, entries: t.entries, nextAfterSeq: null })
    expect(whole.revision).toBe(t.revision)
  })
})

describe("approvals", () => {
  it("lists pending approvals and decides one; a second decision is 409", async () => {
    const h = await start()
    const { sessionId, approvalId } = await seedToolUse(h)
    await h.caughtUp()
    const pending = await json(await h.fetch("/v1/approvals?status=pending"))
    expect(pending.items.map((a: Json) => a.approvalId)).toEqual([approvalId])
    expect((await json(await h.fetch(`/v1/approvals?session=${sessionId}`))).items).toHaveLength(1)
    expect((await json(await h.fetch(`/v1/approvals?session=${randomUUID()}`))).items).toHaveLength(0)
    expect(await json(await h.fetch(`/v1/approvals/${approvalId}`))).toMatchObject({ approvalId, sessionId, status: "pending" })

    const r = await h.fetch(`/v1/approvals/${approvalId}/decision`, {
      method: "POST",
      json: { decision: "allow", message: "fine", updatedInput: { command: "ls -la" } }
    })
    expect(r.status).toBe(202)
    const body = await json(r)
    expect(body).toMatchObject({ approvalId, sessionId, decision: "allow", status: "running" })
    const decided = (await h.events(sessionId)).find((e) => e.type === "ApprovalDecided")
    expect(decided!.data).toMatchObject({ approvalId, decision: "allow", decidedBy: "api", updatedInput: { command: "ls -la" } })
    expect(decided!.metadata).toMatchObject({ source: "api" })

    const again = await h.fetch(`/v1/approvals/${approvalId}/decision`, { method: "POST", json: { decision: "deny" } })
    expect(again.status).toBe(409)
    expect((await problemOf(again)).type).toMatch(/approval-already-decided/)

    const allowed = await json(await h.fetch(`/v1/approvals?status=allowed&minPosition=${body.position}`))
    expect(allowed.items.map((a: Json) => a.approvalId)).toEqual([approvalId])
    const calls = await json(await h.fetch(`/v1/tool-calls?session=${sessionId}&minPosition=${body.position}`))
    expect(calls.items[0]).toMatchObject({ toolUseId: "toolu_1", toolName: "Bash", decision: "allow", decidedBy: "api" })
  })

  it("404 for an unknown approval or a non-UUID id; 400 for a bad decision", async () => {
    const h = await start()
    const { approvalId } = await seedToolUse(h)
    const unknown = await h.fetch(`/v1/approvals/${randomUUID()}/decision`, { method: "POST", json: { decision: "allow" } })
    await expectProblem(unknown, 404, "approval-not-found")
    await expectProblem(await h.fetch(`/v1/approvals/abc/decision`, { method: "POST", json: { decision: "allow" } }), 404, "not-found")
    await expectProblem(await h.fetch(`/v1/approvals/${randomUUID()}`), 404, "approval-not-found")
    const bad = await h.fetch(`/v1/approvals/${approvalId}/decision`, { method: "POST", json: { decision: "maybe" } })
    await expectProblem(bad, 400, "validation-failed", ["/decision"])
    await expectProblem(await h.fetch("/v1/approvals?status=open"), 400, "validation-failed", ["?status"])
    // The decision refuses If-Match (documented): a session's revision moves with every streamed event.
    const ifMatch = await h.fetch(`/v1/approvals/${approvalId}/decision`, {
      method: "POST",
      json: { decision: "allow" },
      headers: { "if-match": '"0"' }
    })
    expect((await expectProblem(ifMatch, 400, "bad-request")).detail).toMatch(/does not take If-Match/)
  })

  it("finds an approval the read models have not projected yet", async () => {
    const h = await start()
    const { approvalId } = await seedToolUse(h)
    // No caughtUp(): the decision waits for the read models itself.
    const r = await h.fetch(`/v1/approvals/${approvalId}/decision`, { method: "POST", json: { decision: "deny", message: "no" } })
    expect(r.status).toBe(202)
  })
})

describe("GET /v1/tool-calls", () => {
  it("the audit index, filtered by tool, session and decision, paged", async () => {
    const h = await start()
    const a = await seedToolUse(h)
    const b = await seedToolUse(h)
    await h.caughtUp()
    const all = await json(await h.fetch("/v1/tool-calls"))
    expect(all.items).toHaveLength(2)
    expect(all.items[0]).toMatchObject({ toolName: "Bash", input: { command: "ls" }, decision: "pending" })
    expect((await json(await h.fetch(`/v1/tool-calls?session=${a.sessionId}`))).items).toHaveLength(1)
    expect((await json(await h.fetch("/v1/tool-calls?tool=Read"))).items).toHaveLength(0)
    expect((await json(await h.fetch("/v1/tool-calls?decision=pending"))).items).toHaveLength(2)
    const first = await json(await h.fetch("/v1/tool-calls?limit=1"))
    expect(first.items).toHaveLength(1)
    const second = await json(await h.fetch(`/v1/tool-calls?limit=1&cursor=${encodeURIComponent(first.nextCursor)}`))
    expect(second.items).toHaveLength(1)
    expect(second.nextCursor).toBeNull()
    expect(new Set([first.items[0].sessionId, second.items[0].sessionId])).toEqual(new Set([a.sessionId, b.sessionId]))
    await expectProblem(await h.fetch("/v1/tool-calls?after=yesterday"), 400, "validation-failed", ["?after"])
    // A date without a time is not an RFC 3339 date-time either; one with an offset is.
    await expectProblem(await h.fetch("/v1/tool-calls?before=2026-01-01"), 400, "validation-failed", ["?before"])
    expect((await h.fetch(`/v1/tool-calls?after=${encodeURIComponent("2000-01-01T00:00:00+02:00")}`)).status).toBe(200)
  })
})

describe("minPosition", () => {
  it("waits for the read models, bounded, then 503 with Retry-After", async () => {
    const h = await start({
      config: { readWaitMs: 200 },
      // Read models that never get there.
      wrap: (deps) => ({
        ...deps,
        projections: { ...deps.projections, waitForPosition: (_p, ms) => Effect.as(Effect.sleep(ms), false) }
      })
    })
    const { sessionId } = await h.seedSession()
    for (const path of [
      "/v1/sessions",
      `/v1/sessions/${sessionId}`,
      `/v1/sessions/${sessionId}/transcript`,
      `/v1/sessions/${sessionId}/events`,
      "/v1/events",
      "/v1/tool-calls",
      "/v1/approvals"
    ]) {
      const started = Date.now()
      const r = await h.fetch(`${path}?minPosition=1`)
      expect(r.status, path).toBe(503)
      expect(r.headers.get("retry-after")).toBe("1")
      expect((await problemOf(r)).status).toBe(503)
      expect(Date.now() - started).toBeGreaterThanOrEqual(190)
    }
  })

  it("answers as soon as the read models pass it", async () => {
    const h = await start()
    const launched = await json(await h.fetch("/v1/sessions", { method: "POST", json: { query: "q", title: "mine" } }))
    const list = await json(await h.fetch(`/v1/sessions?minPosition=${launched.position}`))
    expect(list.items.map((s: Json) => s.sessionId)).toContain(launched.sessionId)
    await h.waitForStatus(launched.sessionId, "failed")
  })
})
