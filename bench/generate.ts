// Seeded bulk data for the reads-at-scale sections: writes `<dir>/events.db` directly, with
// the adapter's own schema (openEventsDb creates it), in big transactions. Sessions look like
// real ones (launch, run, Claude's init, text / tool use / tool result turns, a few
// approvals, a result, how the run ended) but with small payloads, so 5 million events stay
// a few GB. Up to eight sessions run at once, so streams interleave in the global order.
// The read models are then built by the real projections (see scale.ts).
import { DatabaseSync } from "node:sqlite"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { openEventsDb } from "../src/eventstore/sqliteSchema.ts"
import { toolWeights } from "./messages.ts"
import { prose, Rng } from "./rng.ts"

export interface DatasetSpec {
  readonly sessions: number
  readonly events: number
  /** Events of the one long stream replayed over /events. */
  readonly replayEvents: number
  /** Events of the session whose transcript is read. */
  readonly transcriptEvents: number
  readonly seed: number
}

export interface Dataset extends DatasetSpec {
  readonly dir: string
  readonly replaySessionId: string
  readonly transcriptSessionId: string
  /** Up to 100 ordinary sessions among the oldest, for reads that need some. */
  readonly sampleSessionIds: ReadonlyArray<string>
  readonly toolNames: ReadonlyArray<string>
  readonly bytes: number
  readonly ms: number
}

interface Row {
  readonly type: string
  readonly data: unknown
  readonly source: "api" | "supervisor" | "claude"
  readonly correlationId: string
  readonly runId?: string
}

interface Plan {
  readonly sessionId: string
  readonly events: number
}

/** Events of one session, exactly `plan.events` of them (at least 8). */
function* sessionEvents(rng: Rng, plan: Plan): Generator<Row> {
  const { sessionId } = plan
  const runId = rng.uuid()
  const claudeSessionId = rng.uuid()
  const requestId = rng.uuid()
  const archived = rng.float() < 0.1
  const failed = rng.float() < 0.03
  const model = rng.pick(["claude-opus-5-5", "claude-sonnet-5"])
  const cwd = `/work/repo-${rng.int(1, 40)}`
  const query = prose(rng, rng.int(30, 140))
  const title = rng.float() < 0.3 ? prose(rng, rng.int(10, 40)) : undefined
  const options = { model, cwd, allowedTools: ["Read", "Grep", "Glob"], ...(title !== undefined ? { title } : {}) }
  const claude = (type: string, data: Record<string, unknown>): Row => ({ type, data: { runId, ...data }, source: "claude", correlationId: runId, runId })
  const sv = (type: string, data: Record<string, unknown>): Row => ({ type, data: { runId, ...data }, source: "supervisor", correlationId: runId, runId })
  const msg = (type: string, body: Record<string, unknown>) => ({ type, ...body, parent_tool_use_id: null, session_id: claudeSessionId, uuid: rng.uuid() })

  yield { type: "SessionLaunched", data: { sessionId, runId, query, options }, source: "api", correlationId: requestId, runId }
  yield sv("RunStarted", { query, supervisorId: "bench-supervisor" })
  yield claude("ClaudeSessionBound", { claudeSessionId })
  yield claude("ClaudeSystemEvent", { subtype: "init", message: msg("system", { subtype: "init", cwd, model, permissionMode: "default" }) })
  let left = plan.events - 6 - (archived ? 1 : 0)
  let turns = 0
  while (left > 0) {
    const roll = rng.float()
    if (left >= 2 && roll < 0.55) {
      const id = `toolu_${rng.hex(12)}`
      const name = rng.weighted(toolWeights)
      const input = name === "Bash" ? { command: `ls -la ${cwd}/src` } : { file_path: `${cwd}/src/${rng.hex(4)}.ts` }
      turns++
      yield claude("ClaudeAssistantMessage", { message: msg("assistant", { message: { id: `msg_${rng.hex(12)}`, role: "assistant", model, content: [{ type: "tool_use", id, name, input }] } }) })
      const approval = left >= 4 && rng.float() < 0.04
      if (approval) {
        const approvalId = rng.uuid()
        yield sv("ApprovalRequested", { approvalId, toolUseId: id, toolName: name, input, suggestions: [] })
        yield { type: "ApprovalDecided", data: { runId, approvalId, decision: "allow", decidedBy: "bench" }, source: "api", correlationId: rng.uuid(), runId }
        left -= 2
      }
      yield claude("ClaudeUserMessage", { message: msg("user", { message: { role: "user", content: [{ type: "tool_result", tool_use_id: id, content: `ok ${rng.hex(8)}`, is_error: false }] } }) })
      left -= 2
    } else {
      yield claude("ClaudeAssistantMessage", { message: msg("assistant", { message: { id: `msg_${rng.hex(12)}`, role: "assistant", model, content: [{ type: "text", text: prose(rng, rng.int(20, 120)) }] } }) })
      left -= 1
    }
  }
  const usage = { input_tokens: rng.int(100, 9000), output_tokens: rng.int(50, 4000) }
  const cost = rng.int(1, 5000) / 10000
  const durationMs = rng.int(2000, 600000)
  const numTurns = turns + 1
  const subtype = failed ? "error_during_execution" : "success"
  yield claude("ClaudeResult", {
    subtype,
    isError: failed,
    totalCostUsd: cost,
    runCostUsd: cost,
    usage,
    numTurns,
    durationMs,
    permissionDenials: [],
    message: msg("result", { subtype, is_error: failed, num_turns: numTurns, duration_ms: durationMs, total_cost_usd: cost, usage })
  })
  yield failed
    ? sv("RunFailed", { error: "claude exited with code 1", exitCode: 1 })
    : sv("RunCompleted", { totalCostUsd: cost, runCostUsd: cost, usage, numTurns, durationMs })
  if (archived) yield { type: "SessionArchived", data: {}, source: "api", correlationId: rng.uuid() }
}

