// The read models after a realistic history, written through the real write side into the
// real embedded store and projected live by the Projections service.
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { DatabaseSync } from "node:sqlite"
import { Schema, Stream } from "effect"
import { SessionSummary, TranscriptEntry } from "../../src/http/responses.ts"
import { transcriptQueries } from "../../src/projections/transcript/queries.ts"
import { transcriptSchema } from "../../src/projections/transcript/schema.ts"
import type { SqliteEventStore } from "../../src/eventstore/sqliteEventStore.ts"
import type { ProjectionsShape } from "../../src/projections/projectionsService.ts"
import {
  Writer,
  openReadDb,
  openStore,
  queries,
  run,
  startProjections,
  tellStory,
  tempDir,
  type Story
} from "./projectionsFixtures.ts"

describe("read models", () => {
  const tmp = tempDir()
  let store: SqliteEventStore
  let db: DatabaseSync
  let projections: ProjectionsShape
  let stop: () => Promise<void>
  let story: Story
  let q: ReturnType<typeof queries>

  beforeAll(async () => {
    store = await openStore(tmp.dir)
    db = openReadDb(tmp.dir)
    ;({ projections, stop } = await startProjections(store, db))
    const w = new Writer(store)
    story = await tellStory(w)
    expect(await run(projections.waitForPosition(w.last!, 10_000))).toBe(true)
    q = queries(db)
  })

  afterAll(async () => {
    await stop()
    db.close()
    await run(store.close())
    tmp.remove()
  })

  it("is caught up at the store's head", async () => {
    expect(projections.isCaughtUp()).toBe(true)
    expect(projections.currentPosition()).toEqual(await run(store.headPosition()))
    expect(db.prepare("SELECT count(*) AS n FROM projection_errors").get()).toEqual({ n: 0 })
  })

  it("sessions: status, totals and housekeeping", () => {
    const a = q.getSession(story.a)!
    expect(a).toMatchObject({
      sessionId: story.a,
      status: "completed",
      archived: true,
      title: "Files",
      query: "list the files",
      model: "claude-opus-4",
      cwd: "/work",
      parentSessionId: null,
      claudeSessionId: story.claudeA,
      runs: 2,
      turns: 4,
      inputTokens: 300,
      outputTokens: 120,
      cacheReadTokens: 30,
      cacheCreationTokens: 5,
      pendingApprovals: 0,
      lastError: null
    })
    expect(a.costUsd).toBeCloseTo(0.08, 10)
    expect(a.options).toEqual({ model: "claude-sonnet-4-5", cwd: "/work", title: "Files" })
    expect(a.createdAt <= a.updatedAt).toBe(true)

    const b = q.getSession(story.b)!
    expect(b).toMatchObject({
      status: "interrupted",
      archived: false,
      title: "Second try",
      query: "try again differently",
      parentSessionId: story.a,
      claudeSessionId: story.claudeB,
      runs: 1,
      costUsd: 0
    })
    expect(q.getSession(story.c)).toMatchObject({ status: "abandoned", archived: false, pendingApprovals: 0 })
    expect(q.getSession(story.d)).toMatchObject({ status: "failed", lastError: "spawn claude ENOENT", cwd: "/nowhere" })
    expect(q.getSession("00000000-0000-4000-8000-000000000000")).toBeNull()
  })

  it("sessions: last revision and position follow the stream", async () => {
    const a = q.getSession(story.a)!
    const last = await run(
      Stream.runCollect(store.readStream(`session-${story.a}`, { direction: "backwards", maxCount: 1 }))
    )
    expect(a.lastRevision).toBe(Number(last[0]!.revision))
    expect(a.lastPosition).toBe(`${last[0]!.position.commit}`)
  })

  it("sessions: list newest first by creation, with filters", () => {
    const all = q.listSessions({ limit: 100 })
    expect(all.items.map((s) => s.sessionId).sort()).toEqual([story.a, story.b, story.c, story.d].sort())
    for (let i = 1; i < all.items.length; i++) {
      const [p, n] = [all.items[i - 1]!, all.items[i]!]
      expect(p.createdAt > n.createdAt || (p.createdAt === n.createdAt && p.sessionId > n.sessionId)).toBe(true)
    }
    expect(all.nextCursor).toBeNull()
    expect(q.listSessions({ archived: true }).items.map((s) => s.sessionId)).toEqual([story.a])
    expect(q.listSessions({ archived: false }).items).toHaveLength(3)
    expect(q.listSessions({ status: "failed" }).items.map((s) => s.sessionId)).toEqual([story.d])
    expect(q.listSessions({ status: ["failed", "abandoned"] }).items).toHaveLength(2)
    expect(q.listSessions({ q: "FILES" }).items.map((s) => s.sessionId)).toEqual([story.a])
    expect(q.listSessions({ q: "second" }).items.map((s) => s.sessionId)).toEqual([story.b])
    expect(q.listSessions({ q: "%" }).items).toHaveLength(0)
  })

  it("transcript: the conversation in order, tool calls with results and approvals", () => {
    const t = q.transcript(story.a)
    expect(t.map((e) => e.seq)).toEqual(t.map((_, i) => i + 1))
    expect(t.map((e) => [e.kind, e.text])).toEqual([
      ["user_text", "list the files"],
      ["system", "init"],
      ["thinking", "I should run ls."],
      ["assistant_text", "Let me look."],
      ["tool_call", null],
      ["assistant_text", "There are two files."],
      ["result", "There are two files."],
      ["user_text", "read a.txt"],
      ["tool_call", null],
      ["result", "I was not allowed to read it."]
    ])
    const ls = t[4]!
    expect(ls).toMatchObject({
      toolUseId: "toolu_a1",
      toolName: "Bash",
      input: { command: "ls" },
      result: { text: "a.txt\nb.txt", content: "a.txt\nb.txt", isError: false },
      approval: { approvalId: story.approvals.allowed, decision: "allow", decidedBy: "user:alice", message: "fine" },
      isError: false
    })
    const read = t[8]!
    expect(read).toMatchObject({
      toolName: "Read",
      result: { text: "not that file", content: [{ type: "text", text: "not that file" }], isError: true },
      approval: { approvalId: story.approvals.denied, decision: "deny", decidedBy: "user:bob" }
    })
    expect(t[6]!.data).toMatchObject({ subtype: "success", runCostUsd: 0.05, totalCostUsd: 0.05, numTurns: 2 })
    expect(t[9]!.data).toMatchObject({ runCostUsd: expect.closeTo(0.03, 10), totalCostUsd: 0.08 })
    expect(new Set(t.slice(0, 7).map((e) => e.runId)).size).toBe(1)
    expect(t[7]!.runId).not.toBe(t[0]!.runId)

    expect(q.transcript(story.b).map((e) => e.kind)).toEqual(["user_text", "system", "assistant_text", "interrupted"])
    expect(q.transcript(story.c).map((e) => [e.kind, e.text])).toEqual([
      ["user_text", "delete everything"],
      ["tool_call", null],
      ["abandoned", "service restarted"]
    ])
    expect(q.transcript(story.c)[1]!.approval).toMatchObject({ decision: "deny", decidedBy: "agentlog" })
    expect(q.transcript(story.d).map((e) => [e.kind, e.text, e.isError])).toEqual([
      ["user_text", "do something", null],
      ["error", "spawn claude ENOENT", true]
    ])
    expect(q.transcript(story.a, { afterSeq: 7, limit: 2 }).map((e) => e.seq)).toEqual([8, 9])
    expect(q.transcript("00000000-0000-4000-8000-000000000000")).toEqual([])
  })

  it("sessions: the list's JSON text is the API's SessionSummary, every field in the schema's order", () => {
    const decode = Schema.decodeUnknownSync(Schema.Array(SessionSummary), { onExcessProperty: "error" })
    const fields = Object.keys(SessionSummary.fields)
    const first = q.listSessionsJson({ limit: 2 })
    const rest = q.listSessionsJson({ limit: 500, cursor: first.nextCursor! })
    expect(rest.nextCursor).toBeNull()
    const items = [...JSON.parse(first.json), ...JSON.parse(rest.json)] as Array<Record<string, unknown>>
    expect(items.map((s) => s.sessionId).sort()).toEqual([story.a, story.b, story.c, story.d].sort())
    expect(decode(items)).toEqual(items)
    for (const s of items) expect(Object.keys(s)).toEqual(fields)
    for (const s of items) expect(q.getSession(s.sessionId as string)).toEqual(s)
    expect(new Set(items.map((s) => s.archived))).toEqual(new Set([true, false]))
    expect(items.find((s) => s.sessionId === story.a)).toMatchObject({ archived: true, options: expect.any(Object), lastError: null })
  })

  it("transcript: its JSON text is the API's TranscriptEntry, every field in the schema's order", () => {
    const decode = Schema.decodeUnknownSync(Schema.Array(TranscriptEntry), { onExcessProperty: "error" })
    const fields = Object.keys(TranscriptEntry.fields)
    for (const sessionId of [story.a, story.b, story.c, story.d]) {
      const t = q.transcriptJson(sessionId)
      const entries = JSON.parse(t.json) as Array<Record<string, unknown>>
      expect(decode(entries)).toEqual(entries)
      for (const e of entries) expect(Object.keys(e)).toEqual(fields)
      expect(t.count).toBe(entries.length)
      expect(t.lastSeq).toBe(entries.at(-1)!.seq)
    }
    // Absent parts are null, not missing: a plain message has no result, approval or flag.
    expect(q.transcript(story.a)[0]).toMatchObject({ input: null, result: null, approval: null, isError: null, data: null })
    expect(q.transcriptJson(story.a, { afterSeq: 100 })).toEqual({ json: "[]", count: 0, lastSeq: null })
  })

  it("transcript: rows the story does not make read as the entry's fields say", () => {
    const mem = new DatabaseSync(":memory:")
    mem.exec(transcriptSchema)
    const sessionId = "00000000-0000-4000-8000-000000000001"
    const insert = mem.prepare(
      `INSERT INTO transcript (session_id, seq, revision, kind, text, input, result_text, result, is_error, result_revision, result_at,
         approval_id, decision, data, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
    )
    const at = "2026-01-01T00:00:00.000Z"
    // A result without an error flag; an error flag without a result; an approval with nothing but its verdict.
    insert.run(sessionId, 1, 1, "tool_call", null, '{"a":[1,"✓ \\"q\\""]}', "out", null, null, null, at, null, null, null, at)
    insert.run(sessionId, 2, 2, "error", 'line\n"two"', null, null, null, 1, null, null, null, null, '{"exitCode":1}', at)
    insert.run(sessionId, 3, 3, "tool_call", null, "{}", null, null, 0, null, null, "00000000-0000-4000-8000-000000000002", "pending", null, at)
    const t = transcriptQueries(mem).transcript(sessionId)
    expect(t.map(({ input, result, approval, isError, text, data }) => ({ input, result, approval, isError, text, data }))).toEqual([
      { input: { a: [1, '✓ "q"'] }, result: { text: "out", content: null, isError: false, revision: null, at }, approval: null, isError: null, text: null, data: null },
      { input: null, result: null, approval: null, isError: true, text: 'line\n"two"', data: { exitCode: 1 } },
      {
        input: {},
        result: null,
        approval: { approvalId: "00000000-0000-4000-8000-000000000002", decision: "pending", decidedBy: null, message: null },
        isError: false,
        text: null,
        data: null
      }
    ])
    mem.close()
  })

  it("tool calls: the audit index", () => {
    const all = q.toolCalls({})
    expect(all.items.map((t) => t.toolUseId).sort()).toEqual(["toolu_a1", "toolu_a2", "toolu_c1"])
    const ls = all.items.find((t) => t.toolUseId === "toolu_a1")!
    expect(ls).toMatchObject({
      sessionId: story.a,
      toolName: "Bash",
      input: { command: "ls" },
      approvalId: story.approvals.allowed,
      decision: "allow",
      decidedBy: "user:alice",
      decisionMessage: "fine",
      resultText: "a.txt\nb.txt",
      isError: false
    })
    expect(ls.completedAt! >= ls.requestedAt).toBe(true)
    expect(ls.durationMs).toBe(Date.parse(ls.completedAt!) - Date.parse(ls.requestedAt))
    expect(q.toolCalls({ decision: "deny" }).items.map((t) => t.toolUseId).sort()).toEqual(["toolu_a2", "toolu_c1"])
    expect(q.toolCalls({ decision: "deny", session: story.c }).items[0]).toMatchObject({
      decisionReason: "abandoned",
      decidedBy: "agentlog",
      completedAt: null,
      durationMs: null
    })
    expect(q.toolCalls({ tool: "Read" }).items.map((t) => t.toolUseId)).toEqual(["toolu_a2"])
    expect(q.toolCalls({ decision: "none" }).items).toEqual([])
    expect(q.toolCalls({ after: "2999-01-01T00:00:00Z" }).items).toEqual([])
    expect(q.toolCalls({ before: "2999-01-01T00:00:00Z" }).items).toHaveLength(3)
  })

  it("approvals: pending, allowed, denied with who and why", () => {
    expect(q.approval(story.approvals.allowed)).toMatchObject({
      sessionId: story.a,
      toolUseId: "toolu_a1",
      toolName: "Bash",
      status: "allowed",
      decidedBy: "user:alice",
      message: "fine",
      expiresAt: "2030-01-01T00:00:00.000Z",
      suggestions: []
    })
    expect(q.approval(story.approvals.denied)).toMatchObject({ status: "denied", decidedBy: "user:bob", suggestions: [{ type: "addRules" }] })
    expect(q.approval(story.approvals.abandoned)).toMatchObject({ status: "denied", reason: "abandoned", sessionId: story.c })
    expect(q.approvals({ status: "pending" }).items).toEqual([])
    expect(q.approvals({ session: story.a }).items).toHaveLength(2)
    expect(q.approval("00000000-0000-4000-8000-000000000000")).toBeNull()
  })

  it("events index: every session event, filterable, in store order", async () => {
    const total = Number((await run(store.headPosition()))!.commit)
    const all = q.events({ limit: 500 })
    expect(all.items).toHaveLength(total)
    expect(all.items.map((e) => e.position)).toEqual(all.items.map((_, i) => `${i + 1}`))
    const launched = q.events({ type: "SessionLaunched" }).items
    expect(launched.map((e) => e.sessionId).sort()).toEqual([story.a, story.c, story.d].sort())
    const ofB = q.events({ session: story.b, limit: 500 }).items
    expect(ofB.map((e) => e.revision)).toEqual(ofB.map((_, i) => i))
    expect(q.events({ order: "desc", limit: 1 }).items[0]!.position).toBe(`${total}`)
  })
})
