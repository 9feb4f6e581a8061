// agentlog migrate: every stream of the embedded store into EventStoreDB/KurrentDB, with the
// same event ids, data and metadata, each stream in its order, and streams interleaved
// much as they were (the source is read in its global order, a page at a time, and each
// page's events are appended stream by stream). Where to go on is always taken from the
// target: a stream whose last revision there is r gets the source's events after r,
// appended expecting exactly r, so a migration stopped or killed anywhere resumes with
// nothing written twice. At the end both sides are read again and compared stream by
// stream (count and sha256 of every event's id, type, data and metadata).
import { Effect, Stream } from "effect"
import type { EventStoreShape, RecordedEvent } from "../../eventstore/eventStore.ts"
import { CliError } from "../client.ts"
import { progress } from "./progress.ts"
import { digestStream, lastRevision, run, streamsOf, withStore } from "./stores.ts"

export interface MigrateResult {
  readonly events: number
  /** Events this run appended (the rest were already in the target). */
  readonly copied: number
  readonly streams: number
  /** Streams whose count or hash differ between the two sides, and how. */
  readonly mismatches: ReadonlyArray<string>
}

export const copyStreams = async (source: EventStoreShape, target: EventStoreShape, onProgress: (done: number) => void): Promise<number> => {
  const last = new Map<string, bigint>()
  let done = 0
  let copied = 0
  const appendGroup = async (stream: string, events: ReadonlyArray<RecordedEvent>) => {
    let after = last.get(stream)
    if (after === undefined) last.set(stream, (after = await lastRevision(target, stream)))
    const missing = events.filter((e) => e.revision > after)
    if (missing.length === 0) return
    if (missing[0]!.revision !== after + 1n)
      throw new CliError(`${stream}: the target's last revision is ${after}, the source goes on at ${missing[0]!.revision}; the target holds other events`)
    const r = await run(target.append(stream, missing.map((e) => ({ id: e.id, type: e.type, data: e.data, metadata: e.metadata })), after < 0n ? "no_stream" : after))
    last.set(stream, r.nextRevision)
    copied += missing.length
  }
  await run(
    // Pages of 5,000: a session's events in one append rather than a few each.
    Stream.runForEachArray(source.readAll().pipe(Stream.rechunk(5_000)), (page) =>
      Effect.promise(async () => {
        const byStream = new Map<string, Array<RecordedEvent>>()
        for (const e of page) {
          const group = byStream.get(e.stream)
          if (group === undefined) byStream.set(e.stream, [e])
          else group.push(e)
        }
        for (const [stream, events] of byStream) await appendGroup(stream, events)
        done += page.length
        onProgress(done)
      })
    )
  )
  return copied
}

export const compareStores = async (source: EventStoreShape, target: EventStoreShape): Promise<{ events: number; streams: number; mismatches: Array<string> }> => {
  const streams = await streamsOf(source)
  const mismatches: Array<string> = []
  let events = 0
  for (const stream of streams.keys()) {
    const [a, b] = [await digestStream(source, stream), await digestStream(target, stream)]
    events += a.count
    if (a.count !== b.count || a.hash !== b.hash)
      mismatches.push(`${stream}: ${a.count} events here, ${b.count} there${a.count === b.count ? ", with other content" : ""}`)
  }
  return { events, streams: streams.size, mismatches }
}

export const migrate = async (dataDir: string, to: string, onProgress: (total: number) => (done: number) => void): Promise<MigrateResult> =>
  withStore(dataDir, true, (source) =>
    withStore(to, false, async (target) => {
      const head = await run(source.store.headPosition())
      // Positions of the embedded store are 1..n without gaps: the head is the count.
      const copied = await copyStreams(source.store, target.store, onProgress(Number(head?.commit ?? 0n)))
      const check = await compareStores(source.store, target.store)
      return { ...check, copied }
    })
  )

export const migrateCommand = async (dataDir: string, to: string, out: (line: string) => void, json: boolean): Promise<number> => {
  let bar: ReturnType<typeof progress> | undefined
  const started = performance.now()
  const result = await migrate(dataDir, to, (total) => {
    if (json) return () => {}
    bar = progress("migrate", total, out)
    return (done) => bar!.update(done)
  }).finally(() => bar?.stop())
  const seconds = (performance.now() - started) / 1000
  if (json) out(JSON.stringify({ ...result, seconds, ok: result.mismatches.length === 0 }))
  else {
    out(`copied ${result.copied} events (${result.events - result.copied} were already there) in ${seconds.toFixed(1)}s`)
    for (const m of result.mismatches) out(`MISMATCH ${m}`)
    out(
      result.mismatches.length === 0
        ? `verified: ${result.streams} streams, ${result.events} events, the same count and hash on both sides`
        : `${result.mismatches.length} stream(s) differ`
    )
  }
  return result.mismatches.length === 0 ? 0 : 1
}
