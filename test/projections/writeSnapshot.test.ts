// Item 8 of issue 10: a write side that has not seen a session starts its fold from the
// sessions read model's state (the domain's fold with the revision it is at) and reads
// only the events after it. The state it decides on must be the full fold's, whatever
// the read model has applied; a snapshot that cannot be a prefix of the stream is dropped.
import { Effect, Stream } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { makeSessionCommands } from "../../src/commands/sessionCommands.ts"
import type { EventStoreShape } from "../../src/eventstore/eventStore.ts"
import { sessionsProjection } from "../../src/projections/sessions/handler.ts"
import { assistant, ctx, newId, openReadDb, openStore, queries, rebuild, run, tempDir, Writer } from "./projectionsFixtures.ts"

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

/** The store, counting the events the write side reads from session streams. */
const counting = (store: EventStoreShape) => {
  const counter = { events: 0 }
  const wrapped: EventStoreShape = {
    ...store,
    readStream: (s, o) => store.readStream(s, o).pipe(Stream.tap(() => Effect.sync(() => void counter.events++))),
    readStreamJson: (s, o) => store.readStreamJson(s, o).pipe(Stream.tap(() => Effect.sync(() => void counter.events++)))
  }
  return { store: wrapped, counter }
}

const setup = async (messages: number) => {
  const t = tempDir()
  const store = await openStore(t.dir)
  const db = openReadDb(t.dir)
  cleanups.push(t.remove, () => run(store.close()), () => db.close())
  const w = new Writer(store)
  const sessionId = newId()
  const runId = newId()
  await w.handle({ kind: "LaunchSession", sessionId, runId, query: "q", options: {} })
  await w.handle({ kind: "StartRun", sessionId, runId })
  for (let i = 0; i < messages; i++) await w.claude(sessionId, assistant("c", [{ type: "text", text: `m${i}` }]))
  return { store, db, w, sessionId, runId }
}

describe("a cold write side starts from the sessions read model", () => {
  it("reads none of a long session's events when the read model has applied them all, and decides on the full fold", async () => {
    const { store, db, w, sessionId } = await setup(40)
    await rebuild(store, db, [sessionsProjection])
    const { store: spy, counter } = counting(store)
    const cold = makeSessionCommands(spy, { snapshot: (id) => Effect.sync(() => queries(db).sessionSnapshot(id)) })
    const loaded = await run(cold.load(sessionId))
    expect(counter.events).toBe(0)
    const full = await run(makeSessionCommands(store).load(sessionId))
    expect(loaded).toEqual(full)
    // …and a command on it lands at the stream's next revision.
    const out = await run(cold.handle({ kind: "RenameSession", sessionId, title: "renamed" }, ctx))
    expect(out.revision).toBe(full.revision! + 1n)
    expect(out.state.title).toBe("renamed")
    void w
  })

  it("reads only what the read model has not applied yet", async () => {
    const { store, db, w, sessionId } = await setup(10)
    await rebuild(store, db, [sessionsProjection])
    // After the read model: more messages and a state change it has not seen.
    for (let i = 0; i < 5; i++) await w.claude(sessionId, assistant("c", [{ type: "text", text: `late ${i}` }]))
    await w.handle({ kind: "RequestInterrupt", sessionId, requestedBy: "test" })
    await w.handle({ kind: "RenameSession", sessionId, title: "late title" })
    const snapshot = queries(db).sessionSnapshot(sessionId)!
    const { store: spy, counter } = counting(store)
    const cold = makeSessionCommands(spy, { snapshot: () => Effect.succeed(snapshot) })
    const loaded = await run(cold.load(sessionId))
    const full = await run(makeSessionCommands(store).load(sessionId))
    expect(loaded).toEqual(full)
    expect(counter.events).toBe(Number(full.revision! - BigInt(snapshot.revision)))
    expect(loaded.state!.title).toBe("late title")
  })

  it("drops a snapshot ahead of the stream (read models of another store) and folds from the start", async () => {
    const { store, sessionId } = await setup(3)
    const full = await run(makeSessionCommands(store).load(sessionId))
    const ahead = { state: { ...full.state!, title: "from elsewhere" }, revision: Number(full.revision!) + 50 }
    const cold = makeSessionCommands(store, { snapshot: () => Effect.succeed(ahead) })
    const out = await run(cold.handle({ kind: "RenameSession", sessionId, title: "mine" }, ctx))
    expect(out.revision).toBe(full.revision! + 1n)
    expect(out.state).toEqual({ ...full.state!, title: "mine" })
  })

  it("folds from the start when the snapshot fails", async () => {
    const { store, sessionId } = await setup(3)
    const full = await run(makeSessionCommands(store).load(sessionId))
    const cold = makeSessionCommands(store, { snapshot: () => Effect.fail(new Error("read.db is gone")) })
    expect(await run(cold.load(sessionId))).toStrictEqual(full)
  })
})
