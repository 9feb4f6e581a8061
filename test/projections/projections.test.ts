// The Projections service: read-your-writes waits, readiness, resubscribing after store
// failures; and handlers that meet shapes they do not expect.
import { afterEach, describe, expect, it } from "vitest"
import type { DatabaseSync } from "node:sqlite"
import { Deferred, Effect, Stream } from "effect"
import { EventStoreUnavailable, type EventStoreShape } from "../../src/eventstore/eventStore.ts"
import type { SqliteEventStore } from "../../src/eventstore/sqliteEventStore.ts"
import { allProjections } from "../../src/projections/allProjections.ts"
import type { Projection } from "../../src/projections/projection.ts"
import {
  Writer,
  dump,
  meta,
  newId,
  openReadDb,
  openStore,
  queries,
  rebuild,
  run,
  startProjections,
  tellStory,
  tempDir
} from "./projectionsFixtures.ts"

const launch = (w: Writer, query = "hello") =>
  w.handle({ kind: "LaunchSession", sessionId: newId(), runId: newId(), query, options: {} })

const eventually = async (check: () => boolean, ms = 5_000) => {
  const until = Date.now() + ms
  while (!check()) {
    if (Date.now() > until) throw new Error("condition not met in time")
    await new Promise((r) => setTimeout(r, 5))
  }
}

describe("Projections service", () => {
  const cleanups: Array<() => Promise<void> | void> = []
  afterEach(async () => {
    for (const c of cleanups.reverse()) await c()
    cleanups.length = 0
  })

  const setup = async (wrap: (s: SqliteEventStore) => EventStoreShape = (s) => s, retryDelayMs?: number) => {
    const tmp = tempDir()
    const store = await openStore(tmp.dir)
    const db = openReadDb(tmp.dir)
    const started = await startProjections(wrap(store), db, retryDelayMs !== undefined ? { retryDelayMs } : {})
    cleanups.push(
      () => tmp.remove(),
      () => run(store.close()),
      () => db.close(),
      started.stop
    )
    return { store, db, projections: started.projections, w: new Writer(store) }
  }

  it("waitForPosition resolves once a command's events are readable", async () => {
    const { db, projections, w } = await setup()
    await eventually(projections.isCaughtUp)
    const outcome = await launch(w, "read your writes")
    expect(await run(projections.waitForPosition(outcome.position!, 5_000))).toBe(true)
    expect(queries(db).getSession(outcome.sessionId)).toMatchObject({ query: "read your writes", status: "queued" })
    expect(projections.currentPosition()).toEqual(outcome.position)
  })

  it("waitForPosition does not wait for positions of other streams or past the head", async () => {
    const { projections, w } = await setup()
    await eventually(projections.isCaughtUp)
    const other = await w.appendRaw("other-1", [{ type: "Unrelated", data: {}, metadata: {} }])
    const t0 = Date.now()
    expect(await run(projections.waitForPosition(other, 5_000))).toBe(true)
    const session = (await launch(w)).position!
    const after = await w.appendRaw("other-1", [{ type: "Unrelated", data: {}, metadata: {} }])
    expect(await run(projections.waitForPosition(after, 5_000))).toBe(true)
    expect(projections.currentPosition()).toEqual(session)
    expect(await run(projections.waitForPosition({ commit: 1_000_000n, prepare: 1_000_000n }, 5_000))).toBe(true)
    expect(Date.now() - t0).toBeLessThan(2_000)
  })

  it("waitForPosition times out while projections cannot reach the position", async () => {
    // A store whose subscription never delivers anything.
    const { projections, w } = await setup((s) => ({ ...s, subscribeAll: () => Stream.never }))
    const outcome = await launch(w)
    const t0 = Date.now()
    expect(await run(projections.waitForPosition(outcome.position!, 150))).toBe(false)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140)
    expect(projections.isCaughtUp()).toBe(false)
    expect(projections.currentPosition()).toBeNull()
  })

  it("waitForPosition resolves when the projections get there later", async () => {
    const gate = Deferred.makeUnsafe<void>()
    const { projections, w } = await setup((s) => ({
      ...s,
      subscribeAll: (o) => Stream.unwrap(Effect.as(Deferred.await(gate), s.subscribeAll(o)))
    }))
    const outcome = await launch(w)
    let resolved: boolean | undefined
    const waiting = run(projections.waitForPosition(outcome.position!, 5_000)).then((r) => (resolved = r))
    await new Promise((r) => setTimeout(r, 50))
    expect(resolved).toBeUndefined()
    Deferred.doneUnsafe(gate, Effect.void)
    await waiting
    expect(resolved).toBe(true)
    await eventually(projections.isCaughtUp)
  })

  it("resubscribes from its checkpoint after the store fails", async () => {
    let failures = 2
    const { db, projections, w } = await setup(
      (s) => ({
        ...s,
        subscribeAll: (o) =>
          failures-- > 0
            ? s.subscribeAll(o).pipe(Stream.take(1), Stream.concat(Stream.fail(new EventStoreUnavailable({ reason: "test" }))))
            : s.subscribeAll(o)
      }),
      5
    )
    const first = await launch(w, "one")
    const second = await launch(w, "two")
    expect(await run(projections.waitForPosition(second.position!, 5_000))).toBe(true)
    await eventually(projections.isCaughtUp)
    expect(queries(db).listSessions().items.map((s) => s.query).sort()).toEqual(["one", "two"])
    expect(queries(db).transcript(first.sessionId)).toHaveLength(1)
    expect(db.prepare("SELECT count(*) AS n FROM events_index").get()).toEqual({ n: 2 })
  })
})

