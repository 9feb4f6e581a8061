// Chooses the adapter: the embedded store unless an esdb:// connection string is given.
// The EventStoreDB adapter (gRPC client, protobuf) is loaded only when it is asked for:
// importing it costs every start-up ~70 ms and ~20 MB of memory.
import { Effect } from "effect"
import { EventStoreFailure, type EventStoreShape } from "./eventStore.ts"
import { makeSqliteEventStore } from "./sqliteEventStore.ts"

export const openEventStore = (
  eventStore: string,
  dataDir: string
): Effect.Effect<EventStoreShape, EventStoreFailure> =>
  eventStore === "sqlite"
    ? makeSqliteEventStore(dataDir)
    : Effect.tryPromise({
        try: () => import("./esdbEventStore.ts"),
        catch: (e) => new EventStoreFailure({ reason: `cannot load the EventStoreDB adapter: ${e instanceof Error ? e.message : String(e)}` })
      }).pipe(Effect.flatMap((m) => m.makeEsdbEventStore(eventStore)))
