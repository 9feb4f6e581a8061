// Search ranks the newest `searchWindow` matching entries, so a common word over millions of
// entries costs what a rare one does; inside one session the window is that session's.
import { afterAll, beforeAll, expect, it } from "vitest"
import type { DatabaseSync } from "node:sqlite"
import { searchWindow, transcriptQueries } from "../../src/projections/transcript/queries.ts"
import { insertEntries, openSearchDb, type SearchEntry } from "./searchFixtures.ts"

const search = openSearchDb()
const db: DatabaseSync = search.db

beforeAll(() => {
  const entries: Array<SearchEntry> = [
    // Oldest first: a session whose entries are all older than the window of the others.
    { session: "old", text: "common words, and rare here" },
    { session: "old", text: "common again" },
    // Its first entry is the best match of all, but outside every window.
    ...Array.from({ length: searchWindow + 200 }, (_, i) => ({ session: "busy", text: i === 0 ? "common common common common, the oldest of the busy" : `common entry ${i}` })),
    { session: "new", text: "common" }
  ]
  insertEntries(db, entries)
})
afterAll(() => search.close())

it("ranks only the newest matching entries across sessions", () => {
  const q = transcriptQueries(db)
  const hits = q.search({ q: "common", limit: 100 })
  expect(hits).toHaveLength(100)
  expect(new Set(hits.map((h) => h.sessionId))).toEqual(new Set(["busy", "new"]))
  // Nothing from before the window (1 new entry and the busy session's newest searchWindow - 1): not the
  // busy session's first 201 entries, not the old session.
  expect(Math.min(...hits.filter((h) => h.sessionId === "busy").map((h) => h.seq))).toBeGreaterThan(201)
  // A rare word is found wherever it is.
  expect(q.search({ q: "rare" }).map((h) => [h.sessionId, h.seq])).toEqual([["old", 1]])
})

it("inside one session ranks that session's matches, however old", () => {
  const q = transcriptQueries(db)
  expect(q.search({ q: "common", sessionId: "old" }).map((h) => h.seq).sort()).toEqual([1, 2])
  // The session's newest searchWindow (seq 201 on): not its first, best-matching entry.
  const busy = q.search({ q: "common", sessionId: "busy", limit: 100 })
  expect(Math.min(...busy.map((h) => h.seq))).toBe(201)
  expect(q.search({ q: "common", sessionId: "nobody" })).toEqual([])
})
