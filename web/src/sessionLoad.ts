// How a session page joins its reads into one fold without losing or repeating an event.
// A long session (16,000 events are ~40 MB of NDJSON) is drawn from its newest events
// first: the tail, folded onto the session's row from the read model (status, title,
// totals, which the tail alone does not know), then the live stream after it. The events
// before the tail are read in the background and folded apart; the full fold is then the
// fold of those plus every event the page holds since the tail began, so it is exactly
// the fold of the whole stream, whatever arrived live meanwhile.
import type { EventView, Schemas } from "./api.ts"
import { emptyFold, fold, type Folded } from "./fold.ts"

/** How many of the newest events the first read takes: a screen of entries and more. */
export const tailEvents = 150

export interface Loaded {
  /** The events held, in revision order, from `from` (all of them once complete). */
  readonly events: ReadonlyArray<EventView>
  readonly folded: Folded
  /** Every event from revision 0 is folded (the replay, the timeline and the traced figures need it). */
  readonly complete: boolean
  /** The first revision held. */
  readonly from: number
}

export const nothingLoaded: Loaded = { events: [], folded: emptyFold, complete: false, from: 0 }

/** Where the first read starts for a session at `revision` (the read model's; it may lag the stream, then the read takes more). */
export const tailStart = (revision: number): number => Math.max(0, revision + 1 - tailEvents)

/** The first read's events: the whole stream (from 0), or its tail folded onto the session's row. */
export const firstRead = (events: ReadonlyArray<EventView>, from: number, row: Schemas["Session"] | null): Loaded => {
  if (from === 0 || row === null) return { events, folded: fold(emptyFold, events), complete: from === 0, from }
  const seed: Folded = {
    ...emptyFold,
    revision: from - 1,
    status: row.status,
    title: row.title,
    archived: row.archived,
    model: row.model,
    cwd: row.cwd,
    runId: row.runId,
    parentSessionId: row.parentSessionId
  }
  const folded = fold(seed, events)
  // The totals are the row's (the tail holds only some of the results): the full fold replaces them.
  const totals = { costUsd: typeof row.costUsd === "number" ? row.costUsd : 0, inputTokens: row.inputTokens, outputTokens: row.outputTokens, turns: row.turns, runs: row.runs }
  return { events, folded: { ...folded, totals }, complete: false, from }
}

/** Events that arrived (live): those past the last folded revision are kept and folded. */
export const addEvents = <L extends Loaded>(l: L, batch: ReadonlyArray<EventView>): L => {
  const fresh = batch.filter((e) => e.revision > l.folded.revision)
  if (fresh.length === 0) return l
  return { ...l, events: l.events.concat(fresh), folded: fold(l.folded, fresh) }
}

/**
 * The events before the tail (`older`, revisions 0..from-1, in order) and their fold: the
 * whole session, the tail and what came live after it folded on top of them.
 */
export const fillIn = <L extends Loaded>(l: L, older: ReadonlyArray<EventView>, olderFolded: Folded): L => {
  const before = older.filter((e) => e.revision < l.from)
  // A stream's revisions are 0..n without a gap: fewer than `from` means the read was cut short.
  if (l.complete || before.length !== l.from || olderFolded.revision !== l.from - 1) return l
  return { ...l, events: before.concat(l.events), folded: fold(olderFolded, l.events), complete: true, from: 0 }
}
