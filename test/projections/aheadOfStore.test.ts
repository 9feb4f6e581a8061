// Read models that have seen more than the store holds (the store lost its tail: a WAL torn
// by a crash, a restored backup, another server) are rebuilt from the store at start-up,
// instead of keeping the lost events and skipping new ones at the same positions.
import { Stream } from "effect"
import { describe, expect, it } from "vitest"
import { Writer, dump, openReadDb, openStore, rebuild, run, startProjections, tellStory, tempDir } from "./projectionsFixtures.ts"

describe("read models ahead of the store", () => {
  it("are rebuilt from the store, then follow it", async () => {
    const longer = tempDir()
    const shorter = tempDir()
    const scratch = tempDir()
    try {
      // The full history, projected into read.db.
      const full = await openStore(longer.dir)
      const w = new Writer(full)
      await tellStory(w)
      const db = openReadDb(shorter.dir)
      const first = await startProjections(full, db)
      expect(await run(first.projections.waitForPosition(w.last!, 10_000))).toBe(true)
      await first.stop()
      // A store holding only the first half of that history, at the same positions.
      const events = await run(Stream.runCollect(full.readAll()))
      const kept = events.slice(0, Math.floor(events.length / 2))
      const cut = await openStore(shorter.dir)
      for (const e of kept) await run(cut.append(e.stream, [{ id: e.id, type: e.type, data: e.data, metadata: e.metadata }], "any"))
      await run(full.close())

      const again = await startProjections(cut, db)
      // New events after the cut land at positions the old read models had already applied.
      const w2 = new Writer(cut)
      await tellStory(w2)
      expect(await run(again.projections.waitForPosition(w2.last!, 10_000))).toBe(true)
      await again.stop()

      const expected = openReadDb(scratch.dir)
      await rebuild(cut, expected)
      expect(dump(db)).toBe(dump(expected))
      expected.close()
      db.close()
      await run(cut.close())
    } finally {
      longer.remove()
      shorter.remove()
      scratch.remove()
    }
  })
})
