// The whole service over real HTTP with the real claude binary and the fake Messages API:
// launch -> approval -> transcript -> continue -> replay (JSON, NDJSON, SSE) -> audit,
// then fork and interrupt.
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { RunningService } from "../../src/service.ts"
import type { ClaudeEnv } from "../support/claudeEnv.ts"
import type { FakeAnthropic } from "../support/fakeAnthropic.ts"
import { jsonCall } from "../support/jsonCall.ts"
import { startOfflineService, type OfflineService } from "../support/offlineService.ts"

let world: OfflineService
let fake: FakeAnthropic
let claude: ClaudeEnv
let service: RunningService

beforeAll(async () => {
  world = await startOfflineService("flow", { AGENTLOG_INTERRUPT_GRACE_MS: "3000" })
  ;({ fake, claude, service } = world)
})

afterAll(() => world?.close())

const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  jsonCall(service.url, method, path, body, headers)

const waitFor = async <A>(probe: () => Promise<A | undefined>, what: string, timeoutMs = 45_000): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await probe()
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

const ended = ["completed", "failed", "interrupted", "abandoned"]
const waitForStatus = (sessionId: string, statuses: ReadonlyArray<string>) =>
  waitFor(async () => {
    const r = await call("GET", `/v1/sessions/${sessionId}`)
    return r.status === 200 && statuses.includes(r.body.status) ? r.body : undefined
  }, `session ${sessionId} to be ${statuses.join("/")}`)

/** Reads SSE events until `count` have arrived, then hangs up. */
const readSse = async (path: string, headers: Record<string, string>, count: number) => {
  const ac = new AbortController()
  const res = await fetch(`${service.url}${path}`, { headers, signal: ac.signal })
  expect(res.headers.get("content-type")).toMatch(/text\/event-stream/)
  const events: Array<{ id: string; event: string; data: any }> = []
  const reader = res.body!.getReader()
  let buffer = ""
  const decoder = new TextDecoder()
  while (events.length < count) {
    const { value, done } = await reader.read()
    if (done) break
    buffer += decoder.decode(value, { stream: true })
    let sep: number
    while ((sep = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, sep)
      buffer = buffer.slice(sep + 2)
      const field = (name: string) =>
        block
          .split("\n")
          .filter((l) => l.startsWith(`${name}:`))
          .map((l) => l.slice(name.length + 1).trimStart())
          .join("\n")
      if (field("id")) events.push({ id: field("id"), event: field("event"), data: JSON.parse(field("data")) })
    }
  }
  ac.abort()
  return events
}

