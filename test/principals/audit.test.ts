// The audit report: every approval of a time range with who decided what and after how
// long (the system's reason when no person did), each row checked against the stream and
// revisions it cites, as JSON, CSV and NDJSON, streamed page by page.
import { randomUUID } from "node:crypto"
import { join } from "node:path"
import { Effect, Stream } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { addKey } from "../../src/principals/keyFile.ts"
import { startHarness, type Harness } from "../http/httpHarness.ts"

const token = "audit-test-token-0123456789"
let h: Harness
const key: Record<string, string> = {}
const ids: Record<string, string> = {}
let start: string
// Each request on its own connection: the harness's projections share this process, and a
// long catch-up delays the server's keep-alive timer into a client reusing the socket it closes.
const fresh = { connection: "close" }
let end: string

const request = async (sessionId: string, runId: string, toolUseId: string, input: { readonly [k: string]: string | number }) => {
  const approvalId = randomUUID()
  await h.command({ kind: "RequestApproval", sessionId, runId, approvalId, toolUseId, toolName: "Bash", input, suggestions: [] })
  return approvalId
}

beforeAll(async () => {
  h = await startHarness({ config: { apiToken: token } })
  const file = join(h.dataDir, "keys.json")
  key.alice = addKey(file, "alice", "approver").key
  key.bob = addKey(file, "bob", "approver").key
  key.vera = addKey(file, "vera", "viewer").key
  start = new Date().toISOString()
  const one = await h.seedRunning()
  ids.allowed = await request(one.sessionId, one.runId, "toolu_1", { command: "ls" })
  ids.denied = await request(one.sessionId, one.runId, "toolu_2", { command: "=HYPERLINK(\"http://evil\")", note: 'quote " and, comma' })
  ids.pending = await request(one.sessionId, one.runId, "toolu_3", { command: "pwd" })
  const post = (id: string, as: string, json: unknown) =>
    h.fetch(`/v1/approvals/${id}/decision`, { method: "POST", token: key[as], json, headers: fresh })
  expect((await post(ids.allowed, "alice", { decision: "allow" })).status).toBe(202)
  expect((await post(ids.denied, "bob", { decision: "deny", message: "=SUM(1,2) no formulas" })).status).toBe(202)
  // A run that ends with an approval open: the system denies it, and says why.
  const two = await h.seedRunning()
  ids.system = await request(two.sessionId, two.runId, "toolu_4", { command: "sleep 1" })
  await h.command({ kind: "FinishRun", sessionId: two.sessionId, runId: two.runId, outcome: { kind: "failed", error: "boom" } })
  end = new Date(Date.now() + 1).toISOString()
  await h.caughtUp()
})
afterAll(async () => {
  await h?.close()
})

const report = async (query: string, headers: Record<string, string> = {}) => {
  const r = await h.fetch(`/v1/audit/approvals${query}`, { token: key.vera, headers: { ...headers, ...fresh } })
  return { status: r.status, type: r.headers.get("content-type") ?? "", text: await r.text() }
}

