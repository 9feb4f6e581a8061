// What is particular to the embedded store; the shared behaviour is in test/contract.
import { randomBytes, randomUUID } from "node:crypto"
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { afterEach, describe, expect, it } from "vitest"
import { Effect, Stream } from "effect"
import { EventStore, type EventData } from "../../src/eventstore/eventStore.ts"
import { collectThroughCaughtUp } from "../contract/eventStoreContract.ts"
import { makeSqliteEventStore, SqliteEventStoreLive } from "../../src/eventstore/sqliteEventStore.ts"

const dirs: Array<string> = []
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "agentlog-sqlite-"))
  dirs.push(d)
  return d
}
afterEach(() => {
  for (const d of dirs.splice(0)) {
    try {
      chmodSync(d, 0o700)
    } catch {
      // already gone
    }
    rmSync(d, { recursive: true, force: true })
  }
})

const run = Effect.runPromise
const event = (type = "UnitTested", data: unknown = { n: 1 }): EventData => ({
  id: randomUUID(),
  type,
  data,
  metadata: { source: "api" }
})
const events = (n: number) => Array.from({ length: n }, (_, i) => event("UnitTested", { i }))

const openFails = async (dir: string) => {
  const error = await run(Effect.flip(makeSqliteEventStore(dir)))
  expect(error._tag).toBe("EventStoreFailure")
  return error
}

describe("sqlite event store: opening", () => {
  it("refuses a corrupted events.db, naming it, and leaves it untouched", async () => {
    const dir = tempDir()
    const file = join(dir, "events.db")
    const garbage = Buffer.concat([Buffer.from("definitely not SQLite\n"), randomBytes(8192)])
    writeFileSync(file, garbage)
    const error = await openFails(dir)
    expect(error.message).toContain(file)
    expect(readFileSync(file).equals(garbage)).toBe(true)
  })

  it("refuses a SQLite file that is not an agentlog event store", async () => {
    const dir = tempDir()
    const file = join(dir, "events.db")
    const other = new DatabaseSync(file)
    other.exec("CREATE TABLE customers (name TEXT); INSERT INTO customers VALUES ('ada')")
    other.close()
    const error = await openFails(dir)
    expect(error.message).toContain(file)
    const check = new DatabaseSync(file)
    expect(check.prepare("SELECT name FROM customers").all()).toHaveLength(1)
    check.close()
  })

  it("refuses a data directory that is a file", async () => {
    const dir = tempDir()
    const notADir = join(dir, "data")
    writeFileSync(notADir, "hello")
    const error = await openFails(notADir)
    expect(error.message).toContain(join(notADir, "events.db"))
    expect(readFileSync(notADir, "utf8")).toBe("hello")
  })

  it("refuses an events.db that is a directory", async () => {
    const dir = tempDir()
    mkdirSync(join(dir, "events.db"))
    const error = await openFails(dir)
    expect(error.message).toContain(join(dir, "events.db"))
  })

  it.skipIf(process.getuid?.() === 0)("refuses a data directory it may not write", async () => {
    const dir = tempDir()
    const store = await run(makeSqliteEventStore(dir))
    await run(store.close())
    chmodSync(join(dir, "events.db"), 0o400)
    const error = await openFails(dir)
    expect(error.message).toContain(join(dir, "events.db"))
  })

  it("creates a missing data directory", async () => {
    const dir = join(tempDir(), "nested", "data")
    const store = await run(makeSqliteEventStore(dir))
    expect(store.file).toBe(join(dir, "events.db"))
    expect(existsSync(store.file)).toBe(true)
    await run(store.close())
  })

  it("lets only one store open the file at a time", async () => {
    const dir = tempDir()
    const first = await run(makeSqliteEventStore(dir))
    const error = await openFails(dir)
    expect(error.message).toContain(join(dir, "events.db"))
    await run(first.close())
    const second = await run(makeSqliteEventStore(dir))
    await run(second.close())
  })

  it("uses WAL and keeps everything across close and reopen", async () => {
    const dir = tempDir()
    const first = await run(makeSqliteEventStore(dir))
    const written = events(5)
    await run(first.append("session-a", written.slice(0, 3), "no_stream"))
    await run(first.append("session-b", written.slice(3), "no_stream"))
    await run(first.close())
    await run(first.close()) // idempotent

    const raw = new DatabaseSync(join(dir, "events.db"), { readOnly: true })
    expect(raw.prepare("PRAGMA journal_mode").get()).toMatchObject({ journal_mode: "wal" })
    raw.close()

    const again = await run(makeSqliteEventStore(dir))
    const read = await run(Stream.runCollect(again.readAll()))
    expect(read.map((e) => e.id)).toEqual(written.map((e) => e.id))
    expect(read.map((e) => e.data)).toEqual(written.map((e) => e.data))
    const next = await run(again.append("session-a", events(1), 2n))
    expect(next).toEqual({ nextRevision: 3n, position: { commit: 6n, prepare: 6n } })
    await run(again.close())
  })
})