describe("the API end to end through the real claude binary", () => {
  let sessionId: string

  it("launches (idempotently), waits for an approval, and completes", async () => {
    const target = join(claude.cwd, "flow.txt")
    fake.setScript([
      { text: "I'll write the file.", toolUse: { name: "Write", input: { file_path: target, content: "flow" }, id: "toolu_flow" } },
      { text: "The file is written." }
    ])
    const body = { query: "please write flow.txt", cwd: claude.cwd, title: "flow test" }
    const first = await call("POST", "/v1/sessions", body, { "idempotency-key": "flow-launch-1" })
    expect(first.status).toBe(202)
    expect(first.body).toMatchObject({ status: "queued" })
    sessionId = first.body.sessionId
    const retry = await call("POST", "/v1/sessions", body, { "idempotency-key": "flow-launch-1" })
    expect(retry.status).toBe(202)
    expect(retry.body).toEqual(first.body)

    const pending = await waitFor(async () => {
      const r = await call("GET", `/v1/approvals?status=pending&session=${sessionId}`)
      return r.body.items.length > 0 ? r.body.items[0] : undefined
    }, "a pending approval")
    expect(pending).toMatchObject({ toolName: "Write", toolUseId: "toolu_flow", sessionId })
    expect((await call("GET", `/v1/sessions/${sessionId}`)).body.status).toBe("waiting_approval")

    const decided = await call("POST", `/v1/approvals/${pending.approvalId}/decision`, { decision: "allow" })
    expect(decided.status).toBe(202)
    const twice = await call("POST", `/v1/approvals/${pending.approvalId}/decision`, { decision: "deny" })
    expect(twice.status).toBe(409)
    expect(twice.headers.get("content-type")).toMatch(/application\/problem\+json/)

    const done = await waitForStatus(sessionId, ended)
    expect(done).toMatchObject({ status: "completed", runs: 1, title: "flow test", pendingApprovals: 0 })
    expect(done.costUsd).toBeGreaterThan(0)
    const list = await call("GET", `/v1/sessions?q=${encodeURIComponent("flow.txt")}`)
    expect(list.body.items.map((s: any) => s.sessionId)).toEqual([sessionId])
  })

  it("shows the conversation as a transcript, the tool call with its approval and result", async () => {
    const t = await call("GET", `/v1/sessions/${sessionId}/transcript`)
    expect(t.status).toBe(200)
    const kinds = t.body.entries.map((e: any) => e.kind)
    expect(kinds[0]).toBe("user_text")
    const toolCall = t.body.entries.find((e: any) => e.kind === "tool_call")
    expect(toolCall).toMatchObject({ toolName: "Write", toolUseId: "toolu_flow" })
    expect(toolCall.approval).toMatchObject({ decision: "allow", decidedBy: "api" })
    expect(toolCall.result.isError).toBeFalsy()
    expect(kinds).toContain("assistant_text")
    expect(kinds.at(-1)).toBe("result")
  })

  it("continues in the same session and stream (idempotently), with If-Match honoured", async () => {
    fake.setScript([{ text: "Second answer, same conversation." }])
    const current = await call("GET", `/v1/sessions/${sessionId}`)
    const etag = current.headers.get("etag")!
    expect(etag).toBe(`"${current.body.revision}"`)
    const stale = await call("POST", `/v1/sessions/${sessionId}/continue`, { query: "and again" }, { "if-match": '"1"' })
    expect(stale.status).toBe(412)
    const cont = await call("POST", `/v1/sessions/${sessionId}/continue`, { query: "and again" }, {
      "if-match": etag,
      "idempotency-key": "flow-continue-1"
    })
    expect(cont.status).toBe(202)
    const again = await call("POST", `/v1/sessions/${sessionId}/continue`, { query: "and again" }, {
      "idempotency-key": "flow-continue-1"
    })
    expect(again.body).toEqual(cont.body)
    const done = await waitForStatus(sessionId, ended)
    expect(done).toMatchObject({ status: "completed", runs: 2 })
  })

  it("replays the full history in order: JSON pages, NDJSON and SSE from Last-Event-ID", async () => {
    const page1 = await call("GET", `/v1/sessions/${sessionId}/events?limit=5`)
    expect(page1.body.items).toHaveLength(5)
    const page2 = await call("GET", `/v1/sessions/${sessionId}/events?fromRevision=${page1.body.nextRevision}&limit=1000`)
    const all = [...page1.body.items, ...page2.body.items]
    expect(all.map((e: any) => e.revision)).toEqual(all.map((_: any, i: number) => i))
    const types = all.map((e: any) => e.type)
    expect(types.filter((t: string) => t === "RunStarted")).toHaveLength(2)
    expect(types.filter((t: string) => t === "RunCompleted")).toHaveLength(2)
    expect(types.indexOf("ApprovalRequested")).toBeLessThan(types.indexOf("ApprovalDecided"))

    const nd = await fetch(`${service.url}/v1/sessions/${sessionId}/events`, { headers: { accept: "application/x-ndjson" } })
    expect(nd.headers.get("content-type")).toMatch(/application\/x-ndjson/)
    const lines = (await nd.text()).trim().split("\n").map((l) => JSON.parse(l))
    expect(lines).toEqual(all)

    const from = all.length - 4
    const live = await readSse(`/v1/sessions/${sessionId}/events/live`, { "last-event-id": String(from) }, 3)
    expect(live.map((e) => Number(e.id))).toEqual([from + 1, from + 2, from + 3])
    expect(live.map((e) => e.event)).toEqual(all.slice(from + 1, from + 4).map((e: any) => e.type))
  })

  it("answers audit queries over all streams", async () => {
    const decided = await call("GET", `/v1/events?type=ApprovalDecided&session=${sessionId}`)
    expect(decided.body.items).toHaveLength(1)
    expect(decided.body.items[0].data).toMatchObject({ decision: "allow", decidedBy: "api" })
    const calls = await call("GET", `/v1/tool-calls?tool=Write&session=${sessionId}`)
    expect(calls.body.items).toHaveLength(1)
    expect(calls.body.items[0]).toMatchObject({ toolName: "Write", decision: "allow", decidedBy: "api", isError: false })
    const approvals = await call("GET", `/v1/approvals?session=${sessionId}`)
    expect(approvals.body.items.map((a: any) => a.status)).toEqual(["allowed"])
  })

  it("forks into a new session and leaves the parent untouched", async () => {
    fake.setScript([{ text: "A forked answer." }])
    const before = (await call("GET", `/v1/sessions/${sessionId}/events?limit=1000`)).body.items.length
    const fork = await call("POST", `/v1/sessions/${sessionId}/fork`, { query: "what if?" })
    expect(fork.status).toBe(202)
    const child = await waitForStatus(fork.body.sessionId, ended)
    expect(child).toMatchObject({ status: "completed", parentSessionId: sessionId })
    const after = (await call("GET", `/v1/sessions/${sessionId}/events?limit=1000`)).body.items.length
    expect(after).toBe(before)
  })

  it("interrupts a running session", async () => {
    fake.setScript([{ slow: { chunks: ["tick ", "tock "], delayMs: 50, hold: true } }])
    const launched = await call("POST", "/v1/sessions", { query: "take your time", cwd: claude.cwd })
    await fake.waitForSlowChunks(1, 30_000)
    await waitForStatus(launched.body.sessionId, ["running"])
    const r = await call("POST", `/v1/sessions/${launched.body.sessionId}/interrupt`)
    expect(r.status).toBe(202)
    const s = await waitForStatus(launched.body.sessionId, ended)
    expect(s.status).toBe("interrupted")
    const again = await call("POST", `/v1/sessions/${launched.body.sessionId}/interrupt`)
    expect(again.status).toBe(409)
  })
})