describe("handlers meet the unexpected", () => {
  const odd = async (_store: SqliteEventStore, w: Writer) => {
    const sessionId = newId()
    const runId = newId()
    const stream = `session-${sessionId}`
    const at = "2025-01-01T00:00:00.000Z"
    await w.appendRaw(stream, [
      { type: "SessionLaunched", data: { sessionId, runId, query: "odd", options: {} }, metadata: meta(at, runId) },
      { type: "RunStarted", data: { runId, query: "odd" }, metadata: { recordedAt: "not a time" } },
      { type: "ClaudeAssistantMessage", data: { runId, message: "just a string" }, metadata: meta(at) },
      { type: "ClaudeAssistantMessage", data: { runId, message: { type: "assistant", message: { content: "plain text" } } }, metadata: meta(at) },
      { type: "ClaudeAssistantMessage", data: { runId, message: { type: "assistant", message: { content: [null, 3, { type: "image" }, { type: "tool_use" }, { type: "text" }] } } }, metadata: meta(at) },
      { type: "ClaudeUserMessage", data: { runId, message: { type: "user", message: { content: "a user string" } } }, metadata: meta(at) },
      { type: "ClaudeUserMessage", data: { runId, message: { type: "user", message: { content: [{ type: "tool_result" }, { type: "tool_result", tool_use_id: "toolu_x", content: [{ type: "image" }] }] } } }, metadata: meta(at) },
      { type: "ClaudeUserMessage", data: { runId, message: { type: "user", isReplay: true, message: { content: "echo" } } }, metadata: meta(at) },
      { type: "ClaudeResult", data: { runId, usage: "none", runCostUsd: "free", message: null }, metadata: meta(at) },
      { type: "ClaudeSystemEvent", data: null, metadata: null },
      { type: "ApprovalRequested", data: { approvalId: 7 }, metadata: meta(at) },
      { type: "ApprovalDecided", data: { approvalId: newId(), decision: "allow" }, metadata: meta(at) },
      { type: "SomethingFromTheFuture", data: [1, 2, 3], metadata: meta(at) },
      { type: "SessionRenamed", data: {}, metadata: meta(at) }
    ])
    // Events for a session that was never launched, and a stream that only looks like a session's.
    await w.appendRaw(`session-${newId()}`, [{ type: "RunCompleted", data: {}, metadata: meta(at) }])
    await w.appendRaw("session-not-a-uuid", [{ type: "SessionLaunched", data: { query: "x" }, metadata: meta(at) }])
    return sessionId
  }

  it("keeps what it can; an event of the state machine failing its schema is a projection error of the sessions model only", async () => {
    const tmp = tempDir()
    const store = await openStore(tmp.dir)
    try {
      const w = new Writer(store)
      const sessionId = await odd(store, w)
      const db = openReadDb(tmp.dir)
      await rebuild(store, db)
      // The session's state is the domain's fold: an event it cannot read is named, not guessed at.
      const errors = db.prepare("SELECT name, event_type FROM projection_errors ORDER BY commit_position").all()
      expect(errors).toEqual(
        // Claude's messages leave the state alone and are not decoded by it (see inertEventTypes).
        ["ClaudeResult", "ApprovalRequested", "ApprovalDecided", "SessionRenamed", "RunCompleted"].map(
          (t) => ({ name: "sessions", event_type: t })
        )
      )
      const q = queries(db)
      // RunStarted's recordedAt is no time: the store's time (now) stands in.
      const session = q.getSession(sessionId)!
      expect(session).toMatchObject({ status: "running", costUsd: 0, turns: 0, pendingApprovals: 0, createdAt: "2025-01-01T00:00:00.000Z" })
      expect(session.updatedAt > "2025-06-01").toBe(true)
      expect(q.listSessions().items).toHaveLength(1)
      const t = q.transcript(sessionId)
      expect(t.map((e) => e.seq)).toEqual(t.map((_, i) => i + 1))
      expect(t.map((e) => e.kind)).toEqual([
        "user_text",
        "assistant_text",
        "other",
        "other",
        "other",
        "tool_call",
        "assistant_text",
        "user_text",
        "tool_result",
        "tool_result",
        "result",
        "system"
      ])
      expect(t.find((e) => e.toolUseId === "toolu_x")!.result).toMatchObject({ text: null, content: [{ type: "image" }] })
      expect(q.toolCalls().items.map((x) => x.toolUseId)).toEqual(["toolu_x"])
      expect(q.events({ limit: 100 }).items).toHaveLength(16)
      db.close()
    } finally {
      await run(store.close())
      tmp.remove()
    }
  })

  it("a handler that throws has its event's writes rolled back and the error recorded, deterministically", async () => {
    const tmp = tempDir()
    const store = await openStore(tmp.dir)
    try {
      const w = new Writer(store)
      // Sessions with many events before the throw, in the same batch: what the other
      // handlers held back during the batch that was rolled back must not be written.
      await tellStory(w)
      await launch(w, "first")
      await launch(w, "boom")
      await launch(w, "third")
      // It also throws on a result of the story's: an event that changes a session's totals,
      // so counting it twice would show.
      const results = (await run(Stream.runCollect(store.readAll()))).filter((e) => e.type === "ClaudeResult")
      const throwAt = results[results.length - 1]!.position.commit
      const fragile: Projection = {
        name: "fragile",
        version: 1,
        tables: ["fragile"],
        schema: "CREATE TABLE fragile (query TEXT PRIMARY KEY) STRICT;",
        apply: (db: DatabaseSync, e) => {
          if (e.position.commit === throwAt) throw new Error("cannot handle this result")
          if (e.type !== "SessionLaunched") return
          db.prepare("INSERT INTO fragile (query) VALUES (?)").run(String(e.data.query))
          if (e.data.query === "boom") throw new Error("cannot handle boom")
        }
      }
      const projections = [...allProjections, fragile]
      const dumps: Array<string> = []
      const head = (await run(store.headPosition()))!.commit
      // Batches that cut the story at different places: some session is launched in one
      // batch and has more events in the batch that is rolled back.
      for (const maxBatch of [1, 3, 7, 16, 1000]) {
        const other = tempDir()
        const db = openReadDb(other.dir)
        const runner = await rebuild(store, db, projections, maxBatch)
        const launched = db.prepare("SELECT query FROM fragile").all().map((r) => r.query)
        expect(launched).toEqual(expect.arrayContaining(["first", "third"]))
        expect(launched).not.toContain("boom")
        expect(db.prepare("SELECT name, event_type, error FROM projection_errors ORDER BY commit_position").all()).toEqual([
          { name: "fragile", event_type: "ClaudeResult", error: "Error: cannot handle this result" },
          { name: "fragile", event_type: "SessionLaunched", error: "Error: cannot handle boom" }
        ])
        expect(runner.checkpoints().every((c) => c.position?.commit === head)).toBe(true)
        dumps.push(dump(db))
        db.close()
        other.remove()
      }
      // And the same as without the handler that throws, but for its own table and error.
      const plain = tempDir()
      const db = openReadDb(plain.dir)
      await rebuild(store, db, allProjections, 1000)
      const sessionsOf = (d: string) => JSON.stringify((JSON.parse(d) as Record<string, unknown>).sessions)
      expect(sessionsOf(dumps[0]!)).toBe(sessionsOf(dump(db)))
      db.close()
      plain.remove()
      for (const d of dumps) expect(d).toBe(dumps[0])
    } finally {
      await run(store.close())
      tmp.remove()
    }
  })
})
