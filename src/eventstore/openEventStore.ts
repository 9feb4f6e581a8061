// Chooses the adapter: the embedded store unless an esdb:// connection string is given.
import type { Effect } from "effect"
import type { EventStoreFailure, EventStoreShape } from "./eventStore.ts"
import { makeEsdbEventStore } from "./esdbEventStore.ts"
import { makeSqliteEventStore } from "./sqliteEventStore.ts"

export type ClosableEventStore = EventStoreShape & { close(): Effect.Effect<void> }

export const openEventStore = (
  eventStore: string,
  dataDir: string
): Effect.Effect<ClosableEventStore, EventStoreFailure> =>
  eventStore === "sqlite" ? makeSqliteEventStore(dataDir) : makeEsdbEventStore(eventStore)
