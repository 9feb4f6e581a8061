// agentlog import: an export file into a store. Each stream goes in at the revisions it
// had: what the store already holds of it is compared event by event and skipped, the
// rest is appended with the exact revision expected, so importing twice, or into a store
// that has part of it, adds nothing twice. A stream whose events differ from the store's
// (or that would leave a gap) is refused and named; the other streams go in.
import { createReadStream } from "node:fs"
import { createInterface } from "node:readline"
import { Effect, Stream } from "effect"
import type { EventStoreShape } from "../../eventstore/eventStore.ts"
import { CliError } from "../client.ts"
import { type ExportedEvent, parseLine } from "./ndjson.ts"
import { lastRevision, readStreamFrom, run, sameEvent, withStore } from "./stores.ts"

/** Lines read before they are appended, stream by stream. */
const windowSize = 5_000

export interface ImportResult {
  readonly added: number
  /** Events the store already held, identical. */
  readonly present: number
  /** Refused streams and why. */
  readonly refused: ReadonlyMap<string, string>
}

export const importLines = async (store: EventStoreShape, lines: AsyncIterable<string>): Promise<ImportResult> => {
  const last = new Map<string, bigint>()
  const refused = new Map<string, string>()
  let added = 0
  let present = 0

  const lastOf = async (stream: string) => {
    let r = last.get(stream)
    if (r === undefined) last.set(stream, (r = await lastRevision(store, stream)))
    return r
  }

  /** Consecutive events of one stream, in revision order. */
  const put = async (stream: string, batch: ReadonlyArray<ExportedEvent>) => {
    const storeLast = await lastOf(stream)
    const first = batch[0]!.revision
    if (first > storeLast + 1n) {
      refused.set(stream, `the file goes on from revision ${first}, the store's last is ${storeLast < 0n ? "none" : storeLast}`)
      return
    }
    const overlap = batch.filter((e) => e.revision <= storeLast)
    if (overlap.length > 0) {
      const held = await run(Stream.runCollect(readStreamFrom(store, stream, first, overlap.length)))
      const differs = overlap.findIndex((e, i) => held[i] === undefined || !sameEvent(held[i]!, e))
      if (differs >= 0) {
        const e = overlap[differs]!
        refused.set(stream, `revision ${e.revision}: the store has event ${held[differs]?.id ?? "(none)"}, the file ${e.id}${held[differs]?.id === e.id ? " with other content" : ""}`)
        return
      }
      present += overlap.length
    }
    const rest = batch.slice(overlap.length)
    if (rest.length === 0) return
    const appended = await Effect.runPromise(
      Effect.result(store.append(stream, rest.map((e) => ({ id: e.id, type: e.type, data: e.data, metadata: e.metadata })), storeLast < 0n ? "no_stream" : storeLast))
    )
    if (appended._tag === "Failure") {
      const error = appended.failure
      if (error._tag === "EventStoreUnavailable") throw new CliError(error.message)
      refused.set(stream, error.message)
      return
    }
    last.set(stream, appended.success.nextRevision)
    added += rest.length
  }

  // The file is in the source's global order, where sessions interleave: appending as it
  // comes would be an append (a synchronous commit) per event or two. A window of lines is
  // appended stream by stream instead, each stream's events in their order.
  let window: Array<ExportedEvent> = []
  const flush = async () => {
    const byStream = new Map<string, Array<ExportedEvent>>()
    for (const e of window) {
      const group = byStream.get(e.stream)
      if (group === undefined) byStream.set(e.stream, [e])
      else group.push(e)
    }
    window = []
    for (const [stream, events] of byStream) if (!refused.has(stream)) await put(stream, events)
  }
  /** The last revision the file gave for each stream: a stream's lines must follow on. */
  const inFile = new Map<string, bigint>()
  let n = 0
  for await (const line of lines) {
    n++
    if (line.trim() === "") continue
    const e = parseLine(line)
    if (typeof e === "string") throw new CliError(`line ${n}: ${e}`)
    const before = inFile.get(e.stream)
    inFile.set(e.stream, e.revision)
    if (before !== undefined && e.revision !== before + 1n && !refused.has(e.stream)) {
      await flush()
      refused.set(e.stream, `line ${n}: revision ${e.revision} follows revision ${before} in the file`)
    }
    if (refused.has(e.stream)) continue
    window.push(e)
    if (window.length >= windowSize) await flush()
  }
  await flush()
  return { added, present, refused }
}

export const fileLines = (file: string): AsyncIterable<string> =>
  createInterface({ input: file === "-" ? process.stdin : createReadStream(file), crlfDelay: Infinity })

export const importCommand = async (file: string, to: string, out: (line: string) => void, json: boolean): Promise<number> => {
  const result = await withStore(to, false, ({ store }) => importLines(store, fileLines(file)))
  const refused = [...result.refused].map(([stream, reason]) => ({ stream, reason }))
  if (json) out(JSON.stringify({ added: result.added, alreadyPresent: result.present, refused }))
  else {
    out(`imported ${result.added} events; ${result.present} were already there`)
    for (const r of refused) out(`refused ${r.stream}: ${r.reason}`)
  }
  return refused.length > 0 ? 1 : 0
}