/** Writes the dataset into `<dir>/events.db` (which must not exist yet). */
export const generateDataset = (dir: string, spec: DatasetSpec, progress?: (events: number) => void): Dataset => {
  const started = performance.now()
  const rng = new Rng(spec.seed)
  const regular = spec.sessions - 2
  const regularEvents = spec.events - spec.replayEvents - spec.transcriptEvents
  if (regular < 2 || regularEvents < regular * 8) throw new Error("dataset too small for its sessions")

  // Event counts per session: an even spread around the mean, paired so the total is exact.
  const base = Math.floor(regularEvents / regular)
  const extra = regularEvents - base * regular
  const spread = Math.max(0, Math.min(base - 8, 35))
  const plans: Array<Plan> = []
  for (let i = 0; i < regular; i++) {
    const d = i % 2 === 0 && i + 1 < regular ? rng.int(-spread, spread) : 0
    const n = base + (i < extra ? 1 : 0)
    plans.push({ sessionId: rng.uuid(), events: n + d })
    if (d !== 0) {
      i++
      plans.push({ sessionId: rng.uuid(), events: base + (i < extra ? 1 : 0) - d })
    }
  }
  const replay: Plan = { sessionId: rng.uuid(), events: spec.replayEvents }
  const transcript: Plan = { sessionId: rng.uuid(), events: spec.transcriptEvents }
  plans.splice(0, 0, replay)
  plans.splice(Math.floor(plans.length / 3), 0, transcript)

  // The adapter creates the file (schema, user_version, WAL); then a raw connection fills it
  // without a journal, and puts it back into WAL mode at the end.
  const { db: adapterDb, file } = openEventsDb(dir)
  adapterDb.close()
  const db = new DatabaseSync(file)
  db.exec("PRAGMA locking_mode = EXCLUSIVE")
  db.exec("PRAGMA journal_mode = DELETE")
  db.exec("PRAGMA journal_mode = OFF")
  db.exec("PRAGMA synchronous = OFF")
  db.exec("PRAGMA cache_size = -1000000")
  db.exec("PRAGMA temp_store = MEMORY")
  // The type index is built once at the end (same index, same schema): cheaper than
  // keeping it up to date row by row.
  db.exec("DROP INDEX events_by_type")
  const insert = db.prepare(
    "INSERT INTO events (position, stream, revision, id, type, data, metadata, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
  )

  const slots = 8
  const active: Array<{ plan: Plan; it: Generator<Row>; revision: number } | undefined> = new Array(slots).fill(undefined)
  let nextPlan = 0
  let position = 0
  const t0 = Date.UTC(2026, 0, 1)
  const step = Math.max(1, Math.floor((30 * 86400_000) / spec.events))
  let bytes = 0
  db.exec("BEGIN")
  for (;;) {
    let slot = rng.int(0, slots - 1)
    let cur = active[slot]
    if (cur === undefined && nextPlan < plans.length) {
      const plan = plans[nextPlan++]!
      cur = active[slot] = { plan, it: sessionEvents(rng, plan), revision: 0 }
    }
    if (cur === undefined) {
      // This slot is done; any other still busy?
      const busy = active.findIndex((a) => a !== undefined)
      if (busy < 0) break
      slot = busy
      cur = active[busy]!
    }
    const r = cur.it.next()
    if (r.done) {
      active[slot] = undefined
      continue
    }
    const row = r.value
    position++
    const created = t0 + position * step
    const recordedAt = new Date(created).toISOString()
    const data = JSON.stringify(row.data)
    const metadata = JSON.stringify({
      ...(row.runId !== undefined ? { runId: row.runId } : {}),
      correlationId: row.correlationId,
      schemaVersion: 1,
      recordedAt,
      source: row.source
    })
    bytes += data.length + metadata.length
    insert.run(position, `session-${cur.plan.sessionId}`, cur.revision++, rng.uuid(), row.type, data, metadata, created)
    if (position % 100_000 === 0) {
      db.exec("COMMIT")
      progress?.(position)
      db.exec("BEGIN")
    }
  }
  db.exec("COMMIT")
  if (position !== spec.events) throw new Error(`generated ${position} events, wanted ${spec.events}`)
  db.exec("CREATE INDEX events_by_type ON events (type, position)")
  db.exec("PRAGMA journal_mode = WAL")
  db.close()

  const dataset: Dataset = {
    ...spec,
    dir,
    replaySessionId: replay.sessionId,
    transcriptSessionId: transcript.sessionId,
    sampleSessionIds: plans.slice(1, 101).filter((p) => p !== transcript).map((p) => p.sessionId),
    toolNames: toolWeights.map(([t]) => t),
    bytes,
    ms: performance.now() - started
  }
  writeFileSync(join(dir, "dataset.json"), JSON.stringify(dataset, null, 2))
  return dataset
}
