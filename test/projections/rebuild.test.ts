// Exactly-once and determinism: the incremental path, a rebuild from zero (in any batch
// size), a resume after real crashes (SIGKILL mid-transaction) and a version bump all
// leave read.db byte for byte the same.
import { spawnSync } from "node:child_process"
import { DatabaseSync } from "node:sqlite"
import { readdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Effect, Stream } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { SqliteEventStore } from "../../src/eventstore/sqliteEventStore.ts"
import { allProjections } from "../../src/projections/allProjections.ts"
import { prepareProjections, runSubscription } from "../../src/projections/projectionRunner.ts"
import {
  Writer,
  dump,
  openReadDb,
  openStore,
  queries,
  rebuild,
  run,
  startProjections,
  tellStory,
  tempDir,
  type Story
} from "./projectionsFixtures.ts"

const node = process.execPath

/** A second store with the same events at the same positions (the first one is locked by this process). */
const copyStore = async (from: SqliteEventStore, dir: string): Promise<void> => {
  const copy = await openStore(dir)
  await run(
    Stream.runForEach(from.readAll(), (e) =>
      copy.append(e.stream, [{ id: e.id, type: e.type, data: e.data, metadata: e.metadata }], "any").pipe(Effect.asVoid)
    )
  )
  await run(copy.close())
}

/** What a rebuild from zero writes for the store in `dir`. */
const rebuiltDump = async (dir: string): Promise<string> => {
  const scratch = tempDir()
  const s = await openStore(dir)
  try {
    const db = openReadDb(scratch.dir)
    await rebuild(s, db)
    const d = dump(db)
    db.close()
    return d
  } finally {
    await run(s.close())
    scratch.remove()
  }
}
const root = join(import.meta.dirname, "..", "..")