describe("sqlite event store: positions and ids", () => {
  it("numbers positions 1..n without gaps, also across rejected appends", async () => {
    const store = await run(makeSqliteEventStore(tempDir()))
    expect(await run(store.headPosition())).toBeNull()
    await run(store.append("s-1", events(3), "no_stream"))
    await run(Effect.flip(store.append("s-1", events(2), "no_stream")))
    await run(store.append("s-2", events(2), "any"))
    await run(Effect.flip(store.append("s-2", [event(), event("", {})], "any")))
    const last = await run(store.append("s-1", events(4), 2n))
    expect(last.position).toEqual({ commit: 9n, prepare: 9n })
    const all = await run(Stream.runCollect(store.readAll()))
    expect(all.map((e) => e.position.commit)).toEqual([1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n])
    expect(all.every((e) => e.position.commit === e.position.prepare)).toBe(true)
    expect(await run(store.headPosition())).toEqual({ commit: 9n, prepare: 9n })
    const backwards = await run(Stream.runCollect(store.readAll({ direction: "backwards" })))
    expect(backwards.map((e) => e.position.commit)).toEqual([9n, 8n, 7n, 6n, 5n, 4n, 3n, 2n, 1n])
    await run(store.close())
  })

  it("pages through reads larger than one page", async () => {
    const store = await run(makeSqliteEventStore(tempDir()))
    for (let i = 0; i < 3; i++) await run(store.append("s", events(400), "any"))
    const all = await run(Stream.runCollect(store.readAll()))
    expect(all.map((e) => e.position.commit)).toEqual(Array.from({ length: 1200 }, (_, i) => BigInt(i + 1)))
    const some = await run(Stream.runCollect(store.readStream("s", { fromRevision: 100n, maxCount: 777 })))
    expect(some.map((e) => e.revision)).toEqual(Array.from({ length: 777 }, (_, i) => BigInt(i + 100)))
    await run(store.close())
  })

  it("answers a retried append with the original result, including for any", async () => {
    const store = await run(makeSqliteEventStore(tempDir()))
    const batch = events(3)
    const first = await run(store.append("s", batch, "any"))
    await run(store.append("other", events(2), "any"))
    expect(await run(store.append("s", batch, "any"))).toEqual(first)
    expect(await run(store.append("s", batch, "no_stream"))).toEqual(first)
    expect(await run(store.append("s", batch, "exists"))).toEqual(first)
    expect((await run(Stream.runCollect(store.readAll()))).length).toBe(5)
    await run(store.close())
  })

  it("refuses an id already stored elsewhere, naming it, and writes nothing", async () => {
    const store = await run(makeSqliteEventStore(tempDir()))
    const used = event()
    await run(store.append("s-1", [used], "no_stream"))
    const elsewhere = await run(Effect.flip(store.append("s-2", [event(), used], "no_stream")))
    expect(elsewhere._tag).toBe("EventStoreFailure")
    expect(elsewhere.message).toContain(used.id)
    // same stream, but not the same append (different batch, or a different place)
    const partial = await run(Effect.flip(store.append("s-1", [used, event()], "no_stream")))
    expect(partial.message).toContain(used.id)
    const moved = await run(Effect.flip(store.append("s-1", [used], 0n)))
    expect(moved.message).toContain(used.id)
    const upper = await run(Effect.flip(store.append("s-3", [{ ...used, id: used.id.toUpperCase() }], "any")))
    expect(upper.message).toContain(used.id)
    expect((await run(Stream.runCollect(store.readAll()))).map((e) => e.id)).toEqual([used.id])
    await run(store.close())
  })

  it("refuses malformed appends", async () => {
    const store = await run(makeSqliteEventStore(tempDir()))
    const fails = (stream: string, evs: ReadonlyArray<EventData>) =>
      run(Effect.flip(store.append(stream, evs, "any"))).then((e) => e._tag)
    const dup = event()
    expect(await fails("s", [])).toBe("EventStoreFailure")
    expect(await fails("", [event()])).toBe("EventStoreFailure")
    expect(await fails("s", [{ ...event(), id: "not-a-uuid" }])).toBe("EventStoreFailure")
    expect(await fails("s", [dup, dup])).toBe("EventStoreFailure")
    expect(await fails("s", [event("T", 1n)])).toBe("EventStoreFailure")
    expect(await fails("s", [{ ...event(), data: undefined }])).toBe("EventStoreFailure")
    expect(await run(store.headPosition())).toBeNull()
    await run(store.close())
  })
})

