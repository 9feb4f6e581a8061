// 2. Projection lag: from the append's commit to the sessions and transcript read models
// showing the event, with 50 sessions streaming Claude messages at once (baseline: one
// session streaming at the same per-session rate, same run).
//
// In process, with the real parts the service wires together: the embedded store, the
// write side (SessionCommands: decider, schema checks, expected revisions), the
// projections following the store, and the read models. Each session records a realistic
// Claude message (1–4 KB) every `intervalMs` on average, as the supervisor would. The clock
// starts when the write side calls the store's append (so it includes the append itself,
// with its fsync) and stops when a read-your-writes wait (the one HTTP reads use for
// minPosition) has resolved AND the session's row and its transcript both show the event.
import { mkdirSync, rmSync } from "node:fs"
import { join } from "node:path"
import { Effect, Exit, Logger, Scope } from "effect"
import { makeSessionCommands } from "../src/commands/sessionCommands.ts"
import type { EventStoreShape } from "../src/eventstore/eventStore.ts"
import { makeSqliteEventStore } from "../src/eventstore/sqliteEventStore.ts"
import { makeProjections } from "../src/projections/projectionsService.ts"
import { openReadDb } from "../src/projections/readDb.ts"
import { makeReadModelQueries } from "../src/projections/readModels.ts"
import { streamMessages, type MessageContext } from "./messages.ts"
import { Rng } from "./rng.ts"
import { fmt, percentile, type Row } from "./table.ts"

export interface LagOptions {
  readonly dir: string
  readonly seed: number
  readonly sessions: number
  readonly durationMs: number
  readonly baselineDurationMs: number
  /** Mean time between two messages of one session. */
  readonly intervalMs: number
  readonly log: (line: string) => void
}

interface LagResult {
  readonly lags: Array<number>
  readonly events: number
  readonly ms: number
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)))

const measure = async (dir: string, seed: number, sessions: number, durationMs: number, intervalMs: number): Promise<LagResult> => {
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const inner = await Effect.runPromise(makeSqliteEventStore(dir))
  // When each append was issued, by the position it got. (Not when it returned: the store
  // wakes its subscribers inside the append, and the projections often finish before the
  // append's caller resumes, so that clock would leave out the very work it measures.)
  const issuedAt = new Map<bigint, number>()
  const store: EventStoreShape = {
    ...inner,
    append: (stream, events, expected) =>
      Effect.suspend(() => {
        const t = performance.now()
        return inner.append(stream, events, expected).pipe(Effect.tap((r) => Effect.sync(() => issuedAt.set(r.position.commit, t))))
      })
  }
  const db = openReadDb(dir)
  const scope = await Effect.runPromise(Scope.make())
  // The projections' own log lines ("building from zero") would interleave with the table.
  const projections = await Effect.runPromise(Scope.provide(scope)(makeProjections(store, db)).pipe(Effect.provide(Logger.layer([]))))
  const commands = makeSessionCommands(store)
  const reads = makeReadModelQueries(db)
  const transcriptRevision = db.prepare(
    "SELECT max(revision) AS r, max(coalesce(result_revision, -1)) AS rr FROM transcript WHERE session_id = ?"
  )
  const shows = (sessionId: string, revision: number): boolean => {
    const s = reads.getSession(sessionId)
    if (s === null || s.lastRevision < revision) return false
    const t = transcriptRevision.get(sessionId) as { r: number | null; rr: number | null }
    return Math.max(t.r ?? -1, t.rr ?? -1) >= revision
  }

  const rng = new Rng(seed)
  const lags: Array<number> = []
  let events = 0
  const ids = Array.from({ length: sessions }, () => ({ sessionId: rng.uuid(), runId: rng.uuid(), claude: { claudeSessionId: rng.uuid() } as MessageContext }))
  for (const s of ids) {
    const ctx = { correlationId: s.runId, source: "supervisor" as const }
    await Effect.runPromise(commands.handle({ kind: "LaunchSession", sessionId: s.sessionId, runId: s.runId, query: "Benchmark the projections", options: {} }, { ...ctx, source: "api" }))
    await Effect.runPromise(commands.handle({ kind: "StartRun", sessionId: s.sessionId, runId: s.runId, supervisorId: "bench" }, ctx))
  }
  const started = performance.now()
  const deadline = started + durationMs
  await streamMessages(ids, seed, started, deadline, intervalMs, async (s, _i, message) => {
    const outcome = await Effect.runPromise(
      commands.handle({ kind: "RecordClaudeMessage", sessionId: s.sessionId, runId: s.runId, message }, { correlationId: s.runId, source: "claude" })
    )
    events += outcome.events.length
    const position = outcome.position!
    const t0 = issuedAt.get(position.commit)!
    issuedAt.delete(position.commit)
    const revision = Number(outcome.revision)
    if (!(await Effect.runPromise(projections.waitForPosition(position, 5_000)))) throw new Error("projections did not catch up in 5 s")
    while (!shows(s.sessionId, revision)) await sleep(1)
    lags.push(performance.now() - t0)
  })
  const ms = performance.now() - started
  await Effect.runPromise(Scope.close(scope, Exit.void))
  db.close()
  await Effect.runPromise(inner.close())
  rmSync(dir, { recursive: true, force: true })
  return { lags, events, ms }
}

export const runLag = async (o: LagOptions): Promise<Array<Row>> => {
  const one = await measure(join(o.dir, "lag-1"), o.seed, 1, o.baselineDurationMs, o.intervalMs)
  o.log(`lag: 1 session, ${one.lags.length} messages: p50 ${fmt.ms(percentile(one.lags, 50))} p99 ${fmt.ms(percentile(one.lags, 99))}`)
  const many = await measure(join(o.dir, "lag-n"), o.seed + 1, o.sessions, o.durationMs, o.intervalMs)
  const rate = (many.events / many.ms) * 1000
  o.log(
    `lag: ${o.sessions} sessions, ${many.lags.length} messages (${fmt.rate(rate)} appended): ` +
      `p50 ${fmt.ms(percentile(many.lags, 50))} p99 ${fmt.ms(percentile(many.lags, 99))} max ${fmt.ms(Math.max(...many.lags))}`
  )
  const p99 = percentile(many.lags, 99)
  return [
    {
      item: 2,
      what: `append call -> read models show it, p50, ${o.sessions} sessions streaming (${fmt.rate(rate)})`,
      figure: fmt.ms(percentile(many.lags, 50)),
      baseline: `1 session ${fmt.ms(percentile(one.lags, 50))}`,
      ratio: fmt.ratio(percentile(many.lags, 50) / percentile(one.lags, 50))
    },
    {
      item: 2,
      what: `append call -> read models show it, p99, ${o.sessions} sessions streaming`,
      figure: fmt.ms(p99),
      baseline: `1 session ${fmt.ms(percentile(one.lags, 99))}`,
      ratio: fmt.ratio(p99 / percentile(one.lags, 99)),
      goal: "< 20 ms",
      pass: p99 < 20
    }
  ]
}
