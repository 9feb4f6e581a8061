import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { defaultStoreLimits, type StoreLimits } from "../../src/eventstore/appendInput.ts"
import { makeSqliteEventStore } from "../../src/eventstore/sqliteEventStore.ts"
import { contractLimits, eventStoreContract } from "./eventStoreContract.ts"

const inTempDir = (limits: StoreLimits) => async () => {
  const dir = mkdtempSync(join(tmpdir(), "agentlog-contract-"))
  const store = await Effect.runPromise(makeSqliteEventStore(dir, limits))
  return {
    store,
    close: async () => {
      await Effect.runPromise(store.close())
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

eventStoreContract("sqlite", inTempDir(defaultStoreLimits), { limited: inTempDir(contractLimits) })
