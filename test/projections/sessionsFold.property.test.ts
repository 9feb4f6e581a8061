// One state machine: random command sequences go through the real write side (decider and
// store), the projections run over them in random batch sizes, across a restart of the
// read side (a second connection that has to take each session's state from its row), and
// through batches rolled back by a failing handler; for every session the sessions read
// model must then be exactly fold(events) as the domain folds them.
import { Stream } from "effect"
import fc from "fast-check"
import type { DatabaseSync } from "node:sqlite"
import { describe, expect, it } from "vitest"
import type { SessionCommand } from "../../src/domain/sessionDecider.ts"
import { decodeStored } from "../../src/domain/storedEvents.ts"
import { decodeSession, fold, type Session } from "../../src/domain/sessionState.ts"
import type { SessionEvent } from "../../src/domain/sessionEvents.ts"
import type { EventStoreShape } from "../../src/eventstore/eventStore.ts"
import { allProjections } from "../../src/projections/allProjections.ts"
import type { Projection } from "../../src/projections/projection.ts"
import { prepareProjections, runSubscription } from "../../src/projections/projectionRunner.ts"
import { assistantText, resultMessage, systemInit } from "../support/domainFixtures.ts"
import { newId, openReadDb, openStore, queries, run, tempDir, Writer } from "./projectionsFixtures.ts"

type Step =
  | { readonly kind: "launch" | "fork"; readonly title: string | null; readonly model: string | null }
  | { readonly kind: "start" | "interrupt" | "abandon" | "archive" | "unarchive" | "init" | "text" }
  | { readonly kind: "result"; readonly cost: number; readonly input: number; readonly output: number; readonly cacheRead: number; readonly turns: number }
  | { readonly kind: "ask" | "decide"; readonly allow: boolean }
  | { readonly kind: "finish"; readonly how: "completed" | "failed" | "interrupted" }
  | { readonly kind: "continue"; readonly model: string | null }
  | { readonly kind: "rename"; readonly title: string }
  | { readonly kind: "draft" | "edit"; readonly title: string | null; readonly model: string | null }
  | { readonly kind: "launchDraft" | "discard" | "restore" }

const text = fc.string({ minLength: 1, maxLength: 8 })
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constantFrom("launch" as const, "fork" as const), title: fc.option(text), model: fc.option(fc.constantFrom("opus", "sonnet")) }),
  { arbitrary: fc.record({ kind: fc.constantFrom("start" as const, "init" as const, "text" as const) }), weight: 4 },
  fc.record({ kind: fc.constantFrom("interrupt" as const, "abandon" as const, "archive" as const, "unarchive" as const) }),
  fc.record({
    kind: fc.constant("result" as const),
    cost: fc.double({ min: 0, max: 5, noNaN: true }),
    input: fc.nat(5000),
    output: fc.nat(5000),
    cacheRead: fc.nat(100),
    turns: fc.nat(9)
  }),
  { arbitrary: fc.record({ kind: fc.constantFrom("ask" as const, "decide" as const), allow: fc.boolean() }), weight: 2 },
  fc.record({ kind: fc.constant("finish" as const), how: fc.constantFrom("completed" as const, "failed" as const, "interrupted" as const) }),
  fc.record({ kind: fc.constant("continue" as const), model: fc.option(fc.constantFrom("opus", "haiku")) }),
  fc.record({ kind: fc.constant("rename" as const), title: text }),
  fc.record({ kind: fc.constantFrom("draft" as const, "edit" as const), title: fc.option(text), model: fc.option(fc.constantFrom("opus", "sonnet")) }),
  fc.record({ kind: fc.constantFrom("launchDraft" as const, "discard" as const, "restore" as const) })
)
const scenario = fc.record({
  steps: fc.array(fc.record({ session: fc.nat(2), step }), { minLength: 20, maxLength: 80 }),
  split: fc.nat(100),
  batch: fc.integer({ min: 1, max: 7 }),
  failEvery: fc.integer({ min: 2, max: 9 })
})

