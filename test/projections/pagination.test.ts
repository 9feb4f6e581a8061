// Keyset pagination: walking every page gives each row exactly once, in order, even with
// many rows sharing a timestamp and with writes landing between pages.
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { DatabaseSync } from "node:sqlite"
import { Effect } from "effect"
import type { SqliteEventStore } from "../../src/eventstore/sqliteEventStore.ts"
import { makeReadModels, type Page } from "../../src/projections/readModels.ts"
import { Writer, meta, newId, openReadDb, openStore, queries, rebuild, run, tempDir } from "./projectionsFixtures.ts"

const times = ["2025-03-01T10:00:00.000Z", "2025-03-01T10:00:01.000Z", "2025-03-01T10:00:02.000Z"]

/** Every page of a list, following nextCursor. */
const walk = <A>(list: (cursor: string | undefined) => Page<A>): Array<A> => {
  const out: Array<A> = []
  let cursor: string | undefined
  for (let i = 0; i < 1000; i++) {
    const p = list(cursor)
    out.push(...p.items)
    if (p.nextCursor === null) return out
    cursor = p.nextCursor
  }
  throw new Error("pagination does not end")
}

describe("pagination", () => {
  const tmp = tempDir()
  let store: SqliteEventStore
  let db: DatabaseSync
  let w: Writer
  const sessions: Array<string> = []

  const addSession = async (i: number, at: string) => {
    const sessionId = newId()
    const runId = newId()
    sessions.push(sessionId)
    const m = meta(at, runId)
    await w.appendRaw(`session-${sessionId}`, [
      { type: "SessionLaunched", data: { sessionId, runId, query: `query ${i}`, options: { title: i % 2 ? "odd" : "even" } }, metadata: m },
      { type: "RunStarted", data: { runId, query: `query ${i}` }, metadata: m },
      {
        type: "ClaudeAssistantMessage",
        data: { runId, message: { type: "assistant", message: { content: [{ type: "tool_use", id: `toolu_${i}a`, name: i % 3 ? "Bash" : "Read", input: {} }, { type: "tool_use", id: `toolu_${i}b`, name: "Bash", input: {} }] } } },
        metadata: m
      },
      { type: "ApprovalRequested", data: { runId, approvalId: newId(), toolUseId: `toolu_${i}a`, toolName: "Bash", input: {}, suggestions: [] }, metadata: m }
    ])
  }

  beforeAll(async () => {
    store = await openStore(tmp.dir)
    w = new Writer(store)
    for (let i = 0; i < 40; i++) await addSession(i, times[i % times.length]!)
    db = openReadDb(tmp.dir)
    await rebuild(store, db)
  })

  afterAll(async () => {
    db.close()
    await run(store.close())
    tmp.remove()
  })

  it("sessions: every page in order, no duplicates, no gaps", () => {
    const q = queries(db)
    const expected = q.listSessions({ limit: 500 }).items.map((s) => s.sessionId)
    expect([...expected].sort()).toEqual([...sessions].sort())
    const byKey = [...q.listSessions({ limit: 500 }).items].sort((a, b) =>
      a.createdAt !== b.createdAt ? (a.createdAt < b.createdAt ? 1 : -1) : a.sessionId < b.sessionId ? 1 : -1
    )
    expect(expected).toEqual(byKey.map((s) => s.sessionId))
    for (const limit of [1, 3, 7, 13, 40, 41]) {
      expect(walk((cursor) => q.listSessions({ limit, ...(cursor ? { cursor } : {}) })).map((s) => s.sessionId)).toEqual(expected)
    }
    const odd = walk((cursor) => q.listSessions({ limit: 4, q: "odd", ...(cursor ? { cursor } : {}) }))
    expect(odd).toHaveLength(20)
    expect(odd.map((s) => s.sessionId)).toEqual(expected.filter((id) => odd.some((s) => s.sessionId === id)))
  })

  it("sessions: rows written between pages neither repeat nor shift the rest", async () => {
    const q = queries(db)
    const before = q.listSessions({ limit: 500 }).items.map((s) => s.sessionId)
    const first = q.listSessions({ limit: 10 })
    // Newer activity arrives (a new session, a rename of one already listed) while the client pages.
    await addSession(100, "2025-03-01T10:00:05.000Z")
    await w.appendRaw(`session-${first.items[0]!.sessionId}`, [
      { type: "SessionRenamed", data: { title: "renamed" }, metadata: meta("2025-03-01T10:00:06.000Z") }
    ])
    await rebuild(store, db)
    const rest = walk((cursor) => q.listSessions({ limit: 10, cursor: cursor ?? first.nextCursor! }))
    expect([...first.items.map((s) => s.sessionId), ...rest.map((s) => s.sessionId)]).toEqual(before)
  })

  it("sessions: a walk sees every session that existed when it began exactly once, however they change meanwhile", async () => {
    // Issue 16.5: four sessions, pages of two; the oldest is renamed after the first page.
    const t = tempDir()
    const st = await openStore(t.dir)
    const d = openReadDb(t.dir)
    try {
      const wr = new Writer(st)
      const ids: Array<string> = []
      for (let i = 0; i < 4; i++) {
        const sessionId = newId()
        const runId = newId()
        ids.push(sessionId)
        await wr.appendRaw(`session-${sessionId}`, [
          { type: "SessionLaunched", data: { sessionId, runId, query: `q${i}`, options: {} }, metadata: meta(`2025-04-01T10:00:0${i}.000Z`, runId) }
        ])
      }
      await rebuild(st, d)
      const q = queries(d)
      const first = q.listSessions({ limit: 2 })
      for (const id of [ids[0]!, ids[1]!]) {
        await wr.appendRaw(`session-${id}`, [{ type: "SessionRenamed", data: { title: "moved" }, metadata: meta("2025-04-01T11:00:00.000Z") }])
      }
      const later = newId()
      await wr.appendRaw(`session-${later}`, [
        { type: "SessionLaunched", data: { sessionId: later, runId: newId(), query: "later", options: {} }, metadata: meta("2025-04-01T12:00:00.000Z") }
      ])
      await rebuild(st, d)
      const rest = walk((cursor) => q.listSessions({ limit: 2, cursor: cursor ?? first.nextCursor! }))
      const seen = [...first.items, ...rest].map((s) => s.sessionId)
      expect(seen).toEqual([...ids].reverse())
      // The renamed ones are listed as they are now.
      expect(rest.map((s) => s.title)).toEqual(["moved", "moved"])
    } finally {
      d.close()
      await run(st.close())
      t.remove()
    }
  })

  it("tool calls and approvals page the same way", () => {
    const q = queries(db)
    const calls = q.toolCalls({ limit: 500 }).items.map((t) => `${t.sessionId}/${t.toolUseId}`)
    expect(new Set(calls).size).toBe(calls.length)
    expect(calls.length).toBe(2 * sessions.length)
    for (const limit of [1, 6, 25]) {
      expect(walk((cursor) => q.toolCalls({ limit, ...(cursor ? { cursor } : {}) })).map((t) => `${t.sessionId}/${t.toolUseId}`)).toEqual(calls)
    }
    const pending = walk((cursor) => q.toolCalls({ limit: 4, decision: "pending", ...(cursor ? { cursor } : {}) }))
    expect(pending).toHaveLength(sessions.length)
    const window = walk((cursor) =>
      q.toolCalls({ limit: 5, after: times[1]!, before: times[2]!, tool: "Bash", ...(cursor ? { cursor } : {}) })
    )
    expect(window.length).toBeGreaterThan(0)
    expect(window.every((t) => t.requestedAt === times[1] && t.toolName === "Bash")).toBe(true)

    const approvals = q.approvals({ limit: 500 }).items.map((a) => a.approvalId)
    expect(approvals.length).toBe(sessions.length)
    expect(walk((cursor) => q.approvals({ limit: 7, status: "pending", ...(cursor ? { cursor } : {}) })).map((a) => a.approvalId)).toEqual(approvals)
  })

  it("the events index pages in position order, both ways", () => {
    const q = queries(db)
    const asc = q.events({ limit: 500 }).items.map((e) => e.position)
    expect(asc.map(Number)).toEqual(asc.map((_, i) => i + 1))
    expect(walk((cursor) => q.events({ limit: 9, ...(cursor ? { cursor } : {}) })).map((e) => e.position)).toEqual(asc)
    expect(walk((cursor) => q.events({ limit: 9, order: "desc", ...(cursor ? { cursor } : {}) })).map((e) => e.position)).toEqual([...asc].reverse())
    const typed = walk((cursor) => q.events({ limit: 3, type: ["RunStarted", "SessionRenamed"], ...(cursor ? { cursor } : {}) }))
    expect(typed.map((e) => e.type).filter((t) => t === "SessionRenamed")).toHaveLength(1)
  })

  it("bad cursors and filters are refused as InvalidQuery", async () => {
    const rm = makeReadModels(db)
    const tag = async (e: Effect.Effect<unknown, { _tag: string }>) => (await run(Effect.flip(e)))._tag
    expect(await tag(rm.listSessionsJson({ cursor: "nonsense" }))).toBe("InvalidQuery")
    expect(await tag(rm.listSessionsJson({ cursor: Buffer.from("[1,2]").toString("base64url") }))).toBe("InvalidQuery")
    expect(await tag(rm.toolCalls({ cursor: "x" }))).toBe("InvalidQuery")
    expect(await tag(rm.toolCalls({ after: "yesterday" }))).toBe("InvalidQuery")
    expect(await tag(rm.toolCalls({ decision: "maybe" }))).toBe("InvalidQuery")
    expect(await tag(rm.approvals({ status: "open" }))).toBe("InvalidQuery")
    expect(await tag(rm.events({ cursor: "-1" }))).toBe("InvalidQuery")
    expect(await tag(rm.listSessionsJson({ limit: 0 }))).toBe("InvalidQuery")
    expect(JSON.parse((await run(rm.listSessionsJson({ limit: 10_000 }))).json).length).toBeLessThanOrEqual(500)
  })
})
