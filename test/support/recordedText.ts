// Everything the service keeps that a secret must never reach, as text to search: its log
// lines, every event in the store, and the read models' files.
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { Effect, Stream } from "effect"
import type { EventStoreShape } from "../../src/eventstore/eventStore.ts"

export const recordedText = async (
  store: EventStoreShape,
  dataDir: string,
  logs: unknown
): Promise<ReadonlyArray<readonly [where: string, text: string]>> => {
  const events = JSON.stringify(
    await Effect.runPromise(store.readAll({ maxCount: 100_000 }).pipe(Stream.runCollect)),
    (_k, v) => (typeof v === "bigint" ? String(v) : v)
  )
  const readDb = ["read.db", "read.db-wal"]
    .filter((f) => existsSync(join(dataDir, f)))
    .map((f) => readFileSync(join(dataDir, f)).toString("latin1"))
    .join("")
  return [
    ["log", JSON.stringify(logs)],
    ["events", events],
    ["read.db", readDb]
  ]
}
