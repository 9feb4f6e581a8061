// A hit's snippet is made from the highlight() the ranking read (searchSnippet.ts) rather
// than by a second MATCH for FTS5's snippet(): it must be what snippet() gives, for short
// and long entries, sentences, phrases, prefixes and matches in several columns.
import { afterAll, beforeAll, expect, it } from "vitest"
import type { DatabaseSync } from "node:sqlite"
import { matchPhrases, transcriptQueries } from "../../src/projections/transcript/queries.ts"
import { insertEntries, openSearchDb } from "./searchFixtures.ts"

const search = openSearchDb()
const db: DatabaseSync = search.db

const long = (words: number, from = 0) => Array.from({ length: words }, (_, i) => `w${from + i}`).join(" ")

beforeAll(() => {
  const texts: Array<[text: string | null, tool?: string, input?: string, result?: string]> = [
    ["Read the file"],
    [`${long(30)} the file was read here ${long(30, 30)}`],
    [`${long(8)}. The build failed: ${long(20, 8)} and the build again ${long(5, 28)}`],
    [`First sentence about nothing. Second one: ${long(14)} read the file, read file twice ${long(9, 14)}`],
    [null, "Bash", JSON.stringify({ command: "rm -rf build && make build" }), `${long(20)} build finished ${long(20, 20)}`],
    [null, "Read", JSON.stringify({ file_path: "/src/config.ts" }), "export const config = { updated: true } // updating the config"],
    [`Café in Zürich: ${long(12)} cafe, CAFÉ and zurich ${long(12, 12)}`],
    [`${long(40)} updated ${long(3, 40)} updating ${long(40, 43)}`],
    [`the ${long(11)}`],
    [`${long(11)} the`],
    // A tool's output may hold any byte, control characters too.
    [null, "Bash", JSON.stringify({ command: "cat data.bin" }), "raw \u0001the\u0002 bytes \u0002 of the file \u0001 build"]
  ]
  insertEntries(db, texts.map(([text, tool, input, result]) => ({ text, tool, input, result })))
})
afterAll(() => search.close())

it("gives each hit the snippet FTS5's snippet() gives it", () => {
  const q = transcriptQueries(db)
  let compared = 0
  for (const query of ["the", "file", "read file", '"read file"', "build", "the build", "updat*", "config", "cafe", "zurich", "rm build", "w3", "w1*", "w10 the"]) {
    const match = matchPhrases(query).map((p) => p.expression).join(" ")
    const fts = new Map(
      (
        db
          .prepare("SELECT t.seq, snippet(transcript_search, -1, '[', ']', '…', 12) AS s FROM transcript_search JOIN transcript t ON t.rowid = transcript_search.rowid WHERE transcript_search MATCH ?")
          .all(match) as Array<{ seq: number; s: string }>
      ).map((r) => [r.seq, r.s])
    )
    const hits = q.search({ q: query, limit: 100 })
    expect(hits.length, query).toBe(fts.size)
    for (const h of hits) {
      expect(h.snippet, `${query} #${h.seq}`).toBe(fts.get(h.seq))
      compared++
    }
  }
  expect(compared).toBeGreaterThan(40)
})
