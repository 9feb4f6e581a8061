// agentlog verify: checks a stopped embedded store (or a backup of one). The event table
// is read row by row with plain SQL, so that a damaged row is named rather than stopping
// the read: positions 1..n without a gap, each stream's revisions 0, 1, 2, … in global
// order, data and metadata JSON, every event decoding under its schema. Then, when the
// data dir has read models, they are rebuilt from the store in a scratch directory and
// compared table by table with the ones on disk.
import { createHash } from "node:crypto"
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { Effect, References } from "effect"
import { decodeStored } from "../../domain/storedEvents.ts"
import type { EventStoreShape } from "../../eventstore/eventStore.ts"
import { comparePositions } from "../../eventstore/position.ts"
import { allProjections } from "../../projections/allProjections.ts"
import { prepareProjections, runSubscription } from "../../projections/projectionRunner.ts"
import { openReadDb, readDbFile, sqlName as quote } from "../../projections/readDb.ts"
import { CliError } from "../client.ts"
import { run, withStore } from "./stores.ts"

/** Problems of one kind named one by one; past this, only counted. */
const namedPerKind = 10

export interface VerifyReport {
  readonly events: number
  readonly streams: number
  readonly problems: ReadonlyArray<string>
  readonly notes: ReadonlyArray<string>
}

const problemList = () => {
  const problems: Array<string> = []
  const perKind = new Map<string, number>()
  return {
    problems,
    add: (kind: string, text: string) => {
      const n = (perKind.get(kind) ?? 0) + 1
      perKind.set(kind, n)
      if (n <= namedPerKind) problems.push(text)
    },
    finish: () => {
      for (const [kind, n] of perKind) if (n > namedPerKind) problems.push(`… and ${n - namedPerKind} more: ${kind}`)
    }
  }
}

type EventRow = [position: bigint, stream: string, revision: bigint, id: string, type: string, data: string, metadata: string]

const checkEvents = (file: string, add: (kind: string, text: string) => void): { events: number; streams: number } => {
  let db: DatabaseSync
  try {
    db = new DatabaseSync(file, { readOnly: true, readBigInts: true, timeout: 1_000 })
  } catch (e) {
    throw new CliError(`cannot open ${file}: ${e instanceof Error ? e.message : String(e)}`)
  }
  try {
    let integrity: Array<{ integrity_check: string }>
    try {
      integrity = db.prepare("PRAGMA integrity_check").all() as Array<{ integrity_check: string }>
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e)
      throw new CliError(/locked/.test(message) ? `${file} is locked: the service is running on it; verify a copy made with \`agentlog backup FILE\`` : `${file}: ${message}`)
    }
    for (const r of integrity) if (r.integrity_check !== "ok") add("SQLite integrity", `SQLite integrity: ${r.integrity_check}`)
    const read = db.prepare("SELECT position, stream, revision, id, type, data, metadata FROM events ORDER BY position")
    read.setReturnArrays(true)
    let expectedPosition = 1n
    let events = 0
    const nextRevision = new Map<string, bigint>()
    for (const row of read.iterate() as Iterable<EventRow>) {
      const [position, stream, revision, id, type, dataText, metadataText] = row
      events++
      if (position !== expectedPosition) add("position gap", `positions ${expectedPosition}..${position - 1n} are missing (gap before event ${id})`)
      expectedPosition = position + 1n
      const expected = nextRevision.get(stream) ?? 0n
      if (revision !== expected) add("revision gap", `stream ${stream}: revision ${revision} at position ${position} comes after ${expected - 1n} (expected ${expected})`)
      nextRevision.set(stream, revision + 1n)
      let data: unknown
      let metadata: unknown
      try {
        data = JSON.parse(dataText)
        metadata = JSON.parse(metadataText)
      } catch (e) {
        add("not JSON", `event ${id} (${stream}@${revision}): data or metadata is not JSON (${e instanceof Error ? e.message : String(e)})`)
        continue
      }
      const decoded = decodeStored({ type, data, metadata })
      if (decoded._tag === "Undecodable") add("schema", `event ${id} (${stream}@${revision}, ${type}) does not decode: ${decoded.issue}`)
      else if (decoded._tag === "UnknownType") add("unknown type", `event ${id} (${stream}@${revision}) has a type this agentlog does not know: ${type}`)
    }
    return { events, streams: nextRevision.size }
  } finally {
    db.close()
  }
}

