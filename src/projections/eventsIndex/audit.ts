// GET /v1/events reads the events_index (filters, time range, cursor) and takes the
// bodies from the store, the one place that keeps them: a row names its stream and revision.
import { Effect, Option, Stream } from "effect"
import { streamPrefix } from "../../domain/streamName.ts"
import type { EventStoreShape, ReadError, RecordedEvent } from "../../eventstore/eventStore.ts"
import { comparePositions, decodePosition } from "../../eventstore/position.ts"
import type { EventIndexRow } from "./queries.ts"

/** One event of a row, read by its stream and revision. */
const one = (store: EventStoreShape, r: EventIndexRow): Effect.Effect<Option.Option<RecordedEvent>, ReadError> =>
  store.readStream(r.stream, { fromRevision: BigInt(r.revision), maxCount: 1 }).pipe(
    Stream.runHead,
    Effect.map(Option.filter((e) => e.id === r.eventId)),
    Effect.catchTag("StreamNotFound", () => Effect.succeed(Option.none<RecordedEvent>()))
  )

/**
 * The recorded events of index rows, in the rows' order (a row whose event is gone is skipped).
 *
 * A page of the audit is usually a run of neighbouring events of $all (without filters,
 * exactly that): one read of $all from the page's first position, at most twice as many
 * events as the page has rows, finds them (a read per row cost a query, a stream and a
 * fiber each: 100 of them were most of the route's time). Rows it did not reach (a
 * filter that keeps few events) are read one by one.
 */
export const loadIndexedEvents = (
  store: EventStoreShape,
  rows: ReadonlyArray<EventIndexRow>
): Effect.Effect<ReadonlyArray<RecordedEvent>, ReadError> =>
  Effect.gen(function* () {
    if (rows.length === 0) return []
    let first = decodePosition(rows[0]!.position)
    for (const r of rows) {
      const p = decodePosition(r.position)
      if (p !== null && (first === null || comparePositions(p, first) < 0)) first = p
    }
    const found = new Map<string, RecordedEvent>()
    if (first !== null) {
      const wanted = new Set(rows.map((r) => r.eventId))
      const run = yield* Stream.runCollect(
        store.readAll({ fromPosition: first, filter: { streamPrefix: [streamPrefix] }, maxCount: rows.length * 2 })
      )
      for (const e of run) if (wanted.has(e.id)) found.set(e.id, e)
    }
    const missing = rows.filter((r) => !found.has(r.eventId))
    const rest = yield* Effect.forEach(missing, (r) => one(store, r), { concurrency: 8 })
    for (const o of rest) if (Option.isSome(o)) found.set(o.value.id, o.value)
    return rows.flatMap((r) => {
      const e = found.get(r.eventId)
      return e !== undefined && e.stream === r.stream && Number(e.revision) === r.revision ? [e] : []
    })
  })
