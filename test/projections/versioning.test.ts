// A data dir written by agentlog at feecd3a (test/fixtures/v1-data-dir: every event at
// schema version 1, from real supervised claude runs) still loads, folds, projects and
// replays now that ClaudeResult is at version 2: all through the one decode-and-upcast step.
import { cpSync } from "node:fs"
import { join } from "node:path"
import { Stream } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { DatabaseSync } from "node:sqlite"
import { makeSessionCommands } from "../../src/commands/sessionCommands.ts"
import { schemaVersions } from "../../src/domain/sessionEvents.ts"
import { decodeStored } from "../../src/domain/storedEvents.ts"
import type { RecordedEvent } from "../../src/eventstore/eventStore.ts"
import type { SqliteEventStore } from "../../src/eventstore/sqliteEventStore.ts"
import { eventView, eventViewJsonWriter } from "../../src/http/eventRoutes.ts"
import golden from "../fixtures/v1-read-models.json" with { type: "json" }
import { ctx, newId, openReadDb, openStore, queries, rebuild, run, tempDir } from "./projectionsFixtures.ts"

const fixture = join(import.meta.dirname, "..", "fixtures", "v1-data-dir")

describe("a data dir written by an agentlog of schema version 1", () => {
  const tmp = tempDir()
  let store: SqliteEventStore
  let db: DatabaseSync
  let events: ReadonlyArray<RecordedEvent>

  beforeAll(async () => {
    cpSync(fixture, tmp.dir, { recursive: true })
    store = await openStore(tmp.dir)
    db = openReadDb(tmp.dir)
    events = await run(Stream.runCollect(store.readAll()))
  })

  afterAll(async () => {
    db.close()
    await run(store.close())
    tmp.remove()
  })

  it("holds version-1 ClaudeResults (the fixture is what it claims to be)", () => {
    const results = events.filter((e) => e.type === "ClaudeResult")
    expect(results.length).toBe(3)
    for (const e of results) {
      expect((e.metadata as { schemaVersion: number }).schemaVersion).toBe(1)
      expect(e.data).not.toHaveProperty("tokens")
    }
    expect(schemaVersions.ClaudeResult).toBe(2)
  })

  it("every stored event decodes, the old ones upcast to the current version", () => {
    for (const e of events) {
      const d = decodeStored(e)
      expect(d._tag, `${e.type} at ${e.revision}`).toBe("Decoded")
    }
    const first = decodeStored(events.find((e) => e.type === "ClaudeResult")!)
    expect(first._tag === "Decoded" && first.event.type === "ClaudeResult" && first.event.data.tokens).toEqual({
      input: 20,
      output: 10,
      cacheRead: 0,
      cacheCreation: 0
    })
  })

  it("projects what feecd3a's read models answered", async () => {
    await rebuild(store, db)
    expect(db.prepare("SELECT * FROM projection_errors").all()).toEqual([])
    const q = queries(db)
    const sessions = q.listSessions({ limit: 500 }).items
    // Fields the sessions read model gained since, as they read for what was recorded before them.
    const since = { forkedAt: null }
    expect([...sessions].sort((a, b) => a.sessionId.localeCompare(b.sessionId))).toEqual(
      [...golden.sessions].map((s) => ({ ...s, ...since })).sort((a, b) => a.sessionId.localeCompare(b.sessionId))
    )
    for (const s of sessions) expect(q.transcript(s.sessionId), s.sessionId).toEqual(golden.transcripts[s.sessionId as keyof typeof golden.transcripts])
    // allowedBy came later: the rest is as it was.
    expect(q.toolCalls({ limit: 500 }).items.map(({ allowedBy: _a, ...was }) => was)).toEqual(golden.toolCalls)
    // What the read model added since (where each approval is recorded) aside, the same answers.
    const approvals = q.approvals({ limit: 500 }).items
    expect(approvals.map(({ stream: _s, requestedRevision: _r, decidedRevision: _d, ...was }) => was)).toEqual(golden.approvals)
    expect(approvals.every((a) => a.stream === `session-${a.sessionId}` && a.requestedRevision !== null)).toBe(true)
  })

  it("the write side folds it and takes commands on it", async () => {
    const commands = makeSessionCommands(store)
    const [completed, failed] = [...golden.sessions].sort((a, b) => (a.status < b.status ? -1 : 1))
    expect(completed!.status).toBe("completed")
    const loaded = await run(commands.load(completed!.sessionId))
    expect(loaded.state).toMatchObject({
      status: "completed",
      runs: 2,
      totals: { costUsd: completed!.costUsd, turns: completed!.turns, tokens: { input: 30, output: 15, cacheRead: 0, cacheCreation: 0 } }
    })
    const out = await run(
      commands.handle({ kind: "ContinueSession", sessionId: failed!.sessionId, runId: newId(), query: "once more", overrides: {} }, ctx)
    )
    expect(out.state).toMatchObject({ status: "queued", runs: 2, lastError: failed!.lastError })
    expect(out.revision).toBe(BigInt(failed!.lastRevision + 1))
  })

  it("replays show the old events at the current version", () => {
    const view = eventView(events.find((e) => e.type === "ClaudeResult")!)
    expect(view.metadata).toMatchObject({ schemaVersion: 2 })
    expect(view.data).toMatchObject({ tokens: { input: 20, output: 10 } })
    const other = events.find((e) => e.type === "RunStarted")!
    expect(eventView(other).data).toBe(other.data)
  })

  it("NDJSON replays, written from the stored text, show them at the current version too", async () => {
    // The events the fixture holds (a test above appended to one of its sessions since).
    for (const stream of new Set(events.map((e) => e.stream))) {
      const views = events.filter((e) => e.stream === stream).map((e) => JSON.stringify(eventView(e)))
      const line = eventViewJsonWriter()
      const lines = (await run(Stream.runCollect(store.readStreamJson(stream, { maxCount: views.length })))).map(line)
      expect(lines, stream).toEqual(views)
    }
    const result = events.find((e) => e.type === "ClaudeResult")!
    const [replayed] = await run(Stream.runCollect(store.readStreamJson(result.stream, { fromRevision: result.revision, maxCount: 1 })))
    expect(JSON.parse(eventViewJsonWriter()(replayed!))).toMatchObject({
      metadata: { schemaVersion: 2 },
      data: { tokens: { input: 20, output: 10 } }
    })
  })
})
