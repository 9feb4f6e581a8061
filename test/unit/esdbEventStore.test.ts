// What the esdb adapter does beyond the shared contract (test/contract/esdb.contract.test.ts):
// skipping system events and links, EventStoreDB positions (each event its own offset),
// metadata round-trips, error mapping, the Layer. Through the unmodified client against the
// stand-in (test/support/esdbStandIn.ts).
import { randomUUID } from "node:crypto"
import * as grpc from "@grpc/grpc-js"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Effect, Stream } from "effect"
import { EsdbEventStoreLive, makeEsdbEventStore } from "../../src/eventstore/esdbEventStore.ts"
import { EventStore, type EventData, type EventStoreShape, type RecordedEvent } from "../../src/eventstore/eventStore.ts"
import { startEsdbStandIn, type EsdbStandIn } from "../support/esdbStandIn.ts"

const run = <A, E>(effect: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(effect)
const collect = <A, E>(stream: Stream.Stream<A, E>): Promise<Array<A>> => run(Stream.runCollect(stream))
const fails = <A, E>(effect: Effect.Effect<A, E>): Promise<E> => run(Effect.flip(effect))

const events = (n: number, type = "UnitTested"): Array<EventData> =>
  Array.from({ length: n }, (_, i) => ({ id: randomUUID(), type, data: { i }, metadata: { i } }))
const isSystem = (e: RecordedEvent) => e.type.startsWith("$") || e.stream.startsWith("$")

for (const batchAppend of [true, false]) {
  describe(`esdb adapter (${batchAppend ? "BatchAppend" : "Append"})`, () => {
    let esdb: EsdbStandIn
    let store: EventStoreShape
    beforeAll(async () => {
      esdb = await startEsdbStandIn({ batchAppend })
      store = await run(makeEsdbEventStore(esdb.connectionString))
    })
    afterAll(async () => {
      await run(store.close())
      await esdb.stop()
      expect(esdb.unimplementedCalls).toEqual([])
    })

    it("never returns system events or links, though $all is full of them", async () => {
      const s = `unit-${randomUUID()}`
      const result = await run(store.append(s, events(3), "no_stream"))
      // The newest events in $all are now `$>` links in $ce-unit, then a stats event.
      esdb.appendSystemEvent()
      const all = esdb.allEvents()
      expect(all.some((e) => e.type === "$>" && e.stream === "$ce-unit")).toBe(true)
      expect(all[all.length - 1]!.type).toBe("$statsCollection")
      expect(all.some((e) => e.type === "$metadata")).toBe(true)

      expect(await run(store.headPosition())).toEqual(result.position)
      const forwards = await collect(store.readAll())
      expect(forwards.length).toBeGreaterThanOrEqual(3)
      expect(forwards.filter(isSystem)).toEqual([])
      const backwards = await collect(store.readAll({ direction: "backwards", maxCount: 2 }))
      expect(backwards.map((e) => e.position)).toEqual(forwards.slice(-2).reverse().map((e) => e.position))

      const items = await collect(
        store.subscribeAll({ from: "start" }).pipe(Stream.takeUntil((x) => x._tag === "CaughtUp"))
      )
      expect(items[items.length - 1]!._tag).toBe("CaughtUp")
      const delivered = items.filter((x): x is RecordedEvent => x._tag === "RecordedEvent")
      expect(delivered.map((e) => e.id)).toEqual(forwards.map((e) => e.id))
    })

    it("keeps EventStoreDB positions: every event its own log offset (commit = prepare), the append the last one's", async () => {
      const s = `unit-${randomUUID()}`
      const result = await run(store.append(s, events(3), "no_stream"))
      const read = await collect(store.readStream(s))
      const [a, b, c] = read.map((e) => e.position)
      for (const p of [a!, b!, c!]) expect(p.commit).toBe(p.prepare)
      // Byte offsets in the log: increasing, with gaps (each record's size).
      expect(b!.commit - a!.commit).toBeGreaterThan(1n)
      expect(c!.commit - b!.commit).toBeGreaterThan(1n)
      expect(result.position).toEqual(c)

      // Inclusive reads and exclusive subscriptions from inside one append.
      const from = await collect(store.readAll({ fromPosition: b!, filter: { streamPrefix: [s] } }))
      expect(from.map((e) => e.revision)).toEqual([1n, 2n])
      const back = await collect(store.readAll({ fromPosition: b!, direction: "backwards", filter: { streamPrefix: [s] } }))
      expect(back.map((e) => e.revision)).toEqual([1n, 0n])
      const items = await collect(
        store.subscribeAll({ from: b!, filter: { streamPrefix: [s] } }).pipe(Stream.takeUntil((x) => x._tag === "CaughtUp"))
      )
      expect(items.map((x) => (x._tag === "CaughtUp" ? "CaughtUp" : x.revision))).toEqual([2n, "CaughtUp"])
    })

    it("round-trips every JSON metadata value, and absent metadata as null", async () => {
      const s = `unit-${randomUUID()}`
      const values: Array<unknown> = [null, false, 0, "", [], {}, "text", undefined]
      const written = values.map((metadata) => ({ id: randomUUID(), type: "Meta", data: { metadata: String(metadata) }, metadata }))
      await run(store.append(s, written, "no_stream"))
      const read = await collect(store.readStream(s))
      expect(read.map((e) => e.metadata)).toEqual([null, false, 0, "", [], {}, "text", null])
    })

    it("answers a retried append with the original revision and position", async () => {
      const s = `unit-${randomUUID()}`
      const batch = events(2)
      const first = await run(store.append(s, batch, "no_stream"))
      const again = await run(store.append(s, batch, "no_stream"))
      expect(again).toEqual(first)
      const anyAgain = await run(store.append(s, batch, "any"))
      expect(anyAgain).toEqual(first)
      // Part of an earlier append with other events: a conflict, not a silent success.
      const partial = await fails(store.append(s, [batch[0]!, ...events(1)], "no_stream"))
      expect(partial._tag).toBe("WrongExpectedVersion")
    })

    it("refuses bad input before calling the server, as EventStoreFailure", async () => {
      const s = `unit-${randomUUID()}`
      const bad: Array<[string, ReadonlyArray<EventData>]> = [
        [s, []],
        ["$system", events(1)],
        [s, [{ id: "not-a-uuid", type: "T", data: {}, metadata: {} }]],
        [s, [{ id: randomUUID(), type: "", data: {}, metadata: {} }]],
        [s, [{ id: randomUUID(), type: "T", data: undefined, metadata: {} }]],
        [s, [{ id: randomUUID(), type: "T", data: { n: 1n }, metadata: {} }]]
      ]
      for (const [stream, evs] of bad) expect((await fails(store.append(stream, evs, "any")))._tag).toBe("EventStoreFailure")
      const [e] = events(1)
      expect((await fails(store.append(s, [e!, e!], "any")))._tag).toBe("EventStoreFailure")
    })

    it("refuses an event over MaxAppendEventSize and an append over MaxAppendSize, as EventStoreFailure naming the limit", async () => {
      const small = await startEsdbStandIn({ batchAppend, maxAppendEventSize: 64 * 1024, maxAppendSize: 256 * 1024 })
      const limited = await run(makeEsdbEventStore(small.connectionString))
      try {
        const s = `unit-${randomUUID()}`
        const blob = (n: number) => ({ id: randomUUID(), type: "Big", data: { blob: "x".repeat(n) }, metadata: null })
        const big = blob(70_000)
        const err = await fails(limited.append(s, [events(1)[0]!, big], "no_stream"))
        expect(err._tag).toBe("EventStoreFailure")
        // Counted as the server does: data and metadata JSON bytes, 2 bytes per type character.
        const size = JSON.stringify(big.data).length + "null".length + 2 * "Big".length
        // Only Append's error carries the limit in a form the client passes on.
        const limit = batchAppend ? "" : " of 65536 bytes"
        expect(err.message).toBe(`append to ${s}: event ${big.id} (${size} bytes) exceeds the server's maximum event size${limit} (MaxAppendEventSize)`)
        const many = Array.from({ length: 5 }, () => blob(60_000))
        const whole = await fails(limited.append(s, many, "no_stream"))
        expect(whole._tag).toBe("EventStoreFailure")
        expect(whole.message).toMatch(/maximum append size of 262144 bytes exceeded|Maximum Append Size of 262144 Exceeded/)
        expect((await fails(Stream.runCollect(limited.readStream(s))))._tag).toBe("StreamNotFound")
        // Each under both limits: written.
        expect((await run(limited.append(s, many.slice(0, 4), "no_stream"))).nextRevision).toBe(3n)
      } finally {
        await run(limited.close())
        await small.stop()
      }
    })

    it("recognises a retry with any only while its ids are in the server's recent-id cache; with an exact revision always", async () => {
      const small = await startEsdbStandIn({ batchAppend, idCacheBytes: 4096, categoryLinks: false })
      const limited = await run(makeEsdbEventStore(small.connectionString))
      try {
        const s = `unit-${randomUUID()}`
        const batch = events(2)
        const first = await run(limited.append(s, batch, "any"))
        expect(await run(limited.append(s, batch, "any"))).toEqual(first)
        // Other writes push the ids out of the cache (about 30 entries fit in 4 KiB).
        for (let i = 0; i < 10; i++) await run(limited.append(`unit-${randomUUID()}`, events(10), "no_stream"))
        // With an exact revision the server reads the stream: still the original answer.
        expect(await run(limited.append(s, batch, "no_stream"))).toEqual(first)
        // With any, the evicted duplicates are written again: agentlog never retries with any.
        const again = await run(limited.append(s, batch, "any"))
        expect(again.nextRevision).toBe(3n)
        expect((await collect(limited.readStream(s))).map((e) => e.id)).toEqual([...batch, ...batch].map((e) => e.id))
      } finally {
        await run(limited.close())
        await small.stop()
      }
    })

    it("maps gRPC failures of reads: UNAVAILABLE to EventStoreUnavailable, others to EventStoreFailure", async () => {
      const read = "/event_store.client.streams.Streams/Read"
      esdb.failNextCall(read, grpc.status.UNAVAILABLE)
      expect((await fails(Stream.runCollect(store.readAll({ maxCount: 1 }))))._tag).toBe("EventStoreUnavailable")
      esdb.failNextCall(read, grpc.status.INTERNAL)
      expect((await fails(Stream.runCollect(store.readStream("anything")))).toString()).toMatch(/EventStoreFailure|INTERNAL/)
      expect((await collect(store.readAll({ maxCount: 1 }))).length).toBe(1)
    })
  })
}

describe("esdb adapter: lifecycle", () => {
  it("rejects a connection string that is not esdb://", async () => {
    for (const cs of ["", "http://127.0.0.1:2113", "sqlite", "esdb://"]) {
      const err = await fails(makeEsdbEventStore(cs))
      expect(err._tag).toBe("EventStoreFailure")
    }
  })

  it("fails every operation once closed", async () => {
    const esdb = await startEsdbStandIn()
    try {
      const store = await run(makeEsdbEventStore(esdb.connectionString))
      await run(store.append(`unit-${randomUUID()}`, events(1), "any"))
      await run(store.close())
      await run(store.close())
      expect((await fails(store.append(`unit-${randomUUID()}`, events(1), "any")))._tag).toBe("EventStoreFailure")
      expect((await fails(Stream.runCollect(store.readAll())))._tag).toBe("EventStoreFailure")
      expect((await fails(Stream.runCollect(store.subscribeAll({ from: "start" }))))._tag).toBe("EventStoreFailure")
      expect((await fails(store.headPosition()))._tag).toBe("EventStoreFailure")
    } finally {
      await esdb.stop()
    }
  })

  it("provides EventStore as a Layer and ends open subscriptions when the scope closes", async () => {
    const esdb = await startEsdbStandIn()
    try {
      const s = `unit-${randomUUID()}`
      const program = Effect.gen(function* () {
        const store = yield* EventStore
        yield* store.append(s, events(2), "no_stream")
        return yield* Stream.runCollect(
          store.subscribeAll({ from: "start", filter: { streamPrefix: [s] } }).pipe(Stream.take(3))
        )
      })
      const items = await run(Effect.provide(program, EsdbEventStoreLive(esdb.connectionString)))
      expect(items.map((x) => x._tag)).toEqual(["RecordedEvent", "RecordedEvent", "CaughtUp"])
    } finally {
      await esdb.stop()
    }
  })
})
