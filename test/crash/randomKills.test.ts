// CRASH_RANDOM=N npm run test:crash — N kills of the real service process (SIGKILL) at
// seeded random moments while sessions stream tool calls, wait for or receive approval
// decisions, are continued, forked and interrupted; after each kill the same cycle and
// checks as the fixed kill points (CrashRun.cycle, chained: the checks run on the killed
// service's data dir, and after the restart every driven session must end; in about a
// third of the kills, as the plan says, one is then continued to completed). Not in CI: vitest.crash.config.ts
// only includes this file when CRASH_RANDOM is set, so an ordinary run neither runs nor
// skips it. CRASH_SEED=<n> replays a run's plan (printed at the start and in each test's
// name); the moments are the plan's, the machine's timing around them is not.
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Turn } from "../support/fakeAnthropic.ts"
import { closeOfflineWorld, openOfflineWorld } from "../support/offlineWorld.ts"
import type { SseReader } from "../http/sseClient.ts"
import { call, checkRuns, checkStore, CrashRun, readAllEvents, sleep } from "./crashHarness.ts"

const count = Number(process.env.CRASH_RANDOM)
if (!Number.isInteger(count) || count < 1) throw new Error(`CRASH_RANDOM must be a positive whole number of kills, not ${process.env.CRASH_RANDOM}`)
const seed = process.env.CRASH_SEED !== undefined ? Number(process.env.CRASH_SEED) >>> 0 : (Date.now() ^ process.pid) >>> 0

/** mulberry32: small, seedable, good enough to pick kill moments. */
const random = (s: number) => () => {
  s = (s + 0x6d2b79f5) >>> 0
  let t = s
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

type Activity =
  | { readonly kind: "tools"; readonly turns: number; readonly perTurn: number }
  | { readonly kind: "approval"; readonly decision: "allow" | "deny" | "none" }
  | { readonly kind: "continue"; readonly pick: number }
  | { readonly kind: "fork"; readonly pick: number }
  | { readonly kind: "interrupt" }

/** Where the kill falls: after this many new events reached the followers, or this long after the first command. */
type Moment = { readonly frames: number } | { readonly afterMs: number }

interface Plan {
  readonly activities: ReadonlyArray<Activity>
  readonly moment: Moment
  /** Also killed this long after the next start-up opened the store. */
  readonly startupKillMs?: number
  /** After the restart, the first session is continued to completed (else its run only has to have ended). */
  readonly continueOne: boolean
}

/** Every plan is drawn before the first kill, so a seed names the same N plans whatever the timing. */
const plans = (n: number, rng: () => number): Array<Plan> => {
  const int = (lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1))
  const activity = (): Activity => {
    const r = rng()
    if (r < 0.3) return { kind: "tools", turns: int(1, 3), perTurn: int(1, 8) }
    if (r < 0.5) return { kind: "approval", decision: (["allow", "deny", "none"] as const)[int(0, 2)]! }
    if (r < 0.7) return { kind: "continue", pick: rng() }
    if (r < 0.8) return { kind: "fork", pick: rng() }
    return { kind: "interrupt" }
  }
  return Array.from({ length: n }, () => {
    const activities = Array.from({ length: int(1, 3) }, activity)
    const moment: Moment = rng() < 0.5 ? { frames: int(0, 30) } : { afterMs: int(0, 1_500) }
    const continueOne = rng() < 0.3
    return { activities, moment, continueOne, ...(rng() < 0.1 ? { startupKillMs: int(0, 60) } : {}) }
  })
}

const describePlan = (p: Plan): string =>
  p.activities
    .map((a) =>
      a.kind === "tools" ? `tools ${a.turns}x${a.perTurn}` : a.kind === "approval" ? `approval (${a.decision})` : a.kind
    )
    .join(" + ") +
  ("frames" in p.moment ? `, after ${p.moment.frames} events` : `, ${p.moment.afterMs} ms in`) +
  (p.startupKillMs !== undefined ? `, again ${p.startupKillMs} ms into the next start-up` : "") +
  (p.continueOne ? ", then continued" : "")

const terminal = new Set(["RunCompleted", "RunFailed", "RunInterrupted", "RunAbandoned"])

let run: CrashRun
let began = 0
/** Sessions that have been continued to completed: what later kills continue and fork. */
const pool: Array<string> = []
const all = plans(count, random(seed))

beforeAll(async () => {
  run = new CrashRun(await openOfflineWorld("crash-random"))
  began = Date.now()
  console.log(`random kills: CRASH_RANDOM=${count} CRASH_SEED=${seed}`)
})

afterAll(async () => {
  const left = await closeOfflineWorld(run.world, run.service)
  expect(left, "claude processes left behind").toEqual([])
})

const writeTurn = (): Turn => ({
  text: "writing",
  toolUse: { name: "Write", input: { file_path: join(run.world.claude.cwd, "note.txt"), content: "hi" } }
})
const heldTurn = (): Turn => ({ slow: { chunks: ["thinking ", "about ", "it "], delayMs: 20, hold: true } })
const toolTurn = (n: number, tag: string): Turn => ({
  text: `running ${n} commands`,
  toolUse: Array.from({ length: n }, (_, i) => ({ name: "Bash", input: { command: `echo ${tag}-${i}` } }))
})

/** One session the drive follows: new events are those after `after` (its revision before the command). */
interface Followed {
  readonly sessionId: string
  readonly sse: SseReader
  readonly after: number
  readonly activity: Activity
  interrupted: boolean
}

/**
 * Runs the plan's activities at once (one script for all: which session gets which turn
 * is up to the interleaving), decides approvals and sends interrupts as they become
 * possible, and returns when the plan's moment has come (or every session has ended, or
 * 20 s passed: the kill comes then all the same).
 */
