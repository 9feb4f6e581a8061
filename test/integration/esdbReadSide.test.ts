// What agentlog builds on positions, on EventStoreDB's semantics (the stand-in: every event
// its own log offset, commit = prepare, gaps between them, an append answered with its last
// event's position): /v1/events cursors, minPosition waits, SSE resume and the read models'
// checkpoints across a restart. The same routes on the embedded store (positions 1..n) are
// tested in test/http.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { Effect, Layer, ManagedRuntime, Stream } from "effect"
import { makeEsdbEventStore } from "../../src/eventstore/esdbEventStore.ts"
import { EventStore, type EventStoreShape, type RecordedEvent } from "../../src/eventstore/eventStore.ts"
import { encodePosition } from "../../src/eventstore/position.ts"
import { Projections, ReadModels, ReadSideLive } from "../../src/projections/readSide.ts"
import { startHarness, type Harness } from "../http/httpHarness.ts"
import { openSse } from "../http/sseClient.ts"
import { startEsdbStandIn, type EsdbStandIn } from "../support/esdbStandIn.ts"

type Json = Record<string, any>

let esdb: EsdbStandIn | undefined
let h: Harness | undefined
afterEach(async () => {
  await h?.close()
  await esdb?.stop()
  h = undefined
  esdb = undefined
})

const onStandIn = async (): Promise<Harness> => {
  esdb = await startEsdbStandIn()
  const store = await Effect.runPromise(makeEsdbEventStore(esdb.connectionString))
  h = await startHarness({ store })
  return h
}

const json = async (r: Response): Promise<Json> => {
  if (!r.ok) throw new Error(`${r.status}: ${await r.text()}`)
  return (await r.json()) as Json
}

/** The sessions' events as the store has them, in $all order. */
const storeEvents = async (store: EventStoreShape): Promise<Array<RecordedEvent>> =>
  Effect.runPromise(Stream.runCollect(store.readAll({ filter: { streamPrefix: ["session-"] } })))

describe("agentlog on EventStoreDB positions", () => {
  it("/v1/events pages through every event once, in order, whatever the page size", async () => {
    const h = await onStandIn()
    // Several events per append (a finished run appends its end and settles its approvals).
    for (let i = 0; i < 3; i++) await h.seedCompleted()
    await h.caughtUp()
    const all = await storeEvents(h.store)
    // Per-event positions: strictly increasing, commit = prepare, with gaps.
    expect(all.every((e) => e.position.commit === e.position.prepare)).toBe(true)
    expect(new Set(all.map((e) => e.position.commit)).size).toBe(all.length)
    for (const limit of [1, 2, 5]) {
      const seen: Array<string> = []
      let cursor: string | null = null
      do {
        const page: Json = await json(await h.fetch(`/v1/events?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`))
        seen.push(...page.items.map((e: Json) => `${e.id}@${e.position}`))
        cursor = page.nextCursor
      } while (cursor !== null)
      expect(seen, `limit ${limit}`).toEqual(all.map((e) => `${e.id}@${encodePosition(e.position)}`))
    }
  })

  it("minPosition from a command's answer shows that command's own write", async () => {
    const h = await onStandIn()
    const launched = await json(await h.fetch("/v1/sessions", { method: "POST", json: { query: "q", title: "mine" } }))
    const list = await json(await h.fetch(`/v1/sessions?minPosition=${encodeURIComponent(launched.position)}`))
    expect(list.items.map((s: Json) => s.sessionId)).toContain(launched.sessionId)
    // The position answered is an event's own (the append's last), not a made-up one.
    const events = await h.events(launched.sessionId)
    expect(events.map((e) => encodePosition(e.position))).toContain(launched.position)
    const renamed = await json(await h.fetch(`/v1/sessions/${launched.sessionId}`, { method: "PATCH", json: { title: "renamed" } }))
    const s = await json(await h.fetch(`/v1/sessions/${launched.sessionId}?minPosition=${encodeURIComponent(renamed.position)}`))
    expect(s.title).toBe("renamed")
  })

  it("SSE resumes after the Last-Event-ID it is given, with nothing missed or repeated, then follows live", async () => {
    const h = await onStandIn()
    const { sessionId, runId } = await h.seedRunning()
    for (let i = 0; i < 3; i++) {
      await h.command({
        kind: "RecordClaudeMessage",
        sessionId,
        runId,
        message: { type: "assistant", uuid: crypto.randomUUID(), message: { role: "assistant", content: [{ type: "text", text: `m${i}` }] } }
      })
    }
    const stored = await h.events(sessionId)
    const sse = await openSse(`${h.url}/v1/sessions/${sessionId}/events/live`, { "last-event-id": "1" })
    try {
      const replayed = await sse.waitForFrames(stored.length - 2)
      expect(replayed.map((f) => f.id)).toEqual(stored.slice(2).map((e) => String(e.revision)))
      await h.command({ kind: "RenameSession", sessionId, title: "live" })
      const frames = await sse.waitForFrames(stored.length - 1)
      expect(frames.map((f) => f.id)).toEqual([...stored.slice(2).map((e) => String(e.revision)), String(stored.length)])
    } finally {
      sse.close()
    }
  })

  it("the read models resume from their checkpoint after a restart: nothing applied twice or skipped", async () => {
    esdb = await startEsdbStandIn()
    const store = await Effect.runPromise(makeEsdbEventStore(esdb.connectionString))
    const dataDir = mkdtempSync(join(tmpdir(), "agentlog-esdb-readside-"))
    const readSide = () => ManagedRuntime.make(ReadSideLive(dataDir).pipe(Layer.provide(Layer.succeed(EventStore)(store))))
    const indexed = (rt: ReturnType<typeof readSide>) =>
      rt.runPromise(
        Effect.gen(function* () {
          const head = yield* store.headPosition()
          if (head !== null) expect(yield* (yield* Projections).waitForPosition(head, 20_000)).toBe(true)
          return (yield* (yield* ReadModels).events({ limit: 500 })).items.map((e) => e.eventId)
        })
      )
    try {
      h = await startHarness({ store })
      await h.seedCompleted()
      const first = readSide()
      const before = await indexed(first)
      await first.dispose()
      // Written while the read side is down: several events per append, positions with gaps.
      await h.seedCompleted()
      await h.seedCompleted()
      const second = readSide()
      const after = await indexed(second)
      await second.dispose()
      expect(after.slice(0, before.length)).toEqual(before)
      expect(after).toEqual((await storeEvents(store)).map((e) => e.id))
    } finally {
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
})
