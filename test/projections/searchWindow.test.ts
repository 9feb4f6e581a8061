// Search ranks the newest `searchWindow` matching entries, so a common word over millions of
// entries costs what a rare one does; inside one session the window is that session's.
import { afterAll, beforeAll, expect, it } from "vitest"
import type { DatabaseSync } from "node:sqlite"
import { allProjections } from "../../src/projections/allProjections.ts"
import { prepareProjections } from "../../src/projections/projectionRunner.ts"
import { searchWindow, transcriptQueries } from "../../src/projections/transcript/queries.ts"
import { openReadDb, tempDir } from "./projectionsFixtures.ts"

const tmp = tempDir()
let db: DatabaseSync
const seqs = new Map<string, number>()
const entry = (sessionId: string, text: string) => {
  const seq = (seqs.get(sessionId) ?? 0) + 1
  seqs.set(sessionId, seq)
  db.prepare("INSERT INTO transcript (session_id, seq, revision, kind, text, created_at) VALUES (?, ?, ?, 'assistant_text', ?, '2026-11-30T10:00:00.000Z')").run(sessionId, seq, seq, text)
}

beforeAll(() => {
  db = openReadDb(tmp.dir)
  prepareProjections(db, allProjections)
  db.exec("BEGIN")
  // Oldest first: a session whose entries are all older than the window of the others.
  entry("old", "common words, and rare here")
  entry("old", "common again")
  // Its first entry is the best match of all, but outside every window.
  for (let i = 0; i < searchWindow + 200; i++) entry("busy", i === 0 ? "common common common common, the oldest of the busy" : `common entry ${i}`)
  entry("new", "common")
  db.exec("COMMIT")
})
afterAll(() => {
  db.close()
  tmp.remove()
})

it("ranks only the newest matching entries across sessions", () => {
  const q = transcriptQueries(db)
  const hits = q.search({ q: "common", limit: 100 })
  expect(hits).toHaveLength(100)
  expect(new Set(hits.map((h) => h.sessionId))).toEqual(new Set(["busy", "new"]))
  // Nothing from before the window (1 new entry and the busy session's newest 999): not the
  // busy session's first 201 entries, not the old session.
  expect(Math.min(...hits.filter((h) => h.sessionId === "busy").map((h) => h.seq))).toBeGreaterThan(201)
  // A rare word is found wherever it is.
  expect(q.search({ q: "rare" }).map((h) => [h.sessionId, h.seq])).toEqual([["old", 1]])
})

it("inside one session ranks that session's matches, however old", () => {
  const q = transcriptQueries(db)
  expect(q.search({ q: "common", sessionId: "old" }).map((h) => h.seq).sort()).toEqual([1, 2])
  // The session's newest 1,000 (seq 201 to 1,200): not its first, best-matching entry.
  const busy = q.search({ q: "common", sessionId: "busy", limit: 100 })
  expect(Math.min(...busy.map((h) => h.seq))).toBe(201)
  expect(q.search({ q: "common", sessionId: "nobody" })).toEqual([])
})
