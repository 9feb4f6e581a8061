import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { defaultStoreLimits, type StoreLimits } from "../../src/eventstore/appendInput.ts"
import { makeSqliteEventStore } from "../../src/eventstore/sqliteEventStore.ts"
import { pageLimitsVariable, reapplyPageLimits } from "../../src/sqlitePageLimit.ts"
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

/**
 * The embedded store's outage is a full disk: its file held at the size it has (SQLite's
 * max_page_count through the fault knob, src/sqlitePageLimit.ts), then given room again,
 * while the store stays open. The knob is read when a connection opens, so it is set only
 * while this store opens.
 */
const withFullDisk = async () => {
  const dir = mkdtempSync(join(tmpdir(), "agentlog-contract-"))
  const control = join(dir, "page-limits.json")
  writeFileSync(control, "{}")
  process.env[pageLimitsVariable] = control
  const store = await Effect.runPromise(makeSqliteEventStore(dir, defaultStoreLimits)).finally(() => {
    delete process.env[pageLimitsVariable]
  })
  const limit = (limits: object) => {
    writeFileSync(control, JSON.stringify(limits))
    process.env[pageLimitsVariable] = control
    try {
      reapplyPageLimits()
    } finally {
      delete process.env[pageLimitsVariable]
    }
  }
  return {
    store,
    outage: async () => {
      limit({ "events.db": 0 })
      return async () => limit({})
    },
    close: async () => {
      await Effect.runPromise(store.close())
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

eventStoreContract("sqlite", inTempDir(defaultStoreLimits), { limited: inTempDir(contractLimits), outage: withFullDisk })
