// 8. Commands do not fold megabytes: the latency of a command on a session of 10,000
// recorded Claude messages (1–4 KB each, bench/messages.ts) against the same command on a
// fresh session, same store, same run, alternating. The write side keeps each session's
// folded state with its revision and reads only what was appended after it, so:
//   - warm: the same write side again (the usual case: the service keeps running);
//   - stale: another writer (a second instance on the same store) appended meanwhile, so
//     the command conflicts once and catches up by reading the events after its revision;
//   - cold: a write side that has never seen the session (the first command after a
//     start) starts from the sessions read model's fold of it (its snapshot) and reads
//     only what came after; goal < 5x;
//   - cold without read models: the same folding the whole stream once; reported, no goal.
import { mkdirSync, rmSync } from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import { makeSessionCommands, type SessionCommandsShape } from "../src/commands/sessionCommands.ts"
import type { EventData } from "../src/eventstore/eventStore.ts"
import { makeSqliteEventStore } from "../src/eventstore/sqliteEventStore.ts"
import { prepareProjections, runSubscription } from "../src/projections/projectionRunner.ts"
import { openReadDb } from "../src/projections/readDb.ts"
import { makeReadModels } from "../src/projections/readModels.ts"
import { sessionsProjection } from "../src/projections/sessions/handler.ts"
import { claudeEvent, claudeMessage, nextKind, type MessageContext, type MessageKind } from "./messages.ts"
import { Rng } from "./rng.ts"
import { fmt, median, type Row } from "./table.ts"

export interface CommandsOptions {
  readonly dir: string
  readonly seed: number
  /** Events in the long session (10,000 at scale 1). */
  readonly longEvents: number
  /** Commands timed per kind and session. */
  readonly repetitions: number
  readonly log: (line: string) => void
}

const ctx = { correlationId: "bench", source: "api" } as const
const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e)

export const runCommandsBench = async (o: CommandsOptions): Promise<Array<Row>> => {
  const dir = join(o.dir, "commands")
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const store = await run(makeSqliteEventStore(dir))
  const readDb = openReadDb(dir)
  try {
    const rng = new Rng(o.seed)
    const writer = makeSessionCommands(store)
    const launch = async () => {
      const sessionId = rng.uuid()
      const runId = rng.uuid()
      await run(writer.handle({ kind: "LaunchSession", sessionId, runId, query: "bench", options: {} }, ctx))
      await run(writer.handle({ kind: "StartRun", sessionId, runId }, ctx))
      return { sessionId, runId }
    }
    const fresh = await launch()
    const long = await launch()
    // The long session's messages go in as Claude's arrive, but in batches of 100 (faster to set up).
    const msgCtx = { claudeSessionId: rng.uuid() } as MessageContext
    let kind: MessageKind | undefined
    let bytes = 0
    const t0 = Date.UTC(2026, 0, 1)
    for (let i = 0; i < o.longEvents; i += 100) {
      const batch: Array<EventData> = []
      for (let j = i; j < Math.min(o.longEvents, i + 100); j++) {
        kind = nextKind(rng, kind)
        const e = claudeEvent(rng, long.runId, claudeMessage(rng, msgCtx, kind, rng.int(1024, 4096)), new Date(t0 + j).toISOString())
        bytes += JSON.stringify(e.data).length
        batch.push(e)
      }
      await run(store.append(`session-${long.sessionId}`, batch, "any"))
    }
    o.log(`commands: long session of ${o.longEvents.toLocaleString("en-US")} events (${fmt.mb(bytes)} of data)`)

    let n = 0
    const rename = (commands: SessionCommandsShape, sessionId: string) => async () => {
      const t = performance.now()
      await run(commands.handle({ kind: "RenameSession", sessionId, title: `title ${n++}` }, ctx))
      return performance.now() - t
    }
    /** Median latency of `f` for each session, alternating, after one untimed round. */
    const timed = async (f: (sessionId: string) => () => Promise<number>) => {
      const out = { long: [] as Array<number>, fresh: [] as Array<number> }
      await f(long.sessionId)()
      await f(fresh.sessionId)()
      for (let i = 0; i < o.repetitions; i++) {
        out.long.push(await f(long.sessionId)())
        out.fresh.push(await f(fresh.sessionId)())
      }
      return { long: median(out.long), fresh: median(out.fresh) }
    }

    // The sessions read model, caught up as the service keeps it.
    await run(runSubscription(store, prepareProjections(readDb, [sessionsProjection], { reset: true }), { untilCaughtUp: true }))
    const { sessionSnapshot } = makeReadModels(readDb)

    const warm = await timed((id) => rename(writer, id))
    const other = makeSessionCommands(store)
    const stale = await timed((id) => async () => {
      await rename(other, id)()
      return rename(writer, id)()
    })
    // The read model has not applied the renames timed above: a cold write side folds those.
    const cold = await timed((id) => rename(makeSessionCommands(store, { snapshot: sessionSnapshot }), id))
    const coldFull = await timed((id) => rename(makeSessionCommands(store), id))
    const rows: Array<Row> = []
    const row = (what: string, m: { long: number; fresh: number }, goal?: number) => {
      const ratio = m.long / m.fresh
      o.log(`commands: ${what}: ${fmt.ms(m.long)} vs ${fmt.ms(m.fresh)} (${fmt.ratio(ratio)})`)
      rows.push({
        item: 8,
        what: `command on a ${o.longEvents.toLocaleString("en-US")}-event session, ${what}`,
        figure: fmt.ms(m.long),
        baseline: `${fmt.ms(m.fresh)} (fresh session)`,
        ratio: fmt.ratio(ratio),
        ...(goal !== undefined ? { goal: `<= ${goal}x`, pass: ratio <= goal } : {})
      })
    }
    row("warm write side", warm, 2)
    row("after another writer appended", stale, 2)
    row("cold write side, from the read model's snapshot", cold, 5)
    row("cold write side without read models (folds it all)", coldFull)
    return rows
  } finally {
    readDb.close()
    await run(store.close())
    rmSync(dir, { recursive: true, force: true })
  }
}
