// npm run test:crash — the real service (`node src/main.ts`) as a child process with the
// embedded store, sessions driven through the real `claude` binary and the fake Messages
// API, and `kill -9` at many different points: while tool calls stream in (appends and
// projection updates), during an approval wait, right after the 202 of a launch, a
// decision, a continue, an interrupt or a fork, in the middle of a continued run, with
// several sessions streaming at once, and during the recovery of the next start-up.
// After each kill the service is started again and the session continued to completed;
// then, with the service stopped, the data directory is checked: every acknowledged event
// is stored where it was acknowledged, no stream has a gap or a duplicate, every run in
// flight at a kill is RunAbandoned, and read.db equals a rebuild from zero byte for byte.
import { rmSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { ClaudeEnv } from "../support/claudeEnv.ts"
import type { FakeAnthropic, Turn } from "../support/fakeAnthropic.ts"
import { closeOfflineWorld, openOfflineWorld } from "../support/offlineWorld.ts"
import {
  accepted,
  call,
  checkReadModels,
  checkRuns,
  checkStore,
  CrashRun,
  killDuringStartup,
  multiplyHistory,
  patienceMs,
  readAllEvents,
  readModelCheckpoint,
  sessionOf,
  sleep,
  startService,
  waitForStatus
} from "./crashHarness.ts"

let run: CrashRun
let fake: FakeAnthropic
let claude: ClaudeEnv
let dataDir: string

beforeAll(async () => {
  run = new CrashRun(await openOfflineWorld("crash"))
  ;({ fake, claude, dataDir } = run.world)
})

afterAll(async () => {
  const left = await closeOfflineWorld(run.world, run.service)
  expect(left, "claude processes left behind").toEqual([])
})

const tools = (n: number, tag: string): Turn => ({
  text: `running ${n} commands`,
  toolUse: Array.from({ length: n }, (_, i) => ({ name: "Bash", input: { command: `echo ${tag}-${i}` } }))
})
const toolScript = (turns: number, perTurn: number): Array<Turn> => [
  ...Array.from({ length: turns }, (_, i) => tools(perTurn, `t${i}`)),
  { text: "all commands ran" }
]
const held = (): Turn => ({ slow: { chunks: ["thinking ", "about ", "it "], delayMs: 20, hold: true } })

// Each kill point is a test of its own, run in order on one data dir (each builds on the
// history the earlier ones left); the last test checks the whole store against every
// acknowledgement.
describe("kill -9 at many points, then restart", () => {
  {
    const launch = async (url: string, body: Record<string, unknown>) =>
      run.ledger.answer("launch", await accepted(url, "POST", "/v1/sessions", { cwd: claude.cwd, ...body }))

    /** One kill point as a test of its own (see CrashRun.cycle). */
    const cycle = (
      name: string,
      drive: (url: string) => Promise<Array<string>>,
      startupKill?: { readonly after: string; readonly delayMs: number }
    ) =>
      it(`kill -9 ${name}${startupKill ? ", then again during the next start-up" : ""}`, async () => {
        expect(await run.cycle(name, drive, startupKill ? { startupKill } : {})).toEqual([])
      }, 300_000)

    // ---- while tool calls stream in: appends and projection updates, at different depths ----
    for (const [i, frames] of [3, 11, 24, 40, 57, 75].entries()) {
      cycle(
        `after ${frames} streamed events`,
        async (url) => {
          fake.setScript(toolScript(3, 12))
          const { sessionId } = await launch(url, { query: `tool storm ${i}`, allowedTools: ["Bash"] })
          await run.ledger.follow(url, sessionId)
          await run.ledger.waitForFrames(frames)
          return [sessionId]
        },
        i === 1 ? { after: "event store open", delayMs: 0 } : i === 3 ? { after: "event store open", delayMs: 25 } : undefined
      )
    }

    // ---- three sessions streaming at once ----
    for (const frames of [30, 90]) {
      cycle(`three sessions at once, after ${frames} events`, async (url) => {
        fake.setScript(toolScript(9, 8))
        const ids: Array<string> = []
        for (let i = 0; i < 3; i++) {
          const { sessionId } = await launch(url, { query: `parallel ${i}`, allowedTools: ["Bash"] })
          await run.ledger.follow(url, sessionId)
          ids.push(sessionId)
        }
        await run.ledger.waitForFrames(frames)
        return ids
      })
    }

    // ---- during an approval wait, and right after the 202 of its decision ----
    for (const decide of [false, true]) {
      cycle(decide ? "right after a decision's 202" : "during an approval wait", async (url) => {
        fake.setScript([
          { text: "writing", toolUse: { name: "Write", input: { file_path: join(claude.cwd, "note.txt"), content: "hi" } } },
          { text: "written" }
        ])
        const { sessionId } = await launch(url, { query: "write a note" })
        const sse = await run.ledger.follow(url, sessionId)
        await run.ledger.waitForFrames(0, patienceMs, ["ApprovalRequested"])
        if (decide) {
          const requested = sse.frames.find((f) => f.event === "ApprovalRequested")!
          const { approvalId } = JSON.parse(requested.data).data
          run.ledger.answer("decision", await accepted(url, "POST", `/v1/approvals/${approvalId}/decision`, { decision: "allow" }))
        }
        return [sessionId]
      })
    }

    // ---- right after the 202 of a launch ----
    cycle("right after a launch's 202", async (url) => {
      fake.setScript([{ text: "hello" }])
      const { sessionId } = await launch(url, { query: "say hello" })
      return [sessionId]
    })

    // ---- a completed session: continue (kill after the 202, and mid-stream), fork, interrupt ----
    const completedSession = async (url: string, query: string) => {
      fake.setScript([{ text: "done" }])
      const { sessionId } = await launch(url, { query })
      await waitForStatus(url, sessionId, ["completed"])
      return sessionId
    }
    cycle("right after a continue's 202", async (url) => {
      const sessionId = await completedSession(url, "first question")
      fake.setScript([held()])
      run.ledger.answer("continue", await accepted(url, "POST", `/v1/sessions/${sessionId}/continue`, { query: "second" }))
      return [sessionId]
    })
    cycle("in the middle of a continued run", async (url) => {
      const sessionId = await completedSession(url, "first question")
      fake.setScript([held()])
      const before = await run.ledger.readBack(url, sessionId)
      await run.ledger.follow(url, sessionId)
      run.ledger.answer("continue", await accepted(url, "POST", `/v1/sessions/${sessionId}/continue`, { query: "second" }))
      await run.ledger.waitForFrames(before + 3)
      await sleep(50)
      return [sessionId]
    })
    cycle("right after a fork's 202", async (url) => {
      const parent = await completedSession(url, "to be forked")
      fake.setScript([{ text: "forked answer" }])
      const fork = run.ledger.answer("fork", await accepted(url, "POST", `/v1/sessions/${parent}/fork`, { query: "other way" }))
      return [fork.sessionId]
    })
    cycle("right after an interrupt's 202", async (url) => {
      fake.setScript([held()])
      const { sessionId } = await launch(url, { query: "long job" })
      await run.ledger.follow(url, sessionId)
      await run.ledger.waitForFrames(0, patienceMs, ["ClaudeSystemEvent"])
      run.ledger.answer("interrupt", await accepted(url, "POST", `/v1/sessions/${sessionId}/interrupt`))
      return [sessionId]
    })

    // ---- a bypass's end: killed as it falls due; the next start-up records it, once ----
    it("kill -9 as a bypassPermissions falls due", async () => {
      const before = run.mismatches.length
      let sessionId = ""
      const mismatches = await run.cycle(
        "as a bypassPermissions falls due",
        async (url) => {
          sessionId = await completedSession(url, "then bypass")
          run.ledger.answer(
            "permission mode",
            await accepted(url, "POST", `/v1/sessions/${sessionId}/permission-mode`, { mode: "bypassPermissions", expiresInMs: 1_000 })
          )
          // Around the second it is due: the expiry's append may or may not have happened.
          await sleep(900 + Math.floor(Math.random() * 200))
          // Not continued by the cycle: a continue could start in bypass before the expiry lands.
          return []
        },
        { chained: true }
      )
      expect(mismatches).toEqual([])
      // The restarted service (the cycle leaves it up) ends the bypass if the killed one had not.
      const deadline = Date.now() + patienceMs
      let s = await sessionOf(run.service!.url, sessionId)
      while (s?.permissionMode !== "default" && Date.now() < deadline) s = (await sleep(100), await sessionOf(run.service!.url, sessionId))
      expect(s?.permissionMode).toBe("default")
      const events = (await call(run.service!.url, "GET", `/v1/sessions/${sessionId}/events?limit=1000`)).body.items as Array<{
        type: string
        data: { reason?: string }
      }>
      expect(events.filter((e) => e.type === "PermissionModeChanged" && e.data.reason === "expired")).toHaveLength(1)
      await run.stopAndCheck("as a bypassPermissions falls due")
      expect(run.mismatches.slice(before)).toEqual([])
    }, 300_000)

    // ---- projection work: read.db deleted while stopped, the service killed while it rebuilds ----
    // The history is first multiplied (valid copies of the sessions above) so that the
    // rebuild takes long enough to be cut; then killed again while it resumes.
    let beforeMultiplying: Awaited<ReturnType<typeof readAllEvents>> = []
    let runs = { abandoned: 0 }
    it("kill -9 during a rebuild of the read models, and during its resumption", async () => {
      const before = run.mismatches.length
      beforeMultiplying = await readAllEvents(dataDir)
      runs = checkRuns(beforeMultiplying, run.restarts)
      const head = multiplyHistory(dataDir, 30_000)
      for (const f of ["read.db", "read.db-wal", "read.db-shm"]) rmSync(join(dataDir, f), { force: true })
      for (const [i, delayMs] of [40, 120, 60].entries()) {
        run.restarts.push(Date.now())
        const r = await killDuringStartup(dataDir, claude, i === 0 ? "read models building from zero" : "event store open", delayMs)
        run.kills++
        const checkpoint = readModelCheckpoint(dataDir)
        if (checkpoint === null || checkpoint < BigInt(head)) run.lagging++
        run.points.push(
          `${delayMs} ms into ${i === 0 ? "a rebuild of the read models" : "the rebuild's resumption"} (${checkpoint ?? 0} of ${head} applied${r.listened ? ", after listening" : ""})`
        )
      }
      run.restarts.push(Date.now())
      run.service = await startService(dataDir, claude)
      const ready = Date.now() + 60_000
      while ((await fetch(`${run.service.url}/readyz`)).status !== 200 && Date.now() < ready) await sleep(50)
      {
        const code = await run.service.stop()
        run.service = undefined
        if (code !== 0) run.mismatches.push(`after the rebuild kills: the service exited ${code} on SIGTERM`)
        run.mismatches.push(...(await checkReadModels(dataDir)).map((m) => `after the rebuild kills: ${m}`))
        run.comparisons++
      }
      expect(run.mismatches.slice(before)).toEqual([])
    }, 300_000)

    it("over all kills: every acknowledged event is stored where it was acknowledged, every orphaned run abandoned", async () => {
      const events = await readAllEvents(dataDir)
      const store = checkStore(events, run.ledger)
      run.mismatches.push(...checkRuns(events, run.restarts).mismatches)
      const figures =
        `crash suite: kills survived ${run.kills}; events acknowledged ${store.acknowledged}, found ${store.found}; ` +
        `mismatches ${run.mismatches.length} (runs abandoned ${runs.abandoned}, kills with projections behind ${run.lagging}, ` +
        `sessions continued to completed ${run.continued}, read-model rebuild comparisons ${run.comparisons}, ` +
        `events stored ${beforeMultiplying.length}, then ${events.length} for the rebuild kills)`
      console.log(`kill points: ${run.points.join("; ")}\n${figures}`)
      expect(run.mismatches).toEqual([])
      expect(store.found).toBe(store.acknowledged)
      expect(run.kills).toBeGreaterThanOrEqual(15)
    }, 120_000)
  }
})
