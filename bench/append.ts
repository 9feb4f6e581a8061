// 1. Append throughput of the embedded store against raw node:sqlite, same run, same rows.
//
// The rows are realistic Claude messages of 1–4 KB (bench/messages.ts) spread over 50
// session streams. The adapter gets them as the write side does (objects, exact expected
// revision, one Effect per append); the baseline INSERTs the same rows, already serialised,
// through a prepared statement on a connection opened by the adapter's own openEventsDb
// (same schema, WAL, synchronous=FULL, exclusive lock), one transaction per event or per
// 100 events. The two write their own fresh files in alternating blocks (so a busy disk
// slows both alike); the median of the rounds counts.
import { mkdirSync, rmSync } from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import type { EventData } from "../src/eventstore/eventStore.ts"
import { makeSqliteEventStore } from "../src/eventstore/sqliteEventStore.ts"
import { openEventsDb } from "../src/eventstore/sqliteSchema.ts"
import { claudeEvent, claudeMessage, nextKind, type MessageContext, type MessageKind } from "./messages.ts"
import { Rng } from "./rng.ts"
import { fmt, median, type Row } from "./table.ts"

export interface AppendOptions {
  readonly dir: string
  readonly seed: number
  /** Events appended one per transaction, per round. */
  readonly singleEvents: number
  /** Events appended 100 per transaction, per round. */
  readonly batchEvents: number
  readonly rounds: number
  readonly log: (line: string) => void
}

interface Prepared {
  readonly stream: string
  readonly event: EventData
  readonly id: string
  readonly data: string
  readonly metadata: string
}

const streams = 50

const prepare = (seed: number, count: number): Array<Prepared> => {
  const rng = new Rng(seed)
  const sessions = Array.from({ length: streams }, () => ({
    stream: `session-${rng.uuid()}`,
    runId: rng.uuid(),
    ctx: { claudeSessionId: rng.uuid() } as MessageContext,
    kind: undefined as MessageKind | undefined
  }))
  const out: Array<Prepared> = []
  const t0 = Date.UTC(2026, 0, 1)
  for (let i = 0; i < count; i++) {
    const s = sessions[i % streams]!
    s.kind = nextKind(rng, s.kind)
    const message = claudeMessage(rng, s.ctx, s.kind, rng.int(1024, 4096))
    const event = claudeEvent(rng, s.runId, message, new Date(t0 + i * 250).toISOString())
    out.push({ stream: s.stream, event, id: event.id, data: JSON.stringify(event.data), metadata: JSON.stringify(event.metadata) })
  }
  return out
}

const fresh = (dir: string, name: string): string => {
  const d = join(dir, name)
  rmSync(d, { recursive: true, force: true })
  mkdirSync(d, { recursive: true })
  return d
}

interface Side {
  /** Appends rows[from, to) in transactions of `perTx` rows. */
  readonly write: (from: number, to: number) => Promise<void> | void
  readonly close: () => Promise<void> | void
  ms: number
}

/** Raw node:sqlite: the same rows, prepared INSERTs, one transaction per `perTx` rows. */
const rawSide = (dir: string, rows: ReadonlyArray<Prepared>, perTx: number): Side => {
  const { db } = openEventsDb(dir)
  const insert = db.prepare(
    "INSERT INTO events (stream, revision, id, type, data, metadata, created) VALUES (?, ?, ?, ?, ?, ?, ?)"
  )
  const revisions = new Map<string, number>()
  return {
    ms: 0,
    write: (from, to) => {
      for (let i = from; i < to; i += perTx) {
        db.exec("BEGIN IMMEDIATE")
        const stream = rows[i]!.stream
        const created = Date.now()
        for (let j = i; j < Math.min(to, i + perTx); j++) {
          const r = rows[j]!
          const rev = revisions.get(stream) ?? 0
          revisions.set(stream, rev + 1)
          insert.run(stream, rev, r.id, r.event.type, r.data, r.metadata, created)
        }
        db.exec("COMMIT")
      }
    },
    close: () => db.close()
  }
}

