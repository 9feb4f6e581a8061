// The EventStore contract against the esdb adapter, through the unmodified
// @eventstore/db-client, over gRPC on a loopback port, against the in-process stand-in
// (test/support/esdbStandIn.ts), twice: as a 21.10+ server (appends via BatchAppend, the
// production path) and as a server without ServerFeatures (appends via Append).
// (esdbReal.contract.test.ts runs the same suite against a real server, when configured.)
import { Effect } from "effect"
import { expect } from "vitest"
import { makeEsdbEventStore } from "../../src/eventstore/esdbEventStore.ts"
import { startEsdbStandIn, type EsdbStandInOptions } from "../support/esdbStandIn.ts"
import { contractLimits, eventStoreContract } from "./eventStoreContract.ts"

// The stand-in has KurrentDB 25.1's limits (16 MiB per event, 256 MiB per append), so the
// contract's 1 MB event needs no raised setting, as on a 25.1 server.
const viaStandIn = (options: EsdbStandInOptions) => async () => {
  const esdb = await startEsdbStandIn(options)
  const store = await Effect.runPromise(makeEsdbEventStore(esdb.connectionString))
  return {
    store,
    outage: async () => {
      await esdb.stop()
      return () => esdb.restart()
    },
    close: async () => {
      await Effect.runPromise(store.close())
      await esdb.stop()
      // The adapter used only what the stand-in implements, and the append path intended.
      expect(esdb.unimplementedCalls).toEqual([])
      const batch = esdb.calls["/event_store.client.streams.Streams/BatchAppend"] ?? 0
      const unary = esdb.calls["/event_store.client.streams.Streams/Append"] ?? 0
      if (options.batchAppend) expect([batch > 0, unary]).toEqual([true, 0])
      else expect([batch, unary > 0]).toEqual([0, true])
    }
  }
}

const limited = { maxAppendEventSize: contractLimits.maxEventBytes, maxAppendSize: contractLimits.maxAppendBytes, idCacheBytes: 4096 }
for (const [name, batchAppend] of [["BatchAppend", true], ["Append, no ServerFeatures", false]] as const) {
  eventStoreContract(`esdb via stand-in (${name})`, viaStandIn({ batchAppend }), {
    outage: viaStandIn({ batchAppend }),
    limited: viaStandIn({ batchAppend, ...limited })
  })
}

