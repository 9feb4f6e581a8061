// The EventStore contract against a real EventStoreDB/KurrentDB server, when
// AGENTLOG_TEST_ESDB holds its connection string (e.g. esdb://localhost:2113?tls=false).
// The suite uses its own stream names and starts $all reads at the head, so the server
// may hold other data. Skipped (and the gRPC client not even loaded) otherwise.
import { describe } from "vitest"
import { Effect } from "effect"
import { eventStoreContract } from "./eventStoreContract.ts"

const connectionString = process.env["AGENTLOG_TEST_ESDB"]

describe.skipIf(!connectionString)("real EventStoreDB (AGENTLOG_TEST_ESDB)", () => {
  eventStoreContract("esdb (real server)", async () => {
    const { makeEsdbEventStore } = await import("../../src/eventstore/esdbEventStore.ts")
    const store = await Effect.runPromise(makeEsdbEventStore(connectionString!))
    return { store, close: () => Effect.runPromise(store.close()) }
  })
})
