// Helpers for the projection tests: a real embedded store in a temp dir, the real write
// side (SessionCommands with the decider), the projections service in a scope the test
// controls, and a byte-exact dump of read.db.
import { randomUUID } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { DatabaseSync } from "node:sqlite"
import { Effect, Exit, Scope } from "effect"
import type { ClaudeMessage } from "../../src/domain/claudeMessages.ts"
import type { SessionCommand } from "../../src/domain/sessionDecider.ts"
import { makeSessionCommands, type CommandOutcome, type SessionCommandsShape } from "../../src/commands/sessionCommands.ts"
import type { EventData, EventStoreShape, Position } from "../../src/eventstore/eventStore.ts"
import { makeSqliteEventStore, type SqliteEventStore } from "../../src/eventstore/sqliteEventStore.ts"
import { allProjections } from "../../src/projections/allProjections.ts"
import type { Projection } from "../../src/projections/projection.ts"
import { prepareProjections, runSubscription, type ProjectionRunner } from "../../src/projections/projectionRunner.ts"
import { makeProjections, type ProjectionsOptions, type ProjectionsShape } from "../../src/projections/projectionsService.ts"
import { openReadDb } from "../../src/projections/readDb.ts"
import { makeReadModelQueries } from "../../src/projections/readModels.ts"
import { streamEvent, systemInit } from "../support/domainFixtures.ts"

