// GET /v1/events takes its bodies from the store for the index rows of a page: one read of
// $all for a run of neighbouring events, one read per row for rows that run did not reach
// (a filter that keeps few events). Either way: the rows' events, in the rows' order.
import { afterEach, describe, expect, it } from "vitest"
import { loadIndexedEvents } from "../../src/projections/eventsIndex/audit.ts"
import { eventsIndexProjection } from "../../src/projections/eventsIndex/handler.ts"
import type { EventIndexRow } from "../../src/projections/eventsIndex/queries.ts"
import { assistant, newId, openReadDb, openStore, queries, rebuild, run, tempDir, Writer } from "./projectionsFixtures.ts"

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const setup = async () => {
  const t = tempDir()
  const store = await openStore(t.dir)
  const db = openReadDb(t.dir)
  cleanups.push(t.remove, () => run(store.close()), () => db.close())
  const w = new Writer(store)
  for (let s = 0; s < 3; s++) {
    const sessionId = newId()
    const runId = newId()
    await w.handle({ kind: "LaunchSession", sessionId, runId, query: `q${s}`, options: {} })
    await w.handle({ kind: "StartRun", sessionId, runId })
    for (let i = 0; i < 30; i++) await w.claude(sessionId, assistant("c", [{ type: "text", text: `m${i}` }]))
    await w.handle({ kind: "RenameSession", sessionId, title: `t${s}` })
  }
  await rebuild(store, db, [eventsIndexProjection])
  return { store, q: queries(db) }
}

const ids = (rows: ReadonlyArray<EventIndexRow>) => rows.map((r) => r.eventId)

describe("the audit's bodies from the store", () => {
  it("a page of neighbouring events, oldest or newest first", async () => {
    const { store, q } = await setup()
    for (const order of ["asc", "desc"] as const) {
      const page = q.events({ order, limit: 40 })
      const events = await run(loadIndexedEvents(store, page.items))
      expect(events.map((e) => e.id)).toEqual(ids(page.items))
      expect(events.map((e) => e.stream)).toEqual(page.items.map((r) => r.stream))
    }
  })

  it("rows far apart (a type filter): read one by one, in order", async () => {
    const { store, q } = await setup()
    const page = q.events({ type: ["SessionRenamed", "SessionLaunched"], order: "desc" })
    expect(page.items).toHaveLength(6)
    const events = await run(loadIndexedEvents(store, page.items))
    expect(events.map((e) => e.id)).toEqual(ids(page.items))
    expect(events.map((e) => e.type)).toEqual(page.items.map((r) => r.type))
  })

  it("a row whose event is not where it says is left out", async () => {
    const { store, q } = await setup()
    const page = q.events({ limit: 5 })
    const rows = page.items.map((r, i) => (i === 2 ? { ...r, eventId: newId() } : r))
    const events = await run(loadIndexedEvents(store, rows))
    expect(events.map((e) => e.id)).toEqual(ids(rows).filter((_, i) => i !== 2))
  })
})