/** The adapter, as the write side calls it: objects in, exact expected revision, one Effect per append. */
const adapterSide = async (dir: string, rows: ReadonlyArray<Prepared>, perTx: number): Promise<Side> => {
  const store = await Effect.runPromise(makeSqliteEventStore(dir))
  const revisions = new Map<string, bigint>()
  return {
    ms: 0,
    write: async (from, to) => {
      for (let i = from; i < to; i += perTx) {
        const stream = rows[i]!.stream
        const events: Array<EventData> = []
        for (let j = i; j < Math.min(to, i + perTx); j++) events.push(rows[j]!.event)
        const expected = revisions.get(stream) ?? "no_stream"
        const r = await Effect.runPromise(store.append(stream, events, expected))
        revisions.set(stream, r.nextRevision)
      }
    },
    close: () => Effect.runPromise(store.close())
  }
}

/**
 * Both sides write the same rows into their own fresh file, interleaved in blocks (raw,
 * adapter, adapter, raw, …), so that whatever else the machine does hits both alike.
 * Returns events/s of each.
 */
const compare = async (dir: string, rows: ReadonlyArray<Prepared>, perTx: number, block: number) => {
  const raw = rawSide(fresh(dir, "raw"), rows, perTx)
  const adapter = await adapterSide(fresh(dir, "adapter"), rows, perTx)
  for (let from = 0, k = 0; from < rows.length; from += block, k++) {
    const to = Math.min(rows.length, from + block)
    for (const side of k % 2 === 0 ? [raw, adapter] : [adapter, raw]) {
      const t = performance.now()
      await side.write(from, to)
      side.ms += performance.now() - t
    }
  }
  await raw.close()
  await adapter.close()
  return { raw: (rows.length / raw.ms) * 1000, adapter: (rows.length / adapter.ms) * 1000 }
}

export const runAppend = async (o: AppendOptions): Promise<Array<Row>> => {
  const single = prepare(o.seed, o.singleEvents)
  // Batches: 100 consecutive events of one stream per append.
  const batchRows = prepare(o.seed + 1, o.batchEvents).map((r, i) => ({ ...r, stream: `session-batch-${Math.floor(i / 100) % streams}` }))
  const avgBytes = single.reduce((n, r) => n + r.data.length + r.metadata.length, 0) / single.length
  o.log(`append: ${single.length} single + ${batchRows.length} batched events, ${Math.round(avgBytes)} bytes of JSON on average, ${o.rounds} rounds`)
  const results = { rawSingle: [] as Array<number>, adSingle: [] as Array<number>, rawBatch: [] as Array<number>, adBatch: [] as Array<number> }
  // Warm-up (JIT, file system) on a slice, not counted.
  await compare(o.dir, single.slice(0, 400), 1, 100)
  await compare(o.dir, batchRows.slice(0, 2000), 100, 500)
  for (let round = 0; round < o.rounds; round++) {
    const s = await compare(o.dir, single, 1, 100)
    const b = await compare(o.dir, batchRows, 100, 1000)
    results.rawSingle.push(s.raw)
    results.adSingle.push(s.adapter)
    results.rawBatch.push(b.raw)
    results.adBatch.push(b.adapter)
    o.log(
      `  round ${round + 1}: single raw ${fmt.rate(s.raw)} adapter ${fmt.rate(s.adapter)}; ` +
        `batch raw ${fmt.rate(b.raw)} adapter ${fmt.rate(b.adapter)}`
    )
  }
  for (const name of ["raw", "adapter"]) rmSync(join(o.dir, name), { recursive: true, force: true })
  const rs = median(results.rawSingle)
  const as = median(results.adSingle)
  const rb = median(results.rawBatch)
  const ab = median(results.adBatch)
  // The ratio is the median of the rounds' own ratios (each round's pair shared the same moment).
  const singleRatio = median(results.adSingle.map((a, i) => a / results.rawSingle[i]!))
  const batchRatio = median(results.adBatch.map((a, i) => a / results.rawBatch[i]!))
  return [
    {
      item: 1,
      what: `append, 1 event/tx (1-4 KB, avg ${(avgBytes / 1024).toFixed(1)} KB)`,
      figure: fmt.rate(as),
      baseline: `raw INSERT ${fmt.rate(rs)}`,
      ratio: fmt.ratio(singleRatio),
      goal: ">= 0.5x raw",
      pass: singleRatio >= 0.5
    },
    {
      item: 1,
      what: "append, 100 events/tx",
      figure: fmt.rate(ab),
      baseline: `raw INSERT ${fmt.rate(rb)}`,
      ratio: fmt.ratio(batchRatio),
      goal: ">= 0.7x raw",
      pass: batchRatio >= 0.7
    }
  ]
}