export const run = <A, E>(effect: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(effect)

export const tempDir = (): { dir: string; remove: () => void } => {
  const dir = mkdtempSync(join(tmpdir(), "agentlog-projections-"))
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

export const openStore = (dir: string): Promise<SqliteEventStore> => run(makeSqliteEventStore(dir))

/** The projections service in a scope of its own; `stop` closes it. */
export const startProjections = async (
  store: EventStoreShape,
  db: DatabaseSync,
  options?: ProjectionsOptions
): Promise<{ projections: ProjectionsShape; stop: () => Promise<void> }> => {
  const scope = await run(Scope.make())
  const projections = await run(Scope.provide(scope)(makeProjections(store, db, options)))
  return { projections, stop: () => run(Scope.close(scope, Exit.void)) }
}

/** Rebuilds every projection from zero into `db` and returns when caught up. */
export const rebuild = async (
  store: EventStoreShape,
  db: DatabaseSync,
  projections: ReadonlyArray<Projection> = allProjections,
  maxBatch?: number
): Promise<ProjectionRunner> => {
  const runner = prepareProjections(db, projections, { reset: true, ...(maxBatch !== undefined ? { maxBatch } : {}) })
  await run(runSubscription(store, runner, { untilCaughtUp: true }))
  return runner
}

/**
 * Every table of the database, rows ordered by primary key, as one JSON string. A full-text
 * index is compared by what it holds (every term, row, column and offset, through
 * fts5vocab), not by its shadow tables' bytes, whose segments depend on how the index was
 * filled (row by row, or in one bulk build at the end of a rebuild).
 */
export const dump = (db: DatabaseSync): string => {
  const all = db
    .prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .all() as Array<{ name: string; sql: string | null }>
  const fts = all.filter((t) => /USING fts5/i.test(t.sql ?? "")).map((t) => t.name)
  const shadow = new Set(fts.flatMap((f) => ["data", "idx", "docsize", "config", "content"].map((x) => `${f}_${x}`)))
  const tables = all.filter((t) => !shadow.has(t.name))
  const out: Record<string, unknown> = {
    "(indexes and triggers)": db.prepare("SELECT type, name, sql FROM sqlite_schema WHERE type IN ('index', 'trigger') ORDER BY name").all()
  }
  for (const f of fts) {
    db.exec(`CREATE VIRTUAL TABLE IF NOT EXISTS temp."${f}_terms" USING fts5vocab(main, "${f}", instance)`)
    out[`${f} (terms)`] = db.prepare(`SELECT * FROM temp."${f}_terms" ORDER BY term, doc, col, offset`).all()
    db.exec(`DROP TABLE temp."${f}_terms"`)
  }
  for (const { name } of tables) {
    const cols = db.prepare(`PRAGMA table_info("${name}")`).all() as Array<{ name: string; pk: number }>
    const pk = cols.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => `"${c.name}"`)
    const order = pk.length > 0 ? pk.join(", ") : cols.map((c) => `"${c.name}"`).join(", ")
    const s = db.prepare(`SELECT * FROM "${name}" ORDER BY ${order}`)
    s.setReadBigInts(true)
    out[name] = s.all()
  }
  return JSON.stringify(out, (_k, v) => (typeof v === "bigint" ? `${v}n` : v), 1)
}

export const queries = (db: DatabaseSync) => makeReadModelQueries(db)

export { openReadDb }

// ---- the write side ----

export const newId = (): string => randomUUID()

export const ctx = { correlationId: "test", source: "api" as const }

/** Drives sessions through the real SessionCommands; remembers the last position appended. */
export class Writer {
  readonly store: EventStoreShape
  readonly commands: SessionCommandsShape
  last: Position | null = null
  constructor(store: EventStoreShape) {
    this.store = store
    this.commands = makeSessionCommands(store)
  }

  async handle(command: SessionCommand): Promise<CommandOutcome> {
    const outcome = await run(this.commands.handle(command, ctx))
    if (outcome.position !== null) this.last = outcome.position
    return outcome
  }

  async runId(sessionId: string): Promise<string> {
    const { state } = await run(this.commands.load(sessionId))
    if (state === null) throw new Error(`no session ${sessionId}`)
    return state.runId
  }

  async claude(sessionId: string, message: ClaudeMessage): Promise<CommandOutcome> {
    return this.handle({ kind: "RecordClaudeMessage", sessionId, runId: await this.runId(sessionId), message })
  }

  /** Appends raw events (for shapes the decider would never produce). */
  async appendRaw(stream: string, events: ReadonlyArray<Omit<EventData, "id"> & { id?: string }>): Promise<Position> {
    const r = await run(this.store.append(stream, events.map((e) => ({ ...e, id: e.id ?? newId() })), "any"))
    this.last = r.position
    return r.position
  }
}

export const meta = (recordedAt: string, runId?: string) => ({
  ...(runId !== undefined ? { runId } : {}),
  correlationId: "test",
  schemaVersion: 1,
  recordedAt,
  source: "api"
})

// ---- Claude messages shaped like the Agent SDK's ----

type Block = { readonly [k: string]: ClaudeMessage[string] }

export const assistant = (claudeSessionId: string, content: ReadonlyArray<Block>, usage: Block = {}): ClaudeMessage => ({
  type: "assistant",
  session_id: claudeSessionId,
  uuid: newId(),
  parent_tool_use_id: null,
  message: { id: `msg_${newId().slice(0, 8)}`, type: "message", role: "assistant", model: "claude-sonnet-4-5", content: [...content], usage }
})

export const toolResult = (claudeSessionId: string, toolUseId: string, content: ClaudeMessage[string], isError = false): ClaudeMessage => ({
  type: "user",
  session_id: claudeSessionId,
  uuid: newId(),
  parent_tool_use_id: null,
  message: { role: "user", content: [{ type: "tool_result", tool_use_id: toolUseId, content, is_error: isError }] }
})

export const result = (claudeSessionId: string, totalCostUsd: number, usage: Block, text = "done"): ClaudeMessage => ({
  type: "result",
  subtype: "success",
  is_error: false,
  session_id: claudeSessionId,
  uuid: newId(),
  total_cost_usd: totalCostUsd,
  usage,
  num_turns: 2,
  duration_ms: 1500,
  duration_api_ms: 1200,
  result: text,
  permission_denials: []
})

const usage1 = { input_tokens: 100, output_tokens: 50, cache_read_input_tokens: 10, cache_creation_input_tokens: 5 }
const usage2 = { input_tokens: 200, output_tokens: 70, cache_read_input_tokens: 20, cache_creation_input_tokens: 0 }

export interface Story {
  /** Launched, two completed runs (one tool allowed, one denied), archived. */
  readonly a: string
  /** Forked from a, renamed, interrupted. */
  readonly b: string
  /** A pending approval when its run was abandoned. */
  readonly c: string
  /** Failed to start. */
  readonly d: string
  readonly claudeA: string
  readonly claudeB: string
  readonly approvals: { readonly allowed: string; readonly denied: string; readonly abandoned: string }
}

/** A realistic history through the real write side; `step` runs between commands (e.g. to let projections interleave). */
export const tellStory = async (w: Writer, step: () => Promise<void> = async () => {}): Promise<Story> => {
  const a = newId()
  const b = newId()
  const c = newId()
  const d = newId()
  const claudeA = `claude-${newId()}`
  const claudeB = `claude-${newId()}`
  const allowed = newId()
  const denied = newId()
  const abandoned = newId()
  const h = async (command: SessionCommand) => {
    await w.handle(command)
    await step()
  }
  const cl = async (sessionId: string, message: ClaudeMessage) => {
    await w.claude(sessionId, message)
    await step()
  }

  // Session a, run 1: a tool call that needed approval and was allowed.
  await h({ kind: "LaunchSession", sessionId: a, runId: newId(), query: "list the files", options: { model: "claude-sonnet-4-5", cwd: "/work", title: "Files" } })
  await h({ kind: "StartRun", sessionId: a, runId: await w.runId(a), pid: 4242, supervisorId: "sup-1" })
  await cl(a, systemInit(claudeA))
  await cl(a, streamEvent(claudeA))
  await cl(a, assistant(claudeA, [
    { type: "thinking", thinking: "I should run ls.", signature: "sig" },
    { type: "text", text: "Let me look." },
    { type: "tool_use", id: "toolu_a1", name: "Bash", input: { command: "ls" } }
  ]))
  await h({ kind: "RequestApproval", sessionId: a, runId: await w.runId(a), approvalId: allowed, toolUseId: "toolu_a1", toolName: "Bash", input: { command: "ls" }, suggestions: [], expiresAt: "2030-01-01T00:00:00.000Z" })
  await h({ kind: "DecideApproval", sessionId: a, approvalId: allowed, decision: "allow", decidedBy: "user:alice", message: "fine" })
  await cl(a, toolResult(claudeA, "toolu_a1", "a.txt\nb.txt"))
  await cl(a, assistant(claudeA, [{ type: "text", text: "There are two files." }]))
  await cl(a, result(claudeA, 0.05, usage1, "There are two files."))
  await h({ kind: "FinishRun", sessionId: a, runId: await w.runId(a), outcome: { kind: "completed", totalCostUsd: 0.05, runCostUsd: 0.05, usage: usage1, numTurns: 2, durationMs: 1500 } })

  // Session a, run 2: continued with another model; a tool call denied.
  await h({ kind: "ContinueSession", sessionId: a, runId: newId(), query: "read a.txt", overrides: { model: "claude-opus-4" } })
  await h({ kind: "StartRun", sessionId: a, runId: await w.runId(a), resume: claudeA })
  await cl(a, assistant(claudeA, [{ type: "tool_use", id: "toolu_a2", name: "Read", input: { file_path: "/work/a.txt" } }]))
  await h({ kind: "RequestApproval", sessionId: a, runId: await w.runId(a), approvalId: denied, toolUseId: "toolu_a2", toolName: "Read", input: { file_path: "/work/a.txt" }, suggestions: [{ type: "addRules" }] })
  await h({ kind: "DecideApproval", sessionId: a, approvalId: denied, decision: "deny", decidedBy: "user:bob", message: "not that file" })
  await cl(a, toolResult(claudeA, "toolu_a2", [{ type: "text", text: "not that file" }], true))
  await cl(a, result(claudeA, 0.08, usage2, "I was not allowed to read it."))
  await h({ kind: "FinishRun", sessionId: a, runId: await w.runId(a), outcome: { kind: "completed", totalCostUsd: 0.08, runCostUsd: 0.03, usage: usage2, numTurns: 2, durationMs: 1500 } })

  // Session b: forked from a, renamed, interrupted while running.
  await h({ kind: "ForkSession", sessionId: b, runId: newId(), parentSessionId: a, parentClaudeSessionId: claudeA, query: "try again differently", options: { model: "claude-sonnet-4-5" } })
  await h({ kind: "StartRun", sessionId: b, runId: await w.runId(b), resume: claudeA })
  await cl(b, systemInit(claudeB))
  await cl(b, assistant(claudeB, [{ type: "text", text: "Trying again." }]))
  await h({ kind: "RenameSession", sessionId: b, title: "Second try" })
  await h({ kind: "RequestInterrupt", sessionId: b, requestedBy: "user:alice" })
  await h({ kind: "FinishRun", sessionId: b, runId: await w.runId(b), outcome: { kind: "interrupted" } })

  // Session c: abandoned while an approval was pending.
  await h({ kind: "LaunchSession", sessionId: c, runId: newId(), query: "delete everything", options: {} })
  await h({ kind: "StartRun", sessionId: c, runId: await w.runId(c) })
  await cl(c, assistant(`claude-${c}`, [{ type: "tool_use", id: "toolu_c1", name: "Bash", input: { command: "rm -rf /" } }]))
  await h({ kind: "RequestApproval", sessionId: c, runId: await w.runId(c), approvalId: abandoned, toolUseId: "toolu_c1", toolName: "Bash", input: { command: "rm -rf /" }, suggestions: [] })
  await h({ kind: "AbandonRun", sessionId: c, runId: await w.runId(c), reason: "service restarted" })

  // Session d: failed.
  await h({ kind: "LaunchSession", sessionId: d, runId: newId(), query: "do something", options: { cwd: "/nowhere" } })
  await h({ kind: "StartRun", sessionId: d, runId: await w.runId(d) })
  await h({ kind: "FinishRun", sessionId: d, runId: await w.runId(d), outcome: { kind: "failed", error: "spawn claude ENOENT", exitCode: 127 } })

  // Housekeeping.
  await h({ kind: "ArchiveSession", sessionId: a })
  await h({ kind: "ArchiveSession", sessionId: c })
  await h({ kind: "UnarchiveSession", sessionId: c })

  return { a, b, c, d, claudeA, claudeB, approvals: { allowed, denied, abandoned } }
}
