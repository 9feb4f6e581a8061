// bm25 over the search window without FTS5's bm25(): that function weighs each word by its
// document frequency, which it counts by walking the word's whole doclist on every query
// (for a phrase, with its positions), so a search cost grew with the store (266 ms at 5M
// events). Here each word's frequency is counted over its own newest `window` matches and,
// when it has more, extrapolated from how densely they fall among the newest entries; its
// count in an entry comes from highlight() over the window's entries; the entry's length and
// the index's averages from FTS5's own docsize and averages records. Every step is bounded
// by the window, whatever the size of the store. Same formula as FTS5's (k1 1.2, b 0.75,
// every column weighing 1; lower is better).
import type { DatabaseSync } from "node:sqlite"
import { sql } from "../readDb.ts"

/** One word of the query: its tokens as the index splits them, and whether the last is a prefix. */
export interface Phrase {
  readonly expression: string
  readonly tokens: ReadonlyArray<string>
  readonly prefix: boolean
}

// unicode61 with remove_diacritics 2: letters, numbers and private-use characters make
// tokens; case and diacritics are folded.
const tokenPattern = /[\p{L}\p{N}\p{Co}]+/gu
const asciiToken = /[a-z0-9]+/g
export const tokensOf = (text: string): Array<string> =>
  // eslint-disable-next-line no-control-regex
  /^[\x00-\x7f]*$/.test(text)
    ? (text.toLowerCase().match(asciiToken) ?? [])
    : (text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase().match(tokenPattern) ?? []).map((t) => t.normalize("NFC"))

/** SQLite's varint (as FTS5 writes its records): big-endian 7-bit groups, the ninth byte whole. */
const varints = (b: Uint8Array): Array<number> => {
  const out: Array<number> = []
  let i = 0
  while (i < b.length) {
    let v = 0
    let n = 0
    for (;;) {
      const byte = b[i++]!
      if (n === 8) {
        v = v * 256 + byte
        break
      }
      v = v * 128 + (byte & 0x7f)
      n++
      if ((byte & 0x80) === 0 || i >= b.length) break
    }
    out.push(v)
  }
  return out
}

/**
 * What highlight() puts around a match: two Unicode noncharacters, which no tokenizer keeps
 * and which text Claude or a tool wrote does not hold (a control character can: a tool's
 * output may carry any byte).
 */
export const markOpen = "\uFDD0"
export const markClose = "\uFDD1"
export const highlightColumns = [0, 1, 2, 3]
  .map((c) => `highlight(transcript_search, ${c}, char(${markOpen.codePointAt(0)}), char(${markClose.codePointAt(0)})) AS h${c}`)
  .join(", ")

/** The tokens of each match highlight() marked in an entry's columns. */
const marked = (highlighted: ReadonlyArray<string | null>): Array<Array<string>> => {
  const spans: Array<Array<string>> = []
  for (const text of highlighted) {
    if (text === null) continue
    for (let at = text.indexOf(markOpen); at >= 0; at = text.indexOf(markOpen, at + 1)) {
      const end = text.indexOf(markClose, at)
      spans.push(tokensOf(text.slice(at + 1, end < 0 ? undefined : end)))
    }
  }
  return spans
}

/** How many times the phrase occurs in the marked matches. */
const occurrences = (p: Phrase, spans: ReadonlyArray<ReadonlyArray<string>>): number => {
  let count = 0
  for (const t of spans)
    for (let i = 0; i + p.tokens.length <= t.length; i++)
      if (p.tokens.every((w, j) => (p.prefix && j === p.tokens.length - 1 ? t[i + j]!.startsWith(w) : t[i + j] === w))) count++
  return count
}

export interface WindowRow {
  readonly rowid: number
  /** highlight() of each indexed column. */
  readonly highlighted: ReadonlyArray<string | null>
  /** Its transcript_search_docsize record: the tokens of each column. */
  readonly docsize: Uint8Array | null
}

export const rankWindow = (
  db: DatabaseSync,
  phrases: ReadonlyArray<Phrase>,
  window: ReadonlyArray<WindowRow>,
  size: number,
  /** The window is all of one phrase's newest matches (an unscoped search for one word): its walk need not be made again. */
  windowIsPhrase: boolean
): Map<number, number> => {
  const averages = sql(db, "SELECT block FROM transcript_search_data WHERE id = 1").get() as { block: Uint8Array } | undefined
  const [rows = 0, ...columnTokens] = averages ? varints(averages.block) : []
  const totalRows = Math.max(rows, 1)
  const avgdl = Math.max(columnTokens.reduce((a, b) => a + b, 0) / totalRows, 1)
  // The entries' own rowid index (a max over the FTS table would scan it).
  const newest = (sql(db, "SELECT max(rowid) AS hi FROM transcript").get() as { hi: number | null }).hi ?? 0
  const frequency = (p: Phrase): number => {
    const w = windowIsPhrase
      ? { n: window.length, lo: window.reduce((lo, r) => Math.min(lo, r.rowid), Number.MAX_SAFE_INTEGER) }
      : (sql(db, `SELECT count(*) AS n, min(rowid) AS lo FROM (SELECT rowid FROM transcript_search WHERE transcript_search MATCH ? ORDER BY rowid DESC LIMIT ${size})`).get(
          p.expression
        ) as { n: number; lo: number | null })
    if (w.n < size || w.lo === null) return w.n
    return Math.min(totalRows, (w.n * totalRows) / Math.max(newest - w.lo + 1, w.n))
  }
  const idf = phrases.map((p) => {
    const n = frequency(p)
    return Math.max(Math.log((totalRows - n + 0.5) / (n + 0.5)), 1e-6)
  })
  const k1 = 1.2
  const b = 0.75
  const ranks = new Map<number, number>()
  for (const r of window) {
    const dl = r.docsize ? varints(r.docsize).reduce((a, c) => a + c, 0) : avgdl
    const spans = marked(r.highlighted)
    let score = 0
    phrases.forEach((p, i) => {
      const tf = occurrences(p, spans)
      score += (idf[i]! * (tf * (k1 + 1))) / (tf + k1 * (1 - b + (b * dl) / avgdl))
    })
    ranks.set(r.rowid, -score)
  }
  return ranks
}