const optionsOf = (st: { readonly title: string | null; readonly model: string | null }) => ({
  ...(st.title !== null ? { title: st.title } : {}),
  ...(st.model !== null ? { model: st.model } : {})
})

const launchOf = (sessionId: string, st: Extract<Step, { kind: "launch" | "fork" }>, parent: Session | null): SessionCommand => {
  const options = optionsOf(st)
  if (st.kind === "fork" && parent?.claudeSessionId !== undefined)
    return { kind: "ForkSession", sessionId, runId: newId(), parentSessionId: parent.sessionId, parentClaudeSessionId: parent.claudeSessionId, query: "fork", options }
  return { kind: "LaunchSession", sessionId, runId: newId(), query: `q ${sessionId.slice(0, 4)}`, options }
}

/** The command a step means for a session in its current state (null: nothing to try). */
const commandOf = (sessionId: string, s: Session | null, st: Step, parent: Session | null): SessionCommand | null => {
  // A session that does not exist yet is launched (or forked) by whatever step comes.
  if (s === null) {
    if (st.kind === "draft") return { kind: "CreateDraft", sessionId, query: "", options: optionsOf(st) }
    const how = st.kind === "launch" || st.kind === "fork" ? st : { kind: "launch" as const, title: null, model: null }
    return launchOf(sessionId, how, parent)
  }
  const runId = s.runId
  switch (st.kind) {
    case "launch":
    case "fork":
      return launchOf(sessionId, st, parent)
    case "start":
      return { kind: "StartRun", sessionId, runId, supervisorId: "prop" }
    case "init":
      return { kind: "RecordClaudeMessage", sessionId, runId, message: systemInit(`claude-${sessionId.slice(0, 6)}`) }
    case "text":
      return { kind: "RecordClaudeMessage", sessionId, runId, message: assistantText(`claude-${sessionId.slice(0, 6)}`) }
    case "result": {
      const usage = { input_tokens: st.input, output_tokens: st.output, cache_read_input_tokens: st.cacheRead }
      const total = s.lastTotalCostUsd + st.cost
      return { kind: "RecordClaudeMessage", sessionId, runId, message: resultMessage(`claude-${sessionId.slice(0, 6)}`, total, { usage, num_turns: st.turns }) }
    }
    case "ask": {
      const approvalId = newId()
      return { kind: "RequestApproval", sessionId, runId, approvalId, toolUseId: `toolu_${approvalId.slice(0, 6)}`, toolName: "Bash", input: {}, suggestions: [] }
    }
    case "decide": {
      const pending = [...s.pending.values()][0]
      if (pending === undefined) return null
      return { kind: "DecideApproval", sessionId, approvalId: pending.approvalId, decision: st.allow ? "allow" : "deny", decidedBy: "prop" }
    }
    case "finish":
      return {
        kind: "FinishRun",
        sessionId,
        runId,
        outcome:
          st.how === "completed"
            ? { kind: "completed", totalCostUsd: 1, runCostUsd: 1, usage: {}, numTurns: 1, durationMs: 1 }
            : st.how === "failed"
              ? { kind: "failed", error: `failed ${runId.slice(0, 4)}`, exitCode: 1 }
              : { kind: "interrupted" }
      }
    case "continue":
      return { kind: "ContinueSession", sessionId, runId: newId(), query: "again", overrides: st.model !== null ? { model: st.model } : {} }
    case "interrupt":
      return { kind: "RequestInterrupt", sessionId, requestedBy: "prop" }
    case "abandon":
      return { kind: "AbandonRun", sessionId, runId, reason: "gone" }
    case "archive":
      return { kind: "ArchiveSession", sessionId }
    case "unarchive":
      return { kind: "UnarchiveSession", sessionId }
    case "rename":
      return { kind: "RenameSession", sessionId, title: st.title }
    case "draft":
      return { kind: "CreateDraft", sessionId, query: "", options: optionsOf(st) }
    case "edit":
      return { kind: "EditDraft", sessionId, query: `draft ${sessionId.slice(0, 4)}`, options: optionsOf(st) }
    case "launchDraft":
      return { kind: "LaunchDraft", sessionId, runId: newId() }
    case "discard":
      return { kind: "DiscardDraft", sessionId }
    case "restore":
      return { kind: "RestoreDraft", sessionId }
  }
}

