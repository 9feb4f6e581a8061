// Connection faults for the esdb adapter: the stand-in is force-stopped under a running
// store and restarted on the same port with the same data. Appends must fail fast with
// EventStoreUnavailable while it is down and work again after; an open subscribeAll must
// resume by itself and deliver every event exactly once.
import { randomUUID } from "node:crypto"
import * as grpc from "@grpc/grpc-js"
import { afterEach, describe, expect, it } from "vitest"
import { Effect, Fiber, Stream } from "effect"
import { makeEsdbEventStore } from "../../src/eventstore/esdbEventStore.ts"
import type { CaughtUp, EventData, EventStoreShape, RecordedEvent } from "../../src/eventstore/eventStore.ts"
import { startEsdbStandIn, type EsdbStandIn } from "../support/esdbStandIn.ts"

const run = <A, E>(effect: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(effect)

const events = (n: number): Array<EventData> =>
  Array.from({ length: n }, (_, i) => ({ id: randomUUID(), type: "FaultTested", data: { i }, metadata: { i } }))

const until = async (what: string, check: () => boolean, timeoutMs = 10_000) => {
  const started = Date.now()
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

type Item = RecordedEvent | CaughtUp

/** Runs subscribeAll in the background, collecting what it delivers. */
const collect = (store: EventStoreShape, prefix: string, perItem: Effect.Effect<void> = Effect.void) => {
  const items: Array<Item> = []
  let failed: unknown
  const fiber = Effect.runFork(
    store.subscribeAll({ from: "start", filter: { streamPrefix: [prefix] } }).pipe(
      Stream.runForEach((x) => Effect.andThen(perItem, Effect.sync(() => void items.push(x)))),
      Effect.tapError((e) => Effect.sync(() => (failed = e)))
    )
  )
  const ids = () => items.flatMap((x) => (x._tag === "RecordedEvent" ? [x.id] : []))
  return { items, ids, fiber, failed: () => failed }
}

/**
 * The subscription's events up to a barrier: a marker event appended to `stream` after
 * everything expected. Delivery is in order, so once the marker is in, any duplicate or
 * stray event of what came before would be in too: absence proved without waiting.
 */
const upToBarrier = async (store: EventStoreShape, sub: ReturnType<typeof collect>, stream: string) => {
  const [marker] = events(1)
  await run(store.append(stream, [marker!], "any"))
  await until("the barrier", () => sub.ids().includes(marker!.id), 30_000)
  return sub.ids().slice(0, sub.ids().indexOf(marker!.id))
}

describe("esdb adapter: connection faults", () => {
  let esdb: EsdbStandIn | undefined
  let store: EventStoreShape | undefined
  afterEach(async () => {
    if (store) await run(store.close())
    await esdb?.stop()
    store = undefined
    esdb = undefined
  })

  const open = async (batchAppend: boolean) => {
    esdb = await startEsdbStandIn({ batchAppend })
    // A short deadline keeps a hung call bounded; refused connections fail at once anyway.
    store = await run(
      makeEsdbEventStore(`${esdb.connectionString}&defaultDeadline=2000`, {
        resubscribe: { initialDelayMs: 50, maxDelayMs: 400 }
      })
    )
    return { esdb, store }
  }

  for (const batchAppend of [true, false]) {
    it(`append fails fast while the server is down and works after restart; the subscription resumes exactly once (${batchAppend ? "BatchAppend" : "Append"})`, async () => {
      const { esdb, store } = await open(batchAppend)
      const prefix = `fault${randomUUID().replaceAll("-", "")}-`
      const s = `${prefix}1`
      const sub = collect(store, prefix)

      const before = events(5)
      await run(store.append(s, before, "no_stream"))
      await until("the events before the stop", () => sub.ids().length === 5)
      expect(sub.items.filter((x) => x._tag === "CaughtUp")).toHaveLength(1)

      await esdb.stop()

      // Down: fails quickly, as EventStoreUnavailable, and writes nothing.
      const down = events(1)
      const started = Date.now()
      const err = await run(Effect.flip(store.append(s, down, 4n)))
      expect(err._tag).toBe("EventStoreUnavailable")
      expect(Date.now() - started).toBeLessThan(3_000)
      const readErr = await run(Effect.flip(Stream.runCollect(store.readStream(s))))
      expect(readErr._tag).toBe("EventStoreUnavailable")
      const headErr = await run(Effect.flip(store.headPosition()))
      expect(headErr._tag).toBe("EventStoreUnavailable")

      // The subscription lives through the outage (it fails only on a refusal or maxAttempts).
      expect(sub.failed()).toBeUndefined()

      await esdb.restart()

      // Up again: the first append after the restart works, at the revision we expect.
      const after = events(3)
      expect((await run(store.append(s, after, 4n))).nextRevision).toBe(7n)
      const more = events(2)
      await run(store.append(`${prefix}2`, more, "no_stream"))

      const expected = [...before, ...after, ...more].map((e) => e.id)
      expect(await upToBarrier(store, sub, `${prefix}2`)).toEqual(expected)
      expect(sub.items.filter((x) => x._tag === "CaughtUp")).toHaveLength(1)
      expect(sub.failed()).toBeUndefined()
      await run(Fiber.interrupt(sub.fiber))
    })
  }

  it("a subscription dropped in the middle of catch-up resumes after the last event it received", async () => {
    const { esdb, store } = await open(true)
    const prefix = `fault${randomUUID().replaceAll("-", "")}-`
    const written = Array.from({ length: 20 }, () => events(100))
    for (const [i, batch] of written.entries()) await run(store.append(`${prefix}${i % 3}`, batch, "any"))

    // A slow consumer keeps the subscription in catch-up (flow control holds the server back).
    const sub = collect(store, prefix, Effect.sleep("1 millis"))
    await until("some of the catch-up", () => sub.ids().length >= 200)
    expect(sub.items.some((x) => x._tag === "CaughtUp")).toBe(false)
    const reads = esdb.calls["/event_store.client.streams.Streams/Read"] ?? 0
    await esdb.stop()
    expect(sub.ids().length).toBeLessThan(2_000)
    await esdb.restart()
    const live = events(10)
    await run(store.append(`${prefix}0`, live, "any"))

    const expected = [...written.flat(), ...live].map((e) => e.id)
    expect(await upToBarrier(store, sub, `${prefix}1`)).toEqual(expected)
    expect(esdb.calls["/event_store.client.streams.Streams/Read"]).toBeGreaterThan(reads) // it resubscribed
    // The resumed catch-up may have read the barrier itself: its CaughtUp then comes right after.
    await until("caught up", () => sub.items.some((x) => x._tag === "CaughtUp"))
    expect(sub.items.filter((x) => x._tag === "CaughtUp")).toHaveLength(1)
    await run(Fiber.interrupt(sub.fiber))
  })

  it("a subscription opened while the server is down starts once it is back", async () => {
    const { esdb, store } = await open(true)
    const prefix = `fault${randomUUID().replaceAll("-", "")}-`
    const first = events(2)
    await run(store.append(`${prefix}1`, first, "no_stream"))
    await esdb.stop()
    const sub = collect(store, prefix)
    // A call while down makes the client drop its channel, as it would in production.
    expect((await run(Effect.flip(store.append(`${prefix}1`, events(1), 1n))))._tag).toBe("EventStoreUnavailable")
    await esdb.restart()
    const second = events(2)
    await run(store.append(`${prefix}1`, second, 1n))
    const expected = [...first, ...second].map((e) => e.id)
    expect(await upToBarrier(store, sub, `${prefix}1`)).toEqual(expected)
    await run(Fiber.interrupt(sub.fiber))
  })

  it("a server answering after the deadline: append fails with EventStoreUnavailable in time, then works again", async () => {
    const { esdb, store } = await open(true)
    const s = `fault-${randomUUID()}`
    // A client's first append asks ServerFeatures first, a call the client makes without a
    // deadline; BatchAppend has none client-side either. The adapter bounds the append.
    esdb.setResponseDelay(3_000)
    const started = Date.now()
    const err = await run(Effect.flip(store.append(s, events(1), "no_stream")))
    expect(err._tag).toBe("EventStoreUnavailable")
    expect(Date.now() - started).toBeLessThan(3_500)
    esdb.setResponseDelay(0)
    const ok = await run(store.append(s, events(2), "any"))
    expect(ok.nextRevision).toBe(1n)

    // A slow BatchAppend: bounded by the deadline too; the server refuses it once its
    // deadline passed, so a retry of the same events appends them once.
    const retried = events(2)
    esdb.setResponseDelay(3_500)
    const slow = await run(Effect.flip(store.append(s, retried, 1n)))
    expect(slow._tag).toBe("EventStoreUnavailable")
    esdb.setResponseDelay(0)
    expect((await run(store.append(s, retried, 1n))).nextRevision).toBe(3n)
    expect((await run(Stream.runCollect(store.readStream(s)))).map((e) => e.revision)).toEqual([0n, 1n, 2n, 3n])
  })

  it("a ServerFeatures failure the client would cache for good does not stop later appends", async () => {
    const { esdb, store } = await open(true)
    esdb.failNextCall("/event_store.client.server_features.ServerFeatures/GetSupportedMethods", grpc.status.INTERNAL)
    const s = `fault-${randomUUID()}`
    const err = await run(Effect.flip(store.append(s, events(1), "no_stream")))
    expect(err._tag).toBe("EventStoreFailure")
    expect((await run(store.append(s, events(1), "no_stream"))).nextRevision).toBe(0n)
    expect((await run(store.append(s, events(1), 0n))).nextRevision).toBe(1n)
  })

  it("a resubscription refused with a gRPC-level error (INTERNAL) is retried, not given up", async () => {
    const { esdb, store } = await open(true)
    const prefix = `fault${randomUUID().replaceAll("-", "")}-`
    const sub = collect(store, prefix)
    await until("caught up", () => sub.items.length === 1)
    await esdb.stop()
    const read = "/event_store.client.streams.Streams/Read"
    esdb.failNextCall(read, grpc.status.INTERNAL, "Received RST_STREAM with code 2")
    esdb.failNextCall(read, grpc.status.RESOURCE_EXHAUSTED)
    await esdb.restart()
    const written = events(3)
    await run(store.append(`${prefix}1`, written, "no_stream"))
    expect(await upToBarrier(store, sub, `${prefix}1`)).toEqual(written.map((e) => e.id))
    expect(sub.failed()).toBeUndefined()
    await run(Fiber.interrupt(sub.fiber))
  })

  it("subscribeAll fails with the last error once maxAttempts is exhausted", async () => {
    esdb = await startEsdbStandIn()
    store = await run(
      makeEsdbEventStore(esdb.connectionString, { resubscribe: { initialDelayMs: 10, maxDelayMs: 20, maxAttempts: 3 } })
    )
    await esdb.stop()
    const started = Date.now()
    const err = await run(Effect.flip(Stream.runCollect(store.subscribeAll({ from: "start" }))))
    expect(err._tag).toBe("EventStoreUnavailable")
    expect(Date.now() - started).toBeLessThan(5_000)
  })
})