describe("sqlite event store: filtered subscriptions", () => {
  it("deliver exactly the matching events across full pages, sparse matches and live", async () => {
    const store = await run(makeSqliteEventStore(tempDir()))
    const wanted: Array<string> = []
    for (let i = 0; i < 12; i++) {
      const mine = events(i % 3 === 0 ? 300 : 1)
      wanted.push(...mine.map((e) => e.id))
      await run(store.append("mine-1", mine, "any"))
      await run(store.append("other-1", events(700), "any"))
    }
    const live = events(3)
    const items = await run(
      collectThroughCaughtUp(
        store.subscribeAll({ from: "start", filter: { streamPrefix: ["mine-"] } }),
        (x) => x._tag === "RecordedEvent" && x.id === live[2]!.id,
        Effect.forEach(live, (e) =>
          Effect.andThen(store.append("other-1", events(600), "any"), store.append("mine-2", [e], "any"))
        )
      )
    )
    expect(items.map((x) => (x._tag === "CaughtUp" ? "CaughtUp" : x.id))).toEqual([
      ...wanted,
      "CaughtUp",
      ...live.map((e) => e.id)
    ])
    await run(store.close())
  })
})

describe("sqlite event store: filtered reads by index", () => {
  // Type filters read the type index (one ordered range per type, merged) and a narrow
  // stream prefix far behind the head reads the stream index; both must deliver exactly
  // what a plain filter over every event would, in order, whatever the cursor.
  it("match a plain filter over all events, forwards, backwards, from anywhere, with limits", async () => {
    const store = await run(makeSqliteEventStore(tempDir()))
    const types = ["A", "B", "C", "D"]
    let seed = 12345
    const rand = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n)
    const typed = (n: number) => Array.from({ length: n }, () => event(types[rand(types.length)]!, {}))
    // A category of 21,000 events ("cat-", too large for the stream index), two narrow
    // streams spread thinly among them, and a burst of one of them at the end.
    for (let i = 0; i < 42; i++) {
      await run(store.append(`cat-${i}`, typed(500), "any"))
      await run(store.append("one-a", typed(1), "any"))
      if (i % 3 === 0) await run(store.append("one-b", typed(3), "any"))
    }
    await run(store.append("one-b", typed(600), "any"))
    const all = await run(Stream.runCollect(store.readAll()))
    const head = all.length
    const matches = (e: (typeof all)[number], prefixes: ReadonlyArray<string>, ts: ReadonlyArray<string>) =>
      (prefixes.length === 0 || prefixes.some((p) => e.stream.startsWith(p))) && (ts.length === 0 || ts.includes(e.type))
    const ids = (xs: ReadonlyArray<{ readonly id: string }>) => xs.map((x) => x.id)

    const filters: Array<{ streamPrefix?: Array<string>; eventTypes?: Array<string> }> = [
      { streamPrefix: ["one-a"] },
      { streamPrefix: ["one-"] },
      { streamPrefix: ["cat-"] },
      { eventTypes: ["B"] },
      { eventTypes: ["A", "C", "D"] },
      { streamPrefix: ["one-"], eventTypes: ["B", "D"] },
      { streamPrefix: ["one-a", "cat-4"], eventTypes: ["C"] }
    ]
    const froms = [0, 1, 777, 10_000, head - 700, head - 1, head]
    for (const filter of filters) {
      const prefixes = filter.streamPrefix ?? []
      const ts = filter.eventTypes ?? []
      for (const from of froms) {
        // subscribeAll: exclusive start, catch-up then the marker.
        const sub = await run(
          Stream.runCollect(
            store
              .subscribeAll({ from: from === 0 ? "start" : { commit: BigInt(from), prepare: BigInt(from) }, filter })
              .pipe(Stream.takeUntil((x) => x._tag === "CaughtUp"))
          )
        )
        const expected = all.filter((e) => e.position.commit > BigInt(from) && matches(e, prefixes, ts))
        expect(ids(sub.filter((x) => x._tag === "RecordedEvent") as typeof all), `subscribe ${JSON.stringify(filter)} after ${from}`).toEqual(
          ids(expected)
        )
        expect(sub[sub.length - 1]!._tag).toBe("CaughtUp")
        // readAll: inclusive start, both directions, with and without a limit.
        const at = { commit: BigInt(Math.max(from, 1)), prepare: BigInt(Math.max(from, 1)) }
        for (const maxCount of [undefined, 1, 7, 1000]) {
          const fwd = await run(Stream.runCollect(store.readAll({ fromPosition: at, filter, ...(maxCount ? { maxCount } : {}) })))
          const wantFwd = all.filter((e) => e.position.commit >= at.commit && matches(e, prefixes, ts)).slice(0, maxCount)
          expect(ids(fwd), `readAll ${JSON.stringify(filter)} from ${from} max ${maxCount}`).toEqual(ids(wantFwd))
          const back = await run(
            Stream.runCollect(store.readAll({ fromPosition: at, direction: "backwards", filter, ...(maxCount ? { maxCount } : {}) }))
          )
          const wantBack = all
            .filter((e) => e.position.commit <= at.commit && matches(e, prefixes, ts))
            .reverse()
            .slice(0, maxCount)
          expect(ids(back), `readAll backwards ${JSON.stringify(filter)} from ${from} max ${maxCount}`).toEqual(ids(wantBack))
        }
      }
    }
    // Past the catch-up: a narrow subscription far behind the head goes live and gets new events.
    const live = event("A", {})
    const got = await run(
      collectThroughCaughtUp(
        store.subscribeAll({ from: { commit: 5n, prepare: 5n }, filter: { streamPrefix: ["one-a"] } }),
        (x) => x._tag === "RecordedEvent" && x.id === live.id,
        Effect.andThen(store.append("cat-1", typed(3000), "any"), store.append("one-a", [live], "any"))
      )
    )
    const oneA = all.filter((e) => e.stream === "one-a" && e.position.commit > 5n)
    expect(got.map((x) => (x._tag === "CaughtUp" ? "CaughtUp" : x.id))).toEqual([...ids(oneA), "CaughtUp", live.id])
    await run(store.close())
  }, 60_000)
})

describe("sqlite event store: lifecycle", () => {
  it("the layer closes the database with its scope", async () => {
    const dir = tempDir()
    await run(
      Effect.scoped(
        Effect.gen(function* () {
          const store = yield* EventStore
          yield* store.append("s", events(2), "no_stream")
        })
      ).pipe(Effect.provide(SqliteEventStoreLive(dir)))
    )
    // closed, so the exclusive lock is gone and the data is there
    const again = await run(makeSqliteEventStore(dir))
    expect((await run(Stream.runCollect(again.readStream("s")))).length).toBe(2)
    await run(again.close())
  })

  it("a live subscription fails when the store closes", async () => {
    const store = await run(makeSqliteEventStore(tempDir()))
    await run(store.append("s", events(1), "no_stream"))
    // Closed once the subscription is live (after CaughtUp), not after a guessed delay.
    const result = await run(
      Effect.flip(collectThroughCaughtUp(store.subscribeAll({ from: "start" }), () => false, store.close()))
    )
    expect(result._tag).toBe("EventStoreFailure")
  })
})