describe("GET /v1/audit/approvals", () => {
  it("has every approval of the range with who decided what, after how long, and the system's reason; each row matches the record it cites", async () => {
    const r = await report(`?from=${start}&to=${end}`)
    expect(r.status).toBe(200)
    const { items } = JSON.parse(r.text) as { items: Array<Record<string, any>> }
    expect(items.map((i) => [i.approvalId, i.decision, i.decidedBy, i.reason])).toEqual([
      [ids.allowed, "allow", "alice", null],
      [ids.denied, "deny", "bob", null],
      [ids.pending, "pending", null, null],
      [ids.system, "deny", "agentlog", "run_ended"]
    ])
    for (const i of items) {
      expect(i.toolName).toBe("Bash")
      if (i.decision !== "pending") expect(i.waitedMs).toBe(Date.parse(i.decidedAt) - Date.parse(i.requestedAt))
      const at = async (revision: number) =>
        (await Effect.runPromise(h.store.readStream(i.stream, { fromRevision: BigInt(revision), maxCount: 1 }).pipe(Stream.runCollect)))[0]!
      const requested = await at(i.requestedRevision)
      expect([requested.type, (requested.data as any).approvalId, (requested.data as any).input]).toEqual(["ApprovalRequested", i.approvalId, i.input])
      if (i.decidedRevision !== null) {
        const decided = await at(i.decidedRevision)
        expect([decided.type, (decided.data as any).approvalId, (decided.data as any).decision, (decided.data as any).decidedBy]).toEqual([
          "ApprovalDecided",
          i.approvalId,
          i.decision,
          i.decidedBy
        ])
      }
    }
    expect(items.find((i) => i.approvalId === ids.denied)!.message).toBe("=SUM(1,2) no formulas")
    // The range bounds: nothing before the first request, nothing from the end on.
    expect(JSON.parse((await report(`?to=${start}`)).text)).toEqual({ items: [] })
    expect(JSON.parse((await report(`?from=${end}`)).text)).toEqual({ items: [] })
  })

  it("answers CSV and NDJSON by Accept or ?format=, the same rows", async () => {
    const json = (JSON.parse((await report(`?from=${start}&to=${end}`)).text) as { items: Array<unknown> }).items
    for (const [query, headers] of [["&format=ndjson", {}], ["", { accept: "application/x-ndjson" }]] as const) {
      const r = await report(`?from=${start}&to=${end}${query}`, headers)
      expect(r.type).toBe("application/x-ndjson")
      expect(r.text.trimEnd().split("\n").map((l) => JSON.parse(l))).toEqual(json)
    }
    for (const [query, headers] of [["&format=csv", {}], ["", { accept: "text/csv" }]] as const) {
      const r = await report(`?from=${start}&to=${end}${query}`, headers)
      expect(r.type).toMatch(/^text\/csv/)
      const lines = r.text.split("\r\n")
      expect(lines[0]).toBe(
        "approvalId,sessionId,stream,requestedRevision,decidedRevision,toolName,input,requestedAt,decision,decidedBy,decidedAt,waitedMs,message,reason"
      )
      expect(lines.length).toBe(json.length + 2)
      expect(lines[1]).toMatch(new RegExp(`^${ids.allowed},[0-9a-f-]+,session-[0-9a-f-]+,\\d+,\\d+,Bash,"{""command"":""ls""}",`))
      expect(lines[1]).toMatch(/,allow,alice,/)
      const system = lines.find((l) => l.startsWith(ids.system!))!
      expect(system).toMatch(/,deny,agentlog,.*,run_ended$/)
    }
  })

  it("a cell a spreadsheet would run as a formula is defused", async () => {
    const r = await report(`?from=${start}&to=${end}&format=csv`)
    const denied = r.text.split("\r\n").find((l) => l.startsWith(ids.denied!))!
    expect(denied).toContain(`,"'=SUM(1,2) no formulas",`)
    expect(r.text).not.toMatch(/(^|,)"?=/m)
  })

  it("refuses a bad range or format with 400 problem+json", async () => {
    for (const q of ["?from=yesterday", "?to=2026-13-01T00:00:00Z", "?format=xml", "?extra=1"]) {
      const r = await report(q)
      expect(r.status, q).toBe(400)
      expect(r.type).toMatch(/^application\/problem\+json/)
    }
  })

  it("streams a long report page by page", async () => {
    const many = await h.seedRunning()
    const from = new Date().toISOString()
    // Appended in one go (as many commands would, only faster): the report's pages are what is tested.
    const recordedAt = new Date().toISOString()
    const events = Array.from({ length: 1_100 }, (_, i) => ({
      id: randomUUID(),
      type: "ApprovalRequested",
      data: { runId: many.runId, approvalId: randomUUID(), toolUseId: `toolu_many_${i}`, toolName: "Bash", input: { i }, suggestions: [] },
      metadata: { runId: many.runId, correlationId: "seed", schemaVersion: 1, recordedAt: new Date(Date.parse(recordedAt) + i).toISOString(), source: "claude" }
    }))
    await Effect.runPromise(h.store.append(`session-${many.sessionId}`, events, "any"))
    await h.caughtUp()
    const r = await h.fetch(`/v1/audit/approvals?from=${from}&format=ndjson`, { token: key.vera, headers: fresh })
    const reader = r.body!.getReader()
    let chunks = 0
    let text = ""
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      chunks++
      text += new TextDecoder().decode(value)
    }
    const rows = text.trimEnd().split("\n").map((l) => JSON.parse(l) as { input: { i: number } })
    expect(rows.map((x) => x.input.i)).toEqual(Array.from({ length: 1_100 }, (_, i) => i))
    // Three pages of 500 at most: the service wrote it as it read it.
    expect(chunks).toBeGreaterThanOrEqual(3)
  })
})
