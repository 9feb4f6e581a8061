// The one contract every EventStore adapter passes. Every test uses its own stream names
// (and $all tests their own prefix or event types, starting at headPosition), so the
// suite also runs against a shared EventStoreDB that holds other data.
import { randomUUID } from "node:crypto"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Deferred, Effect, Fiber, Result, Stream } from "effect"
import type {
  AppendResult,
  CaughtUp,
  EventData,
  EventStoreShape,
  ExpectedRevision,
  Position,
  ReadAllOptions,
  RecordedEvent,
  StreamSubscriptionStart,
  SubscribeAllOptions
} from "../../src/eventstore/eventStore.ts"
import { parseRecordedJson } from "../../src/eventstore/eventStore.ts"
import { comparePositions } from "../../src/eventstore/position.ts"

export interface OpenedStore {
  readonly store: EventStoreShape
  readonly close: () => Promise<void>
  /**
   * Takes the store away (server down) until the returned function brings it back. Only
   * where a test can do that: a shared real server cannot be stopped by one test.
   */
  readonly outage?: () => Promise<() => Promise<void>>
}

const run = <A, E>(effect: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(effect)
/** The typed error an effect fails with (the test fails if it succeeds). */
const failure = <A, E>(effect: Effect.Effect<A, E>): Promise<E> => Effect.runPromise(Effect.flip(effect))
const collect = <A, E>(stream: Stream.Stream<A, E>): Promise<Array<A>> =>
  Effect.runPromise(Stream.runCollect(stream).pipe(Effect.timeout("60 seconds")))

const newStream = () => `contract-${randomUUID()}`
const newPrefix = () => `contract${randomUUID().replaceAll("-", "")}-`

const event = (type = "ContractTested", data: unknown = { at: randomUUID() }): EventData => ({
  id: randomUUID(),
  type,
  data,
  metadata: { correlationId: randomUUID(), schemaVersion: 1, source: "api", recordedAt: new Date().toISOString() }
})
const events = (n: number, type?: string): Array<EventData> =>
  Array.from({ length: n }, (_, i) => event(type, { i, at: randomUUID() }))

const ids = (xs: ReadonlyArray<RecordedEvent | CaughtUp | EventData>) =>
  xs.filter((x): x is RecordedEvent | EventData => !("_tag" in x) || x._tag === "RecordedEvent").map((x) => x.id)
const revisions = (xs: ReadonlyArray<RecordedEvent>) => xs.map((x) => x.revision)
const isCaughtUp = (x: RecordedEvent | CaughtUp): x is CaughtUp => x._tag === "CaughtUp"

const expectStrictlyIncreasing = (positions: ReadonlyArray<Position>) => {
  for (let i = 1; i < positions.length; i++) expect(comparePositions(positions[i - 1]!, positions[i]!)).toBe(-1)
}

/**
 * Collects a subscription up to and including the first item `done` accepts, running
 * `onCaughtUp` (forked) when the CaughtUp marker arrives: "live" events are appended at
 * that moment, not after a guessed delay.
 */
export const collectThroughCaughtUp = <E, E2>(
  subscription: Stream.Stream<RecordedEvent | CaughtUp, E>,
  done: (x: RecordedEvent | CaughtUp) => boolean,
  onCaughtUp: Effect.Effect<unknown, E2>
): Effect.Effect<Array<RecordedEvent | CaughtUp>, E | E2> =>
  Effect.gen(function* () {
    const caught = yield* Deferred.make<void>()
    const reaction = yield* Effect.forkChild(Effect.andThen(Deferred.await(caught), onCaughtUp))
    const items = yield* subscription.pipe(
      Stream.tap((x) => (isCaughtUp(x) ? Deferred.succeed(caught, undefined) : Effect.void)),
      Stream.takeUntil(done),
      Stream.runCollect
    )
    yield* Fiber.join(reaction)
    return items
  })

export interface ContractOptions {
  /**
   * Opens a store the harness can take away and bring back (OpenedStore.outage): the
   * stand-in server stopped and restarted, the embedded store's disk full and then not.
   * Absent for a shared real server, which one test cannot stop.
   */
  readonly outage?: () => Promise<OpenedStore>
  /**
   * Opens a store with small limits: 64 KiB per event, 256 KiB per append, and (where the
   * store has one) a recent-id cache of about 4 KiB. Absent for a shared real server,
   * whose limits are its own configuration.
   */
  readonly limited?: () => Promise<OpenedStore>
}

/** The limits a `limited` store is opened with. */
export const contractLimits = { maxEventBytes: 64 * 1024, maxAppendBytes: 256 * 1024 } as const

export function eventStoreContract(name: string, open: () => Promise<OpenedStore>, options: ContractOptions = {}): void {
  describe(`EventStore contract: ${name}`, () => {
    let opened: OpenedStore | undefined
    const store = (): EventStoreShape => opened!.store

    beforeAll(async () => {
      opened = await open()
    })
    afterAll(async () => {
      await opened?.close()
    })

    const append = (stream: string, evs: ReadonlyArray<EventData>, expected: ExpectedRevision) =>
      run(store().append(stream, evs, expected))
    const appendFails = (stream: string, evs: ReadonlyArray<EventData>, expected: ExpectedRevision) =>
      failure(store().append(stream, evs, expected))
    const readStream = (stream: string, options?: Parameters<EventStoreShape["readStream"]>[1]) =>
      collect(store().readStream(stream, options))
    const readAll = (options?: ReadAllOptions) => collect(store().readAll(options))
    /** Where $all reads of "what comes next" start (inclusive, so the head itself is someone else's event). */
    const here = async (): Promise<Position | "start"> => (await run(store().headPosition())) ?? "start"

    /**
     * Subscribes and collects until `lastId` was delivered; `onCaughtUp` runs (forked) when
     * the CaughtUp marker arrives. The subscriber yields after every item so that appends
     * running alongside really interleave with catch-up.
     */
    const subscribeUntil = (
      options: SubscribeAllOptions,
      lastId: string,
      onCaughtUp: Effect.Effect<unknown, unknown> = Effect.void
    ) => collectUntil(store().subscribeAll(options), lastId, onCaughtUp)
    const collectUntil = (
      subscription: Stream.Stream<RecordedEvent | CaughtUp, unknown>,
      lastId: string,
      onCaughtUp: Effect.Effect<unknown, unknown>
    ) =>
      run(
        collectThroughCaughtUp(
          subscription.pipe(Stream.tap(() => Effect.yieldNow)),
          (x) => x._tag === "RecordedEvent" && x.id === lastId,
          onCaughtUp
        ).pipe(Effect.timeout("60 seconds"))
      )

    describe("append and expected revision", () => {
      it("no_stream creates a stream and fails on an existing one, carrying the actual revision", async () => {
        const s = newStream()
        const first = await append(s, events(2), "no_stream")
        expect(first.nextRevision).toBe(1n)
        const err = await appendFails(s, events(1), "no_stream")
        expect(err._tag).toBe("WrongExpectedVersion")
        expect(err).toMatchObject({ stream: s, expected: "no_stream", actual: 1n })
      })

      it("any appends whether or not the stream exists", async () => {
        const s = newStream()
        expect((await append(s, events(1), "any")).nextRevision).toBe(0n)
        expect((await append(s, events(2), "any")).nextRevision).toBe(2n)
      })

      it("exists fails on a missing stream with actual no_stream, and appends to an existing one", async () => {
        const s = newStream()
        const err = await appendFails(s, events(1), "exists")
        expect(err).toMatchObject({ _tag: "WrongExpectedVersion", stream: s, expected: "exists", actual: "no_stream" })
        await append(s, events(1), "no_stream")
        expect((await append(s, events(1), "exists")).nextRevision).toBe(1n)
      })

      it("an exact revision appends only when it equals the last revision", async () => {
        const s = newStream()
        const missing = await appendFails(s, events(1), 0n)
        expect(missing).toMatchObject({ _tag: "WrongExpectedVersion", expected: 0n, actual: "no_stream" })
        await append(s, events(3), "no_stream")
        expect(await appendFails(s, events(1), 1n)).toMatchObject({ _tag: "WrongExpectedVersion", expected: 1n, actual: 2n })
        expect(await appendFails(s, events(1), 5n)).toMatchObject({ _tag: "WrongExpectedVersion", expected: 5n, actual: 2n })
        const ok = await append(s, events(2), 2n)
        expect(ok.nextRevision).toBe(4n)
        expect((await append(s, events(1), 4n)).nextRevision).toBe(5n)
      })

      it("a rejected append writes nothing", async () => {
        const s = newStream()
        const original = events(2)
        await append(s, original, "no_stream")
        await appendFails(s, events(3), "no_stream")
        await appendFails(s, events(3), 0n)
        expect(ids(await readStream(s))).toEqual(ids(original))
      })

      it("returns the position of the last appended event", async () => {
        const s = newStream()
        const result = await append(s, events(3), "no_stream")
        const read = await readStream(s)
        expect(read[2]!.position).toEqual(result.position)
        const head = await run(store().headPosition())
        expect(head).not.toBeNull()
        expect(comparePositions(head!, result.position)).toBeGreaterThanOrEqual(0)
      })

      it("of concurrent appends at the same expected revision exactly one wins, whole", async () => {
        const s = newStream()
        const seed = events(1)
        await append(s, seed, "no_stream")
        const contenders = Array.from({ length: 8 }, () => events(3))
        const results = await run(
          Effect.all(
            contenders.map((evs) => Effect.result(store().append(s, evs, 0n))),
            { concurrency: "unbounded" }
          )
        )
        const winners = results.flatMap((r, i) => (Result.isSuccess(r) ? [i] : []))
        expect(winners).toHaveLength(1)
        const winner = winners[0]!
        expect((results[winner] as Result.Success<AppendResult, unknown>).success.nextRevision).toBe(3n)
        for (const r of results) {
          if (Result.isFailure(r)) expect(r.failure).toMatchObject({ _tag: "WrongExpectedVersion", actual: 3n })
        }
        expect(ids(await readStream(s))).toEqual([...ids(seed), ...ids(contenders[winner]!)])
      })

      it("of concurrent creations with no_stream exactly one wins", async () => {
        const s = newStream()
        const contenders = Array.from({ length: 8 }, () => events(2))
        const results = await run(
          Effect.all(
            contenders.map((evs) => Effect.result(store().append(s, evs, "no_stream"))),
            { concurrency: "unbounded" }
          )
        )
        const winners = results.flatMap((r, i) => (Result.isSuccess(r) ? [i] : []))
        expect(winners).toHaveLength(1)
        for (const r of results) {
          if (Result.isFailure(r)) expect(r.failure).toMatchObject({ _tag: "WrongExpectedVersion", actual: 1n })
        }
        expect(ids(await readStream(s))).toEqual(ids(contenders[winners[0]!]!))
      })

      it("a retried append with the same ids succeeds without writing duplicates", async () => {
        const s = newStream()
        const created = events(3)
        const first = await append(s, created, "no_stream")
        const retried = await append(s, created, "no_stream")
        expect(retried.nextRevision).toBe(first.nextRevision)

        const more = events(2)
        const second = await append(s, more, 2n)
        expect(second.nextRevision).toBe(4n)
        const again = await append(s, more, 2n)
        expect(again.nextRevision).toBe(4n)

        const read = await readStream(s)
        expect(ids(read)).toEqual([...ids(created), ...ids(more)])
        expect(revisions(read)).toEqual([0n, 1n, 2n, 3n, 4n])
      })

      it("a retry answers with the original write's position, also after later appends, with an exact revision", async () => {
        const s = newStream()
        const created = events(3)
        const first = await append(s, created, "no_stream")
        const more = events(2)
        const second = await append(s, more, 2n)
        await append(s, events(4), 4n)
        await append(newStream(), events(2), "no_stream")
        expect(await append(s, created, "no_stream")).toEqual(first)
        expect(await append(s, more, 2n)).toEqual(second)
        expect(ids(await readStream(s))).toHaveLength(9)
      })

      it("a retry with expected revision any right after the write answers with its position", async () => {
        const s = newStream()
        const written = events(2)
        const first = await append(s, written, "any")
        expect(await append(s, written, "any")).toEqual(first)
        expect(ids(await readStream(s))).toEqual(ids(written))
      })

      it("a retry with an exact revision answers the original write however much was written since (no recent-id cache to outlive)", async () => {
        const own = await (options.limited ?? open)()
        try {
          const s = newStream()
          const batch = events(2)
          const first = await run(own.store.append(s, batch, "no_stream"))
          // On a server with a 4 KiB recent-id cache (about 30 ids) these push the batch out of it.
          for (let i = 0; i < 10; i++) await run(own.store.append(newStream(), events(10), "no_stream"))
          expect(await run(own.store.append(s, batch, "no_stream"))).toEqual(first)
          expect(ids(await collect(own.store.readStream(s)))).toEqual(ids(batch))
        } finally {
          await own.close()
        }
      })

      it.runIf(options.limited !== undefined)(
        "refuses an event over the per-event limit and an append over the per-append limit, naming the limit, writing nothing",
        async () => {
          const own = await options.limited!()
          try {
            const s = newStream()
            const big = event("Big", { blob: "x".repeat(contractLimits.maxEventBytes + 100) })
            const tooBig = await failure(own.store.append(s, [event(), big], "no_stream"))
            expect(tooBig._tag).toBe("EventStoreFailure")
            expect(tooBig.message).toMatch(
              new RegExp(`^append to ${s}: event ${big.id} \\(\\d+ bytes\\) exceeds the (server|store)'s maximum event size`)
            )
            // Each under the event limit, together over the append limit.
            const many = Array.from({ length: 5 }, () => event("Big", { blob: "x".repeat(60_000) }))
            const tooMuch = await failure(own.store.append(s, many, "no_stream"))
            expect(tooMuch._tag).toBe("EventStoreFailure")
            expect(tooMuch.message).toMatch(
              new RegExp(`maximum append size of ${contractLimits.maxAppendBytes} bytes exceeded|Maximum Append Size of ${contractLimits.maxAppendBytes} Exceeded`)
            )
            expect((await failure(Stream.runCollect(own.store.readStream(s))))._tag).toBe("StreamNotFound")
            expect((await run(own.store.append(s, many.slice(0, 4), "no_stream"))).nextRevision).toBe(3n)
          } finally {
            await own.close()
          }
        }
      )

      it("every event of an append has its own position; the append answers the last one's", async () => {
        const s = newStream()
        const result = await append(s, events(4), "no_stream")
        const read = await readStream(s)
        expectStrictlyIncreasing(read.map((e) => e.position))
        expect(result.position).toEqual(read[3]!.position)
        // A position inside an append is a place to start from, like any other.
        expect(ids(await readAll({ fromPosition: read[2]!.position, filter: { streamPrefix: [s] } }))).toEqual(ids(read.slice(2)))
        const afterSecond = await collect(
          store().subscribeAll({ from: read[1]!.position, filter: { streamPrefix: [s] } }).pipe(Stream.takeUntil(isCaughtUp))
        )
        expect(ids(afterSecond)).toEqual(ids(read.slice(2)))
      })
    })

    describe("readStream", () => {
      const setUp = async () => {
        const s = newStream()
        const written = events(5, "ContractRead")
        await append(s, written.slice(0, 2), "no_stream")
        await append(s, written.slice(2), 1n)
        return { s, written, all: ids(written) }
      }

      it("reads forwards with every field recorded", async () => {
        const { s, written, all } = await setUp()
        const read = await readStream(s)
        expect(ids(read)).toEqual(all)
        expect(revisions(read)).toEqual([0n, 1n, 2n, 3n, 4n])
        expectStrictlyIncreasing(read.map((e) => e.position))
        read.forEach((e, i) => {
          expect(e._tag).toBe("RecordedEvent")
          expect(e.stream).toBe(s)
          expect(e.type).toBe("ContractRead")
          expect(e.data).toEqual(written[i]!.data)
          expect(e.metadata).toEqual(written[i]!.metadata)
          expect(e.created).toBeInstanceOf(Date)
          expect(Number.isNaN(e.created.getTime())).toBe(false)
          expect(Math.abs(e.created.getTime() - Date.now())).toBeLessThan(10 * 60_000)
        })
      })

      it("reads backwards", async () => {
        const { s, all } = await setUp()
        const read = await readStream(s, { direction: "backwards" })
        expect(ids(read)).toEqual([...all].reverse())
        expect(revisions(read)).toEqual([4n, 3n, 2n, 1n, 0n])
        expect(ids(await readStream(s, { direction: "backwards", fromRevision: "end" }))).toEqual([...all].reverse())
      })

      it("starts at fromRevision, inclusive, in either direction", async () => {
        const { s, all } = await setUp()
        expect(ids(await readStream(s, { fromRevision: 2n }))).toEqual(all.slice(2))
        expect(ids(await readStream(s, { fromRevision: "start" }))).toEqual(all)
        expect(ids(await readStream(s, { fromRevision: 2n, direction: "backwards" }))).toEqual(all.slice(0, 3).reverse())
        expect(await readStream(s, { fromRevision: 5n })).toEqual([])
        expect(await readStream(s, { fromRevision: 100n })).toEqual([])
      })

      it("stops after maxCount", async () => {
        const { s, all } = await setUp()
        expect(ids(await readStream(s, { maxCount: 2 }))).toEqual(all.slice(0, 2))
        expect(ids(await readStream(s, { maxCount: 2, direction: "backwards" }))).toEqual([all[4], all[3]])
        expect(ids(await readStream(s, { maxCount: 2, fromRevision: 1n }))).toEqual(all.slice(1, 3))
        expect(ids(await readStream(s, { maxCount: 100 }))).toEqual(all)
        expect(ids(await readStream(s, { maxCount: 1, direction: "backwards" }))).toEqual([all[4]])
      })

      it("fails with StreamNotFound for a stream without events", async () => {
        const s = newStream()
        const err = await failure(Stream.runCollect(store().readStream(s)))
        expect(err).toMatchObject({ _tag: "StreamNotFound", stream: s })
        const backwards = await failure(Stream.runCollect(store().readStream(s, { direction: "backwards" })))
        expect(backwards._tag).toBe("StreamNotFound")
      })
    })

    describe("readAll", () => {
      /** Interleaved appends to three streams under one prefix; returns the ids in commit order. */
      const setUp = async () => {
        const p = newPrefix()
        const [a, b, c] = [`${p}a`, `${p}b`, `${p}c`]
        const from = await here()
        const order: Array<{ stream: string; evs: Array<EventData>; result: AppendResult }> = []
        const plan: Array<[string, Array<EventData>]> = [
          [a, events(2, "ContractA")],
          [b, events(3, "ContractB")],
          [a, events(1, "ContractB")],
          [c, events(2, "ContractC")],
          [b, events(1, "ContractA")]
        ]
        for (const [stream, evs] of plan) order.push({ stream, evs, result: await append(stream, evs, "any") })
        const all = order.flatMap((o) => o.evs)
        return { p, a, b, c, from, order, all, allIds: ids(all) }
      }

      it("returns events in commit order, positions strictly increasing, revisions gap-free per stream", async () => {
        const { p, from, order, allIds } = await setUp()
        const read = await readAll({ fromPosition: from, filter: { streamPrefix: [p] } })
        expect(ids(read)).toEqual(allIds)
        expectStrictlyIncreasing(read.map((e) => e.position))
        const byStream = new Map<string, Array<bigint>>()
        for (const e of read) byStream.set(e.stream, [...(byStream.get(e.stream) ?? []), e.revision])
        for (const revs of byStream.values()) expect(revs).toEqual(revs.map((_, i) => BigInt(i)))
        // each append's result names the position of its last event
        for (const o of order) {
          const last = read.find((e) => e.id === o.evs[o.evs.length - 1]!.id)!
          expect(last.position).toEqual(o.result.position)
        }
      })

      it("without a filter, includes everything appended, in order", async () => {
        const { from, allIds } = await setUp()
        const read = await readAll({ fromPosition: from })
        expectStrictlyIncreasing(read.map((e) => e.position))
        const wanted = new Set(allIds)
        expect(ids(read).filter((id) => wanted.has(id))).toEqual(allIds)
      })

      it("starts at fromPosition, inclusive", async () => {
        const { p, from, allIds } = await setUp()
        const read = await readAll({ fromPosition: from, filter: { streamPrefix: [p] } })
        const third = read[2]!
        const rest = await readAll({ fromPosition: third.position, filter: { streamPrefix: [p] } })
        expect(ids(rest)).toEqual(allIds.slice(2))
      })

      it("reads backwards from a position, inclusive", async () => {
        const { p, from, allIds } = await setUp()
        const read = await readAll({ fromPosition: from, filter: { streamPrefix: [p] } })
        const last = read[read.length - 1]!
        const back = await readAll({
          fromPosition: last.position,
          direction: "backwards",
          filter: { streamPrefix: [p] },
          maxCount: 4
        })
        expect(ids(back)).toEqual(allIds.slice(-4).reverse())
        expectStrictlyIncreasing(back.map((e) => e.position).reverse())
        const third = read[2]!
        const before = await readAll({
          fromPosition: third.position,
          direction: "backwards",
          filter: { streamPrefix: [p] },
          maxCount: 3
        })
        expect(ids(before)).toEqual(allIds.slice(0, 3).reverse())
      })

      it("stops after maxCount", async () => {
        const { p, from, allIds } = await setUp()
        expect(ids(await readAll({ fromPosition: from, filter: { streamPrefix: [p] }, maxCount: 3 }))).toEqual(
          allIds.slice(0, 3)
        )
      })

      it("filters by stream prefixes and by event types", async () => {
        const { p, a, c, from, order } = await setUp()
        const inStreams = (...ss: Array<string>) => ids(order.filter((o) => ss.includes(o.stream)).flatMap((o) => o.evs))
        expect(ids(await readAll({ fromPosition: from, filter: { streamPrefix: [a, c] } }))).toEqual(inStreams(a, c))

        const typeA = `ContractOnly${randomUUID().replaceAll("-", "")}`
        const typeB = `ContractOnly${randomUUID().replaceAll("-", "")}`
        const mixed = [event(typeA), event(typeB), event("ContractOther"), event(typeA)]
        await append(`${p}d`, mixed, "no_stream")
        expect(ids(await readAll({ fromPosition: from, filter: { eventTypes: [typeA] } }))).toEqual(
          ids([mixed[0]!, mixed[3]!])
        )
        expect(ids(await readAll({ fromPosition: from, filter: { eventTypes: [typeA, typeB] } }))).toEqual(
          ids([mixed[0]!, mixed[1]!, mixed[3]!])
        )
        // both filters: both must match
        const typed = await readAll({ fromPosition: from, filter: { streamPrefix: [p], eventTypes: ["ContractB"] } })
        expect(ids(typed)).toEqual(ids(order.flatMap((o) => o.evs).filter((e) => e.type === "ContractB")))
        expect(await readAll({ fromPosition: from, filter: { streamPrefix: [a], eventTypes: [typeA] } })).toEqual([])
      })
    })

    describe("subscribeAll", () => {
      it("from start: everything so far, one CaughtUp, then live events", async () => {
        const p = newPrefix()
        const before = events(5)
        await append(`${p}1`, before.slice(0, 3), "no_stream")
        await append(`${p}2`, before.slice(3), "no_stream")
        const live = events(3)
        const items = await subscribeUntil(
          { from: "start", filter: { streamPrefix: [p] } },
          live[2]!.id,
          store().append(`${p}1`, live, 2n)
        )
        expect(items.map((x) => (isCaughtUp(x) ? "CaughtUp" : x.id))).toEqual([...ids(before), "CaughtUp", ...ids(live)])
        const caughtUp = items[5] as CaughtUp
        if (caughtUp.position !== undefined) expect(caughtUp.position).toEqual((items[4] as RecordedEvent).position)
      })

      it("from a position: only later events (exclusive), then live", async () => {
        const p = newPrefix()
        const s = `${p}1`
        const written = events(10)
        await append(s, written, "no_stream")
        const fifth = (await readStream(s))[4]!
        const live = events(2)
        const items = await subscribeUntil(
          { from: fifth.position, filter: { streamPrefix: [p] } },
          live[1]!.id,
          store().append(s, live, 9n)
        )
        expect(items.map((x) => (isCaughtUp(x) ? "CaughtUp" : x.id))).toEqual([
          ...ids(written.slice(5)),
          "CaughtUp",
          ...ids(live)
        ])
      })

      it("from end: CaughtUp first, then only events appended afterwards", async () => {
        const p = newPrefix()
        await append(`${p}1`, events(3), "no_stream")
        const live = events(4)
        const items = await subscribeUntil(
          { from: "end", filter: { streamPrefix: [p] } },
          live[3]!.id,
          Effect.andThen(store().append(`${p}1`, live.slice(0, 2), 2n), store().append(`${p}2`, live.slice(2), "any"))
        )
        expect(items.map((x) => (isCaughtUp(x) ? "CaughtUp" : x.id))).toEqual(["CaughtUp", ...ids(live)])
      })

      it("filters by event type", async () => {
        const p = newPrefix()
        const wanted = `ContractSub${randomUUID().replaceAll("-", "")}`
        const from = await here()
        const mixed = [event(wanted), event("ContractOther"), event(wanted)]
        await append(`${p}1`, mixed, "no_stream")
        const last = event(wanted)
        const items = await subscribeUntil(
          { from, filter: { eventTypes: [wanted] } },
          last.id,
          store().append(`${p}1`, [event("ContractOther"), last], 2n)
        )
        expect(items.map((x) => (isCaughtUp(x) ? "CaughtUp" : x.id))).toEqual([
          mixed[0]!.id,
          mixed[2]!.id,
          "CaughtUp",
          last.id
        ])
      })

      it("delivers every event exactly once across catch-up and live while appends continue", async () => {
        const p = newPrefix()
        const streams = Array.from({ length: 5 }, (_, i) => `${p}${i}`)
        const from = await here()
        const before = Array.from({ length: 30 }, () => events(100))
        const during = events(300)
        const after = events(50)
        for (const [i, batch] of before.entries()) await append(streams[i % 5]!, batch, "any")

        const items = await run(
          Effect.gen(function* () {
            const caught = yield* Deferred.make<void>()
            const appender = yield* Effect.forkChild(
              Effect.gen(function* () {
                // Slower than the subscriber, so catch-up ends while these are still arriving.
                for (const [i, e] of during.entries()) {
                  yield* store().append(streams[i % 5]!, [e], "any")
                  yield* Effect.sleep("1 millis")
                }
                yield* Deferred.await(caught)
                for (let i = 0; i < after.length; i += 10) yield* store().append(streams[0]!, after.slice(i, i + 10), "any")
              })
            )
            const collected = yield* store()
              .subscribeAll({ from, filter: { streamPrefix: [p] } })
              .pipe(
                Stream.tap((x) => (isCaughtUp(x) ? Deferred.succeed(caught, undefined) : Effect.void)),
                Stream.tap(() => Effect.yieldNow),
                Stream.takeUntil((x) => x._tag === "RecordedEvent" && x.id === after[after.length - 1]!.id),
                Stream.runCollect
              )
            yield* Fiber.join(appender)
            return collected
          }).pipe(Effect.timeout("120 seconds"))
        )

        const expected = [...before.flat(), ...during, ...after].map((e) => e.id)
        const delivered = ids(items)
        expect(delivered.length).toBe(expected.length)
        expect(delivered).toEqual(expected)
        const markers = items.flatMap((x, i) => (isCaughtUp(x) ? [i] : []))
        expect(markers).toHaveLength(1)
        // everything written before subscribing comes before the marker, everything after it after
        expect(markers[0]!).toBeGreaterThanOrEqual(3000)
        expect(markers[0]!).toBeLessThanOrEqual(3300)
        expectStrictlyIncreasing(items.filter((x): x is RecordedEvent => !isCaughtUp(x)).map((e) => e.position))
      })
    })

    describe("subscribeStream", () => {
      /** Subscribes to one stream and collects until `lastId` was delivered, `during` forked at CaughtUp. */
      const followUntil = (
        stream: string,
        from: StreamSubscriptionStart,
        lastId: string,
        during: Effect.Effect<unknown, unknown> = Effect.void
      ) => collectUntil(store().subscribeStream(stream, from), lastId, during)
      const shape = (items: ReadonlyArray<RecordedEvent | CaughtUp>) => items.map((x) => (isCaughtUp(x) ? "CaughtUp" : x.id))

      it("from start: the stream so far, one CaughtUp, then live events, and nothing of other streams", async () => {
        const s = newStream()
        const before = events(3)
        await append(s, before, "no_stream")
        const live = events(2)
        const items = await followUntil(
          s,
          "start",
          live[1]!.id,
          Effect.andThen(store().append(`${s}-other`, events(2), "no_stream"), store().append(s, live, 2n))
        )
        expect(shape(items)).toEqual([...ids(before), "CaughtUp", ...ids(live)])
        const recorded = items.filter((x): x is RecordedEvent => !isCaughtUp(x))
        expect(revisions(recorded)).toEqual([0n, 1n, 2n, 3n, 4n])
        expect((items[3] as CaughtUp).position).toEqual(recorded[2]!.position)
      })

      it("from a revision: only the events after it (exclusive)", async () => {
        const s = newStream()
        const written = events(5)
        await append(s, written, "no_stream")
        const live = events(1)
        const items = await followUntil(s, 2n, live[0]!.id, store().append(s, live, 4n))
        expect(shape(items)).toEqual([...ids(written.slice(3)), "CaughtUp", ...ids(live)])
      })

      it("from end: CaughtUp first, then only what is appended afterwards", async () => {
        const s = newStream()
        await append(s, events(3), "no_stream")
        const live = events(2)
        const items = await followUntil(s, "end", live[1]!.id, store().append(s, live, 2n))
        expect(shape(items)).toEqual(["CaughtUp", ...ids(live)])
      })

      it("a stream that does not exist yet: CaughtUp, then its events once it is created", async () => {
        const s = newStream()
        const created = events(2)
        const items = await followUntil(s, "start", created[1]!.id, store().append(s, created, "no_stream"))
        expect(shape(items)).toEqual(["CaughtUp", ...ids(created)])
        expect((items[0] as CaughtUp).position).toBeUndefined()
      })
    })

    describe("readStreamJson", () => {
      it("is readStream with data and metadata as their JSON text", async () => {
        const s = newStream()
        await append(s, [event("ContractJson", { n: 1, s: "é\u2028", nested: [null, true] }), event()], "no_stream")
        const parsed = await readStream(s, { fromRevision: 0n })
        const json = await collect(store().readStreamJson(s, { fromRevision: 0n }))
        expect(json.map((e) => ({ ...e, _tag: "RecordedEvent", data: JSON.parse(e.dataJson), metadata: JSON.parse(e.metadataJson), dataJson: undefined, metadataJson: undefined })))
          .toEqual(parsed.map((e) => ({ ...e, dataJson: undefined, metadataJson: undefined })))
        expect(json.map((e) => e.dataJson)).toEqual(parsed.map((e) => JSON.stringify(e.data)))
        expect(await collect(store().readStreamJson(s, { direction: "backwards", maxCount: 1 }))).toHaveLength(1)
        expect((await failure(Stream.runCollect(store().readStreamJson(newStream()))))._tag).toBe("StreamNotFound")
      })

      it("readAllJson is readAll with data and metadata as their JSON text, filters and all", async () => {
        const s = newStream()
        await append(s, [event("ContractJson", { n: 2, s: "ü\u2029" }), event("ContractJsonOther")], "no_stream")
        const options = { fromPosition: "start", filter: { streamPrefix: [s] } } as const
        const parsed = await collect(store().readAll(options))
        const json = await collect(store().readAllJson(options))
        expect(parsed.map((e) => e.type)).toEqual(["ContractJson", "ContractJsonOther"])
        expect(json.map(parseRecordedJson)).toEqual(parsed)
        expect(json.map((e) => e.dataJson)).toEqual(parsed.map((e) => JSON.stringify(e.data)))
        const typed = await collect(store().readAllJson({ ...options, filter: { streamPrefix: [s], eventTypes: ["ContractJsonOther"] } }))
        expect(typed.map((e) => e.type)).toEqual(["ContractJsonOther"])
      })
    })

    describe("volume and content", () => {
      it("keeps 10,000 events in one stream, in order", async () => {
        const s = newStream()
        const written: Array<EventData> = []
        for (let b = 0; b < 20; b++) {
          const batch = events(500, "ContractVolume")
          const r = await append(s, batch, b === 0 ? "no_stream" : BigInt(b * 500 - 1))
          expect(r.nextRevision).toBe(BigInt(b * 500 + 499))
          written.push(...batch)
        }
        const read = await readStream(s)
        expect(read).toHaveLength(10_000)
        expect(ids(read)).toEqual(ids(written))
        expect(read.every((e, i) => e.revision === BigInt(i))).toBe(true)
        expect(read[9_999]!.data).toEqual(written[9_999]!.data)
        const last = await readStream(s, { direction: "backwards", maxCount: 1 })
        expect(last[0]!.revision).toBe(9_999n)
      })

      it("round-trips a 1 MB event", async () => {
        const s = newStream()
        const blob = Array.from({ length: 1024 * 1024 }, (_, i) => String.fromCharCode(97 + (i % 26))).join("")
        const big = event("ContractBig", { blob, tail: [1, 2.5, null, true, "end"] })
        await append(s, [big], "no_stream")
        const [read] = await readStream(s)
        expect(read!.id).toBe(big.id)
        expect((read!.data as { blob: string }).blob.length).toBe(1024 * 1024)
        expect(read!.data).toStrictEqual(big.data)
      })

      it("round-trips unicode in data, metadata and type exactly", async () => {
        const s = newStream()
        const text =
          "emoji 😀👩‍👩‍👧‍👦🏳️‍🌈 CJK 漢字かなカナ한국어 RTL עברית العربية \u200f\u200e controls \u0001\u0007\b\t\n\v\f\r\u001b\u001f\u007f" +
          " separators \u2028\u2029 bom \ufeff combining e\u0301 astral 𝄞𝕏 quotes \"'\\ /"
        const e: EventData = {
          id: randomUUID(),
          type: "Ünïcødé事件حدث🎉",
          data: { text, [text]: [text, { "键": "值", "🔑": "🚪" }], n: -0.5, big: 12345678901234 },
          metadata: { correlationId: randomUUID(), note: text, source: "api" }
        }
        await append(s, [e], "no_stream")
        const [read] = await readStream(s)
        expect(read!.type).toBe(e.type)
        expect(read!.data).toStrictEqual(e.data)
        expect(read!.metadata).toStrictEqual(e.metadata)
        const [viaAll] = await readAll({ fromPosition: read!.position, maxCount: 1 })
        expect(viaAll!.id).toBe(e.id)
        expect(viaAll!.type).toBe(e.type)
        expect(viaAll!.data).toStrictEqual(e.data)
        expect(viaAll!.metadata).toStrictEqual(e.metadata)
      })
    })

    describe("closed and unavailable", () => {
      it("once closed, every call fails with EventStoreFailure and open subscriptions end with it", async () => {
        const own = await open()
        try {
          const s = newStream()
          await run(own.store.append(s, events(1), "no_stream"))
          const live = await run(
            Effect.gen(function* () {
              const caught = yield* Deferred.make<void>()
              const all = yield* Effect.forkChild(
                own.store.subscribeAll({ from: "end" }).pipe(
                  Stream.tap((x) => (isCaughtUp(x) ? Deferred.succeed(caught, undefined) : Effect.void)),
                  Stream.runDrain,
                  Effect.flip
                )
              )
              const one = yield* Effect.forkChild(Effect.flip(Stream.runDrain(own.store.subscribeStream(s, "end"))))
              yield* Deferred.await(caught)
              yield* own.store.close()
              yield* own.store.close() // idempotent
              return [yield* Fiber.join(all), yield* Fiber.join(one)]
            }).pipe(Effect.timeout("30 seconds"))
          )
          expect(live.map((e) => e._tag)).toEqual(["EventStoreFailure", "EventStoreFailure"])
          const after = [
            await failure(own.store.append(s, events(1), "any")),
            await failure(Stream.runCollect(own.store.readStream(s))),
            await failure(Stream.runCollect(own.store.readStreamJson(s))),
            await failure(Stream.runCollect(own.store.readAll({ maxCount: 1 }))),
            await failure(Stream.runCollect(own.store.subscribeAll({ from: "start" }))),
            await failure(Stream.runCollect(own.store.subscribeStream(s, "start"))),
            await failure(own.store.headPosition())
          ]
          expect(after.map((e) => e._tag)).toEqual(Array(7).fill("EventStoreFailure"))
        } finally {
          await own.close()
        }
      })

      it.runIf(options.outage !== undefined)("while unavailable, appends fail as EventStoreUnavailable and write nothing; afterwards all resumes", async () => {
        const own = await options.outage!()
        try {
          const s = newStream()
          const first = events(2)
          await run(own.store.append(s, first, "no_stream"))
          const later = events(2)
          const followed = Effect.runPromise(
            own.store.subscribeStream(s, "start").pipe(
              Stream.takeUntil((x) => x._tag === "RecordedEvent" && x.id === later[1]!.id),
              Stream.runCollect,
              Effect.timeout("60 seconds")
            )
          )
          const restore = await own.outage!()
          // 32 KB: more than any free space a store's last pages may have left.
          const refused = await failure(own.store.append(s, [event("ContractTested", { pad: "x".repeat(32 * 1024) })], 1n))
          expect(refused._tag).toBe("EventStoreUnavailable")
          await restore()
          expect((await run(own.store.append(s, later, 1n))).nextRevision).toBe(3n)
          expect(ids(await followed)).toEqual(ids([...first, ...later]))
          expect(ids(await collect(own.store.readStream(s)))).toEqual(ids([...first, ...later]))
        } finally {
          await own.close()
        }
      })
    })
  })
}
