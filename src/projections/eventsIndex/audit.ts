// GET /v1/events reads the events_index (filters, time range, cursor) and takes the
// bodies from the store, the one place that keeps them: a row names its stream and revision.
import { Effect, Option, Stream } from "effect"
import type { EventStoreShape, ReadError, RecordedEvent } from "../../eventstore/eventStore.ts"
import type { EventIndexRow } from "./queries.ts"

/** The recorded events of index rows, in the rows' order (a row whose event is gone is skipped). */
export const loadIndexedEvents = (
  store: EventStoreShape,
  rows: ReadonlyArray<EventIndexRow>
): Effect.Effect<ReadonlyArray<RecordedEvent>, ReadError> =>
  Effect.forEach(
    rows,
    (r) =>
      store.readStream(r.stream, { fromRevision: BigInt(r.revision), maxCount: 1 }).pipe(
        Stream.runHead,
        Effect.map(Option.filter((e) => e.id === r.eventId)),
        Effect.catchTag("StreamNotFound", () => Effect.succeed(Option.none<RecordedEvent>()))
      ),
    { concurrency: 8 }
  ).pipe(Effect.map((found) => found.flatMap((o) => (Option.isSome(o) ? [o.value] : []))))
