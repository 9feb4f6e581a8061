import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { makeSqliteEventStore } from "../../src/eventstore/sqliteEventStore.ts"
import { eventStoreContract } from "./eventStoreContract.ts"

eventStoreContract("sqlite", async () => {
  const dir = mkdtempSync(join(tmpdir(), "agentlog-contract-"))
  const store = await Effect.runPromise(makeSqliteEventStore(dir))
  return {
    store,
    close: async () => {
      await Effect.runPromise(store.close())
      rmSync(dir, { recursive: true, force: true })
    }
  }
})