describe("rebuilds and resumes", () => {
  const tmp = tempDir()
  let store: SqliteEventStore
  let incremental: string
  let story: Story
  let eventCount: number

  beforeAll(async () => {
    store = await openStore(tmp.dir)
    const db = openReadDb(tmp.dir)
    const { projections, stop } = await startProjections(store, db)
    const w = new Writer(store)
    // Let the projections apply each command's events before the next: many small transactions.
    const step = async () => {
      expect(await run(projections.waitForPosition(w.last!, 10_000))).toBe(true)
    }
    story = await tellStory(w, step)
    await tellStory(w, step)
    // A stream that is not a session's: not projected, not in the way.
    await w.appendRaw("other-stream", [{ type: "Unrelated", data: {}, metadata: {} }])
    await stop()
    incremental = dump(db)
    eventCount = Number((db.prepare("SELECT count(*) AS n FROM events_index").get() as { n: number }).n)
    db.close()
  })

  afterAll(async () => {
    await run(store.close())
    tmp.remove()
  })

  it("has projected something worth comparing", () => {
    expect(eventCount).toBeGreaterThan(80)
    expect(incremental).toContain(story.a)
    expect(incremental).not.toContain("other-stream")
  })

  it.each([undefined, 1, 7])("a rebuild from zero (batches of %s) is byte-identical to the incremental path", async (maxBatch) => {
    const other = tempDir()
    try {
      const db = openReadDb(other.dir)
      await rebuild(store, db, allProjections, maxBatch)
      expect(dump(db)).toBe(incremental)
      db.close()
    } finally {
      other.remove()
    }
  })

  it("a rebuild over existing read models starts from zero and ends the same", async () => {
    const db = openReadDb(tmp.dir)
    const runner = await rebuild(store, db)
    expect(runner.rebuilt).toEqual(allProjections.map((p) => p.name))
    expect(dump(db)).toBe(incremental)
    db.close()
  })

  it("a bulk rebuild cut off before its indexes are built gets them at the next start", async () => {
    const other = tempDir()
    try {
      let db = openReadDb(other.dir)
      const runner = prepareProjections(db, allProjections, { reset: true, deferQueryIndexes: true })
      await run(runSubscription(store, runner, { untilCaughtUp: true }))
      const triggers = () => db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE type = 'trigger'").get()
      expect(triggers()).toEqual({ n: 0 })
      expect(dump(db)).not.toBe(incremental)
      db.close()
      // The process died here. The service's start prepares the projections as usual:
      db = openReadDb(other.dir)
      expect(prepareProjections(db, allProjections).rebuilt).toEqual([])
      expect(dump(db)).toBe(incremental)
      expect(queries(db).search({ q: "files", limit: 5 }).length).toBeGreaterThan(0)
      db.close()
    } finally {
      other.remove()
    }
  })

  it("a changed projection version rebuilds that projection only", async () => {
    const db = openReadDb(tmp.dir)
    const bumped = allProjections.map((p) => (p.name === "transcript" ? { ...p, version: p.version + 1 } : p))
    const runner = prepareProjections(db, bumped)
    expect(runner.rebuilt).toEqual(["transcript"])
    expect(runner.startFrom()).toBe("start")
    expect(db.prepare("SELECT count(*) AS n FROM transcript").get()).toEqual({ n: 0 })
    expect(runner.checkpoints().find((c) => c.name === "sessions")!.position).not.toBeNull()
    await run(runSubscription(store, runner, { untilCaughtUp: true }))
    // Same rows everywhere (the other projections skipped what they had), only the version differs.
    const version = allProjections.find((p) => p.name === "transcript")!.version
    const expected = incremental.replace(
      new RegExp(`("name": "transcript",\\s*"version": )"${version}n"`),
      (_m, head: string) => `${head}"${version + 1}n"`
    )
    expect(expected).not.toBe(incremental)
    expect(dump(db)).toBe(expected)
    // And back: the old version is a change too.
    expect(prepareProjections(db, allProjections).rebuilt).toEqual(["transcript"])
    db.close()
  })

  it("resumes exactly once after crashes in the middle of transactions", async () => {
    const crashDir = tempDir()
    try {
      await copyStore(store, crashDir.dir)
      const expected = await rebuiltDump(crashDir.dir)

      const crash = (killAfter: number, maxBatch: number) => {
        const r = spawnSync(node, [join(root, "test/projections/crashChild.ts"), crashDir.dir, `${killAfter}`, `${maxBatch}`], {
          cwd: root,
          encoding: "utf8"
        })
        expect(r.signal, r.stderr).toBe("SIGKILL")
        return r.stdout
      }
      const checkpoint = () => {
        const db = openReadDb(crashDir.dir)
        const rows = db.prepare("SELECT name, commit_position AS c FROM projection_checkpoints ORDER BY name").all()
        db.close()
        return rows as Array<{ name: string; c: number | null }>
      }

      crash(20, 8) // two batches of 8 commit, the third dies after 4 of its events
      expect(checkpoint().map((r) => r.c)).toEqual(allProjections.map(() => 16))
      const out = crash(13, 5) // resumes from 16; dies in its third batch
      expect(out).toContain('"commit":"16"')
      expect(checkpoint().map((r) => r.c)).toEqual(allProjections.map(() => 26))

      // Resume for good in this process and compare with the never-crashed read models.
      const resumed = await openStore(crashDir.dir)
      const db = openReadDb(crashDir.dir)
      const runner = prepareProjections(db, allProjections)
      expect(runner.rebuilt).toEqual([])
      await run(runSubscription(resumed, runner, { untilCaughtUp: true }))
      expect(dump(db)).toBe(expected)
      const q = queries(db)
      for (const s of q.listSessions({ limit: 500 }).items) {
        const t = q.transcript(s.sessionId)
        expect(t.map((e) => e.seq)).toEqual(t.map((_, i) => i + 1))
      }
      expect(q.getSession(story.a)!.costUsd).toBeCloseTo(0.08, 10)
      db.close()
      await run(resumed.close())
    } finally {
      crashDir.remove()
    }
  })

  it("npm run rebuild-projections rebuilds read.db from the embedded store", async () => {
    const cliDir = tempDir()
    try {
      await copyStore(store, cliDir.dir)
      const expected = await rebuiltDump(cliDir.dir)
      // A read.db as an older agentlog left it: 4 KiB pages, and a table no projection has.
      const old = new DatabaseSync(join(cliDir.dir, "read.db"))
      old.exec("PRAGMA page_size = 4096; PRAGMA journal_mode = WAL; CREATE TABLE left_behind (x INTEGER)")
      old.close()
      const rebuildCli = (worker = true) =>
        spawnSync(node, [join(root, "src/projections/rebuildCli.ts")], {
          cwd: root,
          encoding: "utf8",
          env: { ...process.env, AGENTLOG_DATA_DIR: cliDir.dir, AGENTLOG_REBUILD_WORKER: worker ? "1" : "0" }
        })
      const leftovers = () => readdirSync(cliDir.dir).filter((f) => f.startsWith("read.db-rebuild"))

      // While something holds the store (a running service), read.db is left alone.
      const holder = await openStore(cliDir.dir)
      const refused = rebuildCli()
      await run(holder.close())
      expect(refused.status).toBe(1)
      expect(refused.stderr).toContain("locked by another process")
      const untouched = new DatabaseSync(join(cliDir.dir, "read.db"))
      expect(untouched.prepare("SELECT name FROM sqlite_schema WHERE name = 'left_behind'").get()).toBeDefined()
      untouched.close()

      // What a rebuild cut off leaves (its files beside read.db) is thrown away by the next.
      writeFileSync(join(cliDir.dir, "read.db-rebuild"), "half a rebuild")
      writeFileSync(join(cliDir.dir, "read.db-rebuild-part"), "half of the worker's share")
      const r = rebuildCli()
      expect(r.status, r.stderr).toBe(0)
      expect(r.stdout).toMatch(/done: \d+ events in [\d.]+s \([\d,]+ events\/s\)/)
      expect(r.stdout).toContain("(two threads:")
      expect(leftovers()).toEqual([])
      const db = openReadDb(cliDir.dir)
      expect(dump(db)).toBe(expected)
      // A new file: the page size new read.db files get, and nothing the old one had.
      expect(db.prepare("PRAGMA page_size").get()).toEqual({ page_size: 16384 })
      expect(db.prepare("SELECT name FROM sqlite_schema WHERE name = 'left_behind'").get()).toBeUndefined()
      expect(db.prepare("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" })
      db.close()

      // On one thread (a one-core machine), the same read.db.
      const single = rebuildCli(false)
      expect(single.status, single.stderr).toBe(0)
      expect(single.stdout).not.toContain("two threads")
      const again = openReadDb(cliDir.dir)
      expect(dump(again)).toBe(expected)
      again.close()

      const missing = spawnSync(node, [join(root, "src/projections/rebuildCli.ts")], {
        cwd: root,
        encoding: "utf8",
        env: { ...process.env, AGENTLOG_DATA_DIR: join(cliDir.dir, "nope") }
      })
      expect(missing.status).toBe(1)
      expect(missing.stderr).toContain("no event store")
    } finally {
      cliDir.remove()
    }
  })
})
