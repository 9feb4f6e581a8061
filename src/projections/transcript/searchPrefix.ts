// A prefix phrase (`updat*`) as the OR of the words of the index it stands for. FTS5 answers
// a prefix by merging the doclists of every word that starts with it, over the whole index,
// on every query: 19 ms for "updat*" at 5M events, the dearest of the bench's searches.
// Listing those words (fts5vocab walks the same doclists without merging them) costs half
// of that, and the OR of the words is walked only as far as the search window.
import type { DatabaseSync } from "node:sqlite"
import { sql } from "../readDb.ts"
import type { Phrase } from "./searchRank.ts"

/** Past this many words a prefix is left to FTS5: the OR of so many costs more than the merge. */
export const maxPrefixWords = 64

const words = (db: DatabaseSync, prefix: string): Array<string> => {
  // The vocabulary is a view of the index kept per connection (temp), made on first use.
  const list = () =>
    (
      sql(db, `SELECT term FROM temp.transcript_search_words WHERE term >= ?1 AND term <= ?1 || char(1114111) LIMIT ${maxPrefixWords + 1}`).all(prefix) as Array<{ term: string }>
    ).map((r) => r.term)
  try {
    return list()
  } catch {
    db.exec("CREATE VIRTUAL TABLE IF NOT EXISTS temp.transcript_search_words USING fts5vocab(main, transcript_search, row)")
    return list()
  }
}

const quoted = (tokens: ReadonlyArray<string>) => `"${tokens.join(" ").replaceAll('"', '""')}"`

/**
 * The phrases with each prefix one written out as its words; undefined when a prefix
 * stands for no word of the index (nothing can match).
 */
export const expandPrefixes = (db: DatabaseSync, phrases: ReadonlyArray<Phrase>): ReadonlyArray<Phrase> | undefined => {
  const out: Array<Phrase> = []
  for (const p of phrases) {
    if (!p.prefix) {
      out.push(p)
      continue
    }
    const found = words(db, p.tokens.at(-1)!)
    if (found.length === 0) return undefined
    if (found.length > maxPrefixWords) out.push(p)
    else out.push({ ...p, expression: `(${found.map((w) => quoted([...p.tokens.slice(0, -1), w])).join(" OR ")})` })
  }
  return out
}