/** The row the sessions read model must hold for a folded session. */
const expectedRow = (s: Session) => ({
  sessionId: s.sessionId,
  status: s.status,
  archived: s.archived,
  title: s.title ?? null,
  query: s.query,
  model: s.runOptions.model ?? null,
  cwd: s.runOptions.cwd ?? null,
  options: s.options,
  parentSessionId: s.parentSessionId ?? null,
  forkedAt: s.forkedAt ?? null,
  claudeSessionId: s.claudeSessionId ?? null,
  runId: s.runId,
  runs: s.runs,
  turns: s.totals.turns,
  costUsd: s.totals.costUsd,
  inputTokens: s.totals.tokens.input,
  outputTokens: s.totals.tokens.output,
  cacheReadTokens: s.totals.tokens.cacheRead,
  cacheCreationTokens: s.totals.tokens.cacheCreation,
  pendingApprovals: s.pending.size,
  lastError: s.lastError ?? null
})

/** A projection that fails on some events, so batches are rolled back and run again guarded. */
const flaky = (every: number): Projection => ({
  name: "flaky",
  version: 1,
  tables: ["flaky"],
  schema: "CREATE TABLE flaky (n INTEGER) STRICT;",
  apply: (_db, e) => {
    if (Number(e.position.commit) % every === 0) throw new Error("flaky")
  }
})

const project = (store: EventStoreShape, db: DatabaseSync, projections: ReadonlyArray<Projection>, maxBatch: number) =>
  run(runSubscription(store, prepareProjections(db, projections, { maxBatch }), { untilCaughtUp: true }))

describe("the sessions read model is the domain's fold", () => {
  it("for every session, after any commands, batch sizes, restarts and rolled-back batches", async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ steps, split, batch, failEvery }) => {
        const tmp = tempDir()
        const store = await openStore(tmp.dir)
        const projections = [...allProjections, flaky(failEvery)]
        let db = openReadDb(tmp.dir)
        try {
          const w = new Writer(store)
          const ids = [newId(), newId(), newId()]
          const cut = Math.floor((split / 100) * steps.length)
          for (let i = 0; i < steps.length; i++) {
            if (i === cut) {
              await project(store, db, projections, batch)
              // A restart of the read side: nothing remembered, each state from its row.
              db.close()
              db = openReadDb(tmp.dir)
            }
            const { session, step: st } = steps[i]!
            const sessionId = ids[session]!
            const state = (await run(w.commands.load(sessionId))).state
            const parent = (await run(w.commands.load(ids[(session + 1) % 3]!))).state
            const command = commandOf(sessionId, state, st, parent)
            if (command === null) continue
            // Refusals are part of the walk: they append nothing.
            await run(w.commands.handle(command, { correlationId: "prop", source: "api" })).catch(() => undefined)
          }
          await project(store, db, projections, batch)
          const q = queries(db)
          for (const sessionId of ids) {
            const stored = await run(Stream.runCollect(store.readStream(`session-${sessionId}`))).catch(() => [])
            const events = stored.map((e) => {
              const d = decodeStored(e)
              if (d._tag !== "Decoded") throw new Error(`undecodable ${e.type}`)
              return d.event
            }) as Array<SessionEvent>
            const folded = fold(events)
            const row = q.getSession(sessionId)
            if (folded === null) {
              expect(row).toBeNull()
              continue
            }
            expect(row).toMatchObject(expectedRow(folded))
            expect(row!.lastRevision).toBe(events.length - 1)
            const kept = db.prepare("SELECT state FROM sessions WHERE session_id = ?").get(sessionId) as { state: string }
            expect(decodeSession(kept.state)).toEqual(folded)
          }
        } finally {
          db.close()
          await run(store.close())
          tmp.remove()
        }
      }),
      { numRuns: 20, seed: 1010 }
    )
  })
})
