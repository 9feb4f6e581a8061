// A prefix is searched as the OR of the index's words that start with it (searchPrefix.ts),
// or, past maxPrefixWords of them, as FTS5's own prefix query: either way it finds exactly
// what FTS5's prefix query finds.
import { afterAll, beforeAll, expect, it } from "vitest"
import type { DatabaseSync } from "node:sqlite"
import { matchPhrases, transcriptQueries } from "../../src/projections/transcript/queries.ts"
import { expandPrefixes, maxPrefixWords } from "../../src/projections/transcript/searchPrefix.ts"
import { insertEntries, openSearchDb } from "./searchFixtures.ts"

const search = openSearchDb()
const db: DatabaseSync = search.db
const many = maxPrefixWords + 20

beforeAll(() => {
  insertEntries(db, [
    ...Array.from({ length: many }, (_, i) => ({ text: `alpha pre${i} omega` })),
    { text: "Update the config, then updated it: updating" },
    { text: "alpha prefix and ALPHA PRÉ" },
    { text: "upd8 was not an update" },
    { text: "the updat stays" }
  ])
})
afterAll(() => search.close())

const fts5 = (query: string) =>
  (
    db
      .prepare("SELECT t.seq FROM transcript_search JOIN transcript t ON t.rowid = transcript_search.rowid WHERE transcript_search MATCH ? ORDER BY t.seq")
      .all(matchPhrases(query).map((p) => p.expression).join(" ")) as Array<{ seq: number }>
  ).map((r) => r.seq)

it("finds what FTS5's prefix query finds, with few words or many", () => {
  const q = transcriptQueries(db)
  for (const query of ["updat*", "upd*", "pre1*", "pre*", "pré*", '"alpha pre1"*', "alpha pre*", "omega pre2*", "nothing*", "the updat*"]) {
    const expected = fts5(query)
    expect(expected.length > 0 || query.startsWith("nothing"), query).toBe(true)
    expect(q.search({ q: query, limit: 100 }).map((h) => h.seq).sort((a, b) => a - b), query).toEqual(expected)
  }
})

it("writes a prefix of a few words out as their OR, and leaves one of many to FTS5", () => {
  expect(expandPrefixes(db, matchPhrases("updat*"))!.map((p) => p.expression)).toEqual(['("updat" OR "update" OR "updated" OR "updating")'])
  expect(expandPrefixes(db, matchPhrases('"alpha pre1"*'))![0]!.expression).toMatch(/^\("alpha pre1" OR "alpha pre10" OR /)
  expect(expandPrefixes(db, matchPhrases("pre*"))!.map((p) => p.expression)).toEqual(['"pre" *'])
  expect(expandPrefixes(db, matchPhrases("nothing* pre1"))).toBeUndefined()
})
