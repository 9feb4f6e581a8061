// A Claude message over the store's per-event limit, on the embedded store: the run ends
// failed with the reason, as it does on EventStoreDB (test/integration/esdbService.test.ts),
// because both stores keep KurrentDB 25.1's per-event limit.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { afterEach, expect, it } from "vitest"
import { makeSqliteEventStore } from "../../src/eventstore/sqliteEventStore.ts"
import { startSupervisorHarness, type SupervisorHarness } from "../support/supervisorHarness.ts"

let harness: SupervisorHarness | undefined
let dir: string | undefined
afterEach(async () => {
  const store = harness?.store
  await harness?.close()
  if (store) await Effect.runPromise(store.close())
  if (dir) rmSync(dir, { recursive: true, force: true })
  harness = dir = undefined
})

it("a Claude message over the embedded store's per-event limit fails the run with the reason, recording nothing of it", async () => {
  dir = mkdtempSync(join(tmpdir(), "agentlog-too-large-"))
  const store = await Effect.runPromise(makeSqliteEventStore(dir, { maxEventBytes: 64 * 1024, maxAppendBytes: 256 * 1024 }))
  harness = await startSupervisorHarness([{ text: "x".repeat(100 * 1024) }], {}, { store, dataDir: dir })
  const { sessionId } = await harness.launch("say a lot")
  const s = await harness.waitForStatus(sessionId, ["completed", "failed", "interrupted", "abandoned"])
  expect(s.status).toBe("failed")
  expect(s.lastError).toMatch(/could not record a Claude message: .*exceeds the store's maximum event size of 65536 bytes/)
  const types = await harness.types(sessionId)
  expect(types.at(-1)).toBe("RunFailed")
  expect(types).not.toContain("ClaudeAssistantMessage")
})
