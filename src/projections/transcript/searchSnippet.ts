// A hit's snippet, made from the highlight() its ranking already read, as FTS5's
// snippet(transcript_search, -1, '[', ']', '…', 12) makes it: the window of 12 tokens of the
// column that holds the most of the query's phrases (then the most matches), centred on
// them or starting at a sentence, with what matched in brackets. Asking FTS5 for it meant
// setting up the MATCH a second time (for a prefix, a merge of every matching word's
// doclist in the store; for a phrase, a walk of its matches again).
import { markClose as close, markOpen as open, type Phrase, tokensOf } from "./searchRank.ts"

const tokenChars = /[\p{L}\p{N}\p{Co}\p{M}]+/gu

interface Token {
  readonly start: number
  readonly end: number
  /** Which highlighted span (a coalesced match) it is in; -1 when none. */
  readonly span: number
}

interface Column {
  readonly text: string
  readonly tokens: ReadonlyArray<Token>
  /** The first token of each sentence (FTS5's rule: after a '.' or ':' and white space). */
  readonly sentences: ReadonlyArray<number>
}

/** The column's text without the marks, its tokens and which span each is in. */
const parse = (highlighted: string): Column => {
  let text = ""
  const marks: Array<[from: number, to: number]> = []
  let at = 0
  for (;;) {
    const o = highlighted.indexOf(open, at)
    if (o < 0) break
    const c = highlighted.indexOf(close, o)
    text += highlighted.slice(at, o)
    const from = text.length
    text += highlighted.slice(o + 1, c < 0 ? undefined : c)
    marks.push([from, text.length])
    at = c < 0 ? highlighted.length : c + 1
  }
  text += highlighted.slice(at)
  const tokens: Array<Token> = []
  const sentences: Array<number> = []
  let m = 0
  for (const t of text.matchAll(tokenChars)) {
    const start = t.index
    const end = start + t[0].length
    while (m < marks.length && marks[m]![1] <= start) m++
    const span = m < marks.length && marks[m]![0] <= start ? m : -1
    if (tokens.length === 0) sentences.push(0)
    else {
      let i = start - 1
      while (i >= 0 && " \t\n\r".includes(text[i]!)) i--
      if (i !== start - 1 && (text[i] === "." || text[i] === ":")) sentences.push(tokens.length)
    }
    tokens.push({ start, end, span })
  }
  return { text, tokens, sentences }
}

interface Instance {
  readonly phrase: number
  readonly column: number
  readonly offset: number
}

/** Each phrase's matches inside the marked spans, in FTS5's order (by column, then position). */
const instancesOf = (phrases: ReadonlyArray<Phrase>, columns: ReadonlyArray<Column | null>): Array<Instance> => {
  const out: Array<Instance> = []
  columns.forEach((c, column) => {
    if (c === null) return
    const words = c.tokens.map((t) => (t.span < 0 ? "" : (tokensOf(c.text.slice(t.start, t.end))[0] ?? "")))
    c.tokens.forEach((t, offset) => {
      if (t.span < 0) return
      phrases.forEach((p, phrase) => {
        const hit = p.tokens.every((w, j) => {
          const token = c.tokens[offset + j]
          if (token === undefined || token.span !== t.span) return false
          return p.prefix && j === p.tokens.length - 1 ? words[offset + j]!.startsWith(w) : words[offset + j] === w
        })
        if (hit) out.push({ phrase, column, offset })
      })
    })
  })
  return out
}

const size = 12
const ellipsis = "…"

export const snippetOf = (phrases: ReadonlyArray<Phrase>, highlighted: ReadonlyArray<string | null>): string => {
  const columns = highlighted.map((h) => (h === null ? null : parse(h)))
  const instances = instancesOf(phrases, columns)
  // FTS5's scoring: 1,000 for each phrase in the window, 1 for each further match; a window
  // that starts a sentence gets 100 more (120 at the column's start).
  const score = (column: number, from: number): { score: number; first: number; last: number } => {
    const seen = new Set<number>()
    let s = 0
    let first = -1
    let last = 0
    for (const i of instances) {
      if (i.column !== column || i.offset < from || i.offset >= from + size) continue
      s += seen.has(i.phrase) ? 1 : 1000
      seen.add(i.phrase)
      if (first < 0) first = i.offset
      last = i.offset + phrases[i.phrase]!.tokens.length
    }
    return { score: s, first, last }
  }
  let best = { column: 0, start: 0, score: 0 }
  for (const i of instances) {
    const tokens = columns[i.column]!.tokens.length
    const centred = score(i.column, i.offset)
    const start = Math.max(0, Math.min(centred.first - Math.trunc((size - (centred.last - centred.first)) / 2), tokens - size))
    if (centred.score > best.score) best = { column: i.column, start, score: centred.score }
    const sentences = columns[i.column]!.sentences
    if (sentences.length > 0 && tokens > size) {
      let j = 0
      while (j < sentences.length - 1 && sentences[j + 1]! <= i.offset) j++
      if (sentences[j]! < i.offset) {
        const s = score(i.column, sentences[j]!).score + (sentences[j] === 0 ? 120 : 100)
        if (s > best.score) best = { column: i.column, start: sentences[j]!, score: s }
      }
    }
  }
  const c = columns[best.column]
  if (c === null || c === undefined) return ""
  const last = Math.min(best.start + size, c.tokens.length) - 1
  let out = best.start > 0 ? ellipsis : ""
  let at = best.start > 0 ? c.tokens[best.start]!.start : 0
  for (let i = best.start; i <= last; i++) {
    const t = c.tokens[i]!
    const opens = t.span >= 0 && (i === best.start || c.tokens[i - 1]!.span !== t.span)
    out += c.text.slice(at, t.start) + (opens ? "[" : "") + c.text.slice(t.start, t.end)
    at = t.end
    if (t.span >= 0 && (i === last || c.tokens[i + 1]!.span !== t.span)) out += "]"
  }
  return out + (last >= c.tokens.length - 1 ? c.text.slice(at) : ellipsis)
}
