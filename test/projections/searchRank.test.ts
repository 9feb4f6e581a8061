// The search ranks with bm25 computed from the window (searchRank.ts) instead of FTS5's
// bm25(), whose document frequencies cost a walk of every match in the store. Where every
// word has fewer matches than the window, nothing is estimated: the ranks are FTS5's own.
import { afterAll, beforeAll, expect, it } from "vitest"
import type { DatabaseSync } from "node:sqlite"
import { matchPhrases, transcriptQueries } from "../../src/projections/transcript/queries.ts"
import { insertEntries, openSearchDb } from "./searchFixtures.ts"

const search = openSearchDb()
const db: DatabaseSync = search.db

beforeAll(() => {
  const texts: Array<[text: string, tool?: string, input?: string, result?: string]> = [
    ["Read the file, then read the file again"],
    ["Updated the config; updating it twice"],
    ["", "Bash", JSON.stringify({ command: "rm -rf build" }), "removed the build directory"],
    ["Café au lait and the CAFE menu: café, cafe"],
    ["A long entry about nothing much: the weather, the sea, the boats, the file cabinet, and the rest of it"],
    ["config config config"],
    ["the file was read"],
    ["Zürich, zurich and ZURICH"],
    ["read file, and read-file again: read file"],
    ["", "Bash", JSON.stringify({ command: "cat data.bin" }), "raw \u0001the\u0002 file \u0001 bytes \u0002 the file"]
  ]
  insertEntries(db, texts.map(([text, tool, input, result]) => ({ text, tool, input, result })))
})
afterAll(() => search.close())

it("ranks as FTS5's bm25() does when nothing needs estimating: words, phrases, prefixes, case and diacritics", () => {
  const q = transcriptQueries(db)
  for (const query of ["the", "file", '"read file"', "read file", '"read fi"*', '"the file" read', "updat*", "config", "cafe", "café", "zurich", "the build", "rm", "nothing-here"]) {
    const match = matchPhrases(query).map((p) => p.expression).join(" ")
    const fts = db
      .prepare("SELECT t.seq, bm25(transcript_search) AS rank FROM transcript_search JOIN transcript t ON t.rowid = transcript_search.rowid WHERE transcript_search MATCH ? ORDER BY rank, t.seq")
      .all(match) as Array<{ seq: number; rank: number }>
    const ours = q.search({ q: query, limit: 100 })
    expect(ours.map((h) => h.seq), query).toEqual(fts.map((r) => r.seq))
    ours.forEach((h, i) => expect(h.rank, `${query} #${i}`).toBeCloseTo(fts[i]!.rank, 9))
  }
})

it("takes words in double quotes as one phrase: those tokens, next to each other", () => {
  expect(matchPhrases('"read file" the*')).toEqual([
    { expression: '"read file"', tokens: ["read", "file"], prefix: false },
    { expression: '"the" *', tokens: ["the"], prefix: true }
  ])
  const q = transcriptQueries(db)
  const seqs = (query: string) => q.search({ q: query, limit: 100 }).map((h) => h.seq).sort((a, b) => a - b)
  // "Read the file" and "the file was read" hold both words, not the phrase.
  expect(seqs('"read file"')).toEqual([9])
  expect(seqs("read file")).toEqual([1, 7, 9])
  expect(seqs('"read fi"*')).toEqual([9])
  // A quote without its pair is only text.
  expect(seqs('"read file')).toEqual([1, 7, 9])
})