/** Every row of a table (but the columns left out), in a canonical order, hashed; and how many. */
export const tableDigest = (db: DatabaseSync, table: string, leaveOut: ReadonlyArray<string> = []): { rows: number; hash: string } => {
  const columns = (db.prepare(`PRAGMA table_info(${quote(table)})`).all() as Array<{ name: string }>).map((c) => c.name).filter((c) => !leaveOut.includes(c))
  const s = db.prepare(`SELECT ${columns.map(quote).join(", ")} FROM ${quote(table)}`)
  s.setReadBigInts(true)
  s.setReturnArrays(true)
  const rows = (s.all() as unknown as Array<Array<unknown>>).map((r) => JSON.stringify(r, (_k, v) => (typeof v === "bigint" ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString("base64") : v)))
  rows.sort()
  const h = createHash("sha256")
  for (const r of rows) h.update(`${r}\n`)
  return { rows: rows.length, hash: h.digest("hex") }
}

const checkReadModels = async (store: EventStoreShape, dataDir: string, add: (kind: string, text: string) => void, note: (text: string) => void) => {
  if (!existsSync(readDbFile(dataDir))) {
    note("no read models here (read.db): only the events were checked")
    return
  }
  const scratch = mkdtempSync(join(tmpdir(), "agentlog-verify-"))
  let onDisk: DatabaseSync | undefined
  let rebuilt: DatabaseSync | undefined
  try {
    onDisk = new DatabaseSync(readDbFile(dataDir), { readOnly: true, timeout: 1_000 })
    rebuilt = openReadDb(scratch)
    // Only rows are compared: the scratch copy needs no query indexes.
    const runner = prepareProjections(rebuilt, allProjections, { reset: true, deferQueryIndexes: true })
    // A handler that fails on an event logs a warning and records it in the scratch
    // read.db: the comparison is what reports it, not a log line amid the report.
    await run(runSubscription(store, runner, { untilCaughtUp: true }).pipe(Effect.provideService(References.MinimumLogLevel, "None")))
    const head = await run(store.headPosition())
    const checkpoints = new Map(
      (onDisk.prepare("SELECT name, commit_position, prepare_position FROM projection_checkpoints").all() as Array<{ name: string; commit_position: number | null; prepare_position: number | null }>).map((r) => [r.name, r])
    )
    for (const p of allProjections) {
      const c = checkpoints.get(p.name)
      const at = c?.commit_position == null ? null : { commit: BigInt(c.commit_position), prepare: BigInt(c.prepare_position ?? c.commit_position) }
      if (head !== null && (at === null || comparePositions(at, head) !== 0)) {
        note(`read model ${p.name} is at position ${at === null ? "none" : at.commit} of ${head.commit}: not compared (the service catches it up when it starts)`)
        continue
      }
      for (const table of p.tables) {
        const a = tableDigest(onDisk, table)
        const b = tableDigest(rebuilt, table)
        if (a.hash !== b.hash) add("read model", `read model ${p.name}: table ${table} differs from a rebuild (${a.rows} rows on disk, ${b.rows} rebuilt); \`npm run rebuild-projections\` rebuilds it`)
      }
    }
  } catch (e) {
    add("read model", `read models ${readDbFile(dataDir)} not compared, no rebuild: ${e instanceof Error ? e.message : String(e)}`)
  } finally {
    onDisk?.close()
    rebuilt?.close()
    rmSync(scratch, { recursive: true, force: true })
  }
}

export const verifyStore = async (spec: string): Promise<VerifyReport> => {
  const path = resolve(spec)
  if (!existsSync(path)) throw new CliError(`no such file or directory: ${path}`)
  const isFile = statSync(path).isFile()
  const file = isFile ? path : join(path, "events.db")
  if (!existsSync(file)) throw new CliError(`no event store at ${file}`)
  const list = problemList()
  const notes: Array<string> = []
  const { events, streams } = checkEvents(file, list.add)
  if (isFile) notes.push("a store file: its read models are not beside it, only the events were checked")
  else await withStore(path, true, ({ store }) => checkReadModels(store, path, list.add, (n) => notes.push(n)))
  list.finish()
  return { events, streams, problems: list.problems, notes }
}

export const verifyCommand = async (spec: string, out: (line: string) => void, json: boolean): Promise<number> => {
  const report = await verifyStore(spec)
  if (json) out(JSON.stringify({ ok: report.problems.length === 0, ...report }))
  else {
    out(`${resolve(spec)}: ${report.events} events in ${report.streams} streams`)
    for (const n of report.notes) out(`note: ${n}`)
    for (const p of report.problems) out(`PROBLEM: ${p}`)
    out(report.problems.length === 0 ? "ok" : `${report.problems.length} problem(s) found`)
  }
  return report.problems.length === 0 ? 0 : 1
}