const driveFor = (plan: Plan) => async (url: string): Promise<Array<string>> => {
  const { ledger, mismatches } = run
  const { fake, claude } = run.world
  fake.setScript(
    plan.activities.flatMap((a, i): Array<Turn> => {
      if (a.kind === "tools") return [...Array.from({ length: a.turns }, (_, t) => toolTurn(a.perTurn, `k${i}t${t}`)), { text: "ran them" }]
      if (a.kind === "approval") return [writeTurn(), { text: "written" }]
      if (a.kind === "interrupt") return [heldTurn()]
      return [toolTurn(2, `c${i}`), { text: "carried on" }]
    })
  )
  /** A command's answer: 202 goes in the ledger; 409 (the session moved on meanwhile) is fine; anything else is a mismatch. */
  const command = async (what: string, path: string, body?: unknown): Promise<any> => {
    const a = await call(url, "POST", path, body)
    if (a.status === 202) return ledger.answer(what, a.body)
    if (a.status !== 409) mismatches.push(`${what} ${path}: ${a.status} ${JSON.stringify(a.body).slice(0, 200)}`)
    return undefined
  }
  const followed: Array<Followed> = []
  const follow = async (sessionId: string, after: number, activity: Activity) =>
    followed.push({ sessionId, sse: await ledger.follow(url, sessionId), after, activity, interrupted: false })
  const started = Date.now()
  for (const a of plan.activities) {
    if (a.kind === "continue" || a.kind === "fork") {
      const parent = pool[Math.floor(a.pick * pool.length)]
      if (parent !== undefined && a.kind === "continue") {
        const r = await command("continue", `/v1/sessions/${parent}/continue`, { query: "once more" })
        if (r) await follow(parent, r.revision - 1, a)
        continue
      }
      if (parent !== undefined) {
        const r = await command("fork", `/v1/sessions/${parent}/fork`, { query: "the other way" })
        if (r) await follow(r.sessionId, -1, a)
        continue
      }
    }
    const r = await command("launch", "/v1/sessions", {
      cwd: claude.cwd,
      query: `${a.kind} job`,
      ...(a.kind === "tools" ? { allowedTools: ["Bash"] } : {})
    })
    if (r) await follow(r.sessionId, -1, a)
  }
  const decisions = plan.activities.flatMap((a) => (a.kind === "approval" ? [a.decision] : []))
  const decided = new Set<string>()
  const fresh = (f: Followed) => f.sse.frames.filter((x) => Number(JSON.parse(x.data).revision) > f.after)
  for (;;) {
    let seen = 0
    let ended = 0
    for (const f of followed) {
      const frames = fresh(f)
      seen += frames.length
      if (frames.some((x) => terminal.has(x.event ?? ""))) ended++
      for (const x of frames) {
        if (x.event !== "ApprovalRequested") continue
        const { approvalId } = JSON.parse(x.data).data
        if (decided.has(approvalId)) continue
        decided.add(approvalId)
        const decision = decisions[(decided.size - 1) % Math.max(1, decisions.length)] ?? "allow"
        if (decision !== "none") await command("decision", `/v1/approvals/${approvalId}/decision`, { decision })
      }
      if (f.activity.kind === "interrupt" && !f.interrupted && frames.length > 0) {
        f.interrupted = true
        await command("interrupt", `/v1/sessions/${f.sessionId}/interrupt`)
      }
    }
    const m = plan.moment
    if ("frames" in m ? seen >= m.frames : Date.now() - started >= m.afterMs) break
    if (ended === followed.length || Date.now() - started > 20_000) break
    await sleep(2)
  }
  return followed.map((f) => f.sessionId).filter((id, i, ids) => ids.indexOf(id) === i)
}

describe(`kill -9 at ${count} random moments (CRASH_SEED=${seed})`, () => {
  for (const [i, plan] of all.entries()) {
    const name = `random kill ${i + 1}/${count}: ${describePlan(plan)}`
    it(name, async () => {
      const sessions: Array<string> = []
      const mismatches = await run.cycle(
        name,
        async (url) => {
          sessions.push(...(await driveFor(plan)(url)))
          return sessions
        },
        {
          chained: true,
          continueSessions: plan.continueOne ? 1 : 0,
          ...(plan.startupKillMs !== undefined ? { startupKill: { after: "event store open", delayMs: plan.startupKillMs } } : {})
        }
      )
      for (const s of sessions) if (!pool.includes(s)) pool.push(s)
      console.log(`${name}: ${mismatches.length === 0 ? "held" : "FAILED"} (${Math.round((Date.now() - began) / 1000)} s in)`)
      expect(mismatches, `CRASH_SEED=${seed}`).toEqual([])
    }, 300_000)
  }

  it(`over all ${count} random kills: every acknowledgement kept, every run ended once`, async () => {
    await run.stopAndCheck("after the last random kill")
    const events = await readAllEvents(run.world.dataDir)
    const store = checkStore(events, run.ledger)
    const runs = checkRuns(events, run.restarts)
    const seconds = Math.round((Date.now() - began) / 1000)
    console.log(
      `random crash run: CRASH_RANDOM=${count} CRASH_SEED=${seed}; kills survived ${run.kills} in ${seconds} s; ` +
        `events acknowledged ${store.acknowledged}, found ${store.found}; runs abandoned ${runs.abandoned}; ` +
        `kills with projections behind ${run.lagging}; sessions continued to completed ${run.continued}; ` +
        `read-model rebuild comparisons ${run.comparisons}; events stored ${events.length}; mismatches ${run.mismatches.length}`
    )
    expect(run.mismatches, `CRASH_SEED=${seed}`).toEqual([])
    expect(store.found).toBe(store.acknowledged)
    expect(run.kills).toBeGreaterThanOrEqual(count)
  }, 120_000)
})
