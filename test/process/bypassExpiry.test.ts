// A bypass's end on the supervisor's clock: the session is switched back exactly when it
// is due (not a millisecond before), once, and the live run is told; the end survives a
// restart because it is derived from the events (the checkpoint stays before the grant).
// The supervisor is the service's own on the real store; only the clock is a TestClock and
// Claude a fake that records what the supervisor tells it.
import { randomUUID } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Stream } from "effect"
import { TestClock } from "effect/testing"
import { afterEach, describe, expect, it } from "vitest"
import { SessionCommands, type SessionCommandsShape } from "../../src/commands/sessionCommands.ts"
import { freshState } from "../support/freshState.ts"
import { loadConfig } from "../../src/config.ts"
import type { SessionCommand } from "../../src/domain/sessionDecider.ts"
import type { Session } from "../../src/domain/sessionState.ts"
import type { RecordedEvent } from "../../src/eventstore/eventStore.ts"
import { makeSqliteEventStore, type SqliteEventStore } from "../../src/eventstore/sqliteEventStore.ts"
import { silentLogger } from "../../src/log.ts"
import type { RunEnd, RunHooks, RunningClaude, RunSpec } from "../../src/process/claudeRunner.ts"
import { openPolicy } from "../../src/process/sandbox.ts"
import { RunSecrets } from "../../src/service.ts"
import { testClockRuntime } from "../support/testClockRuntime.ts"
import { resultMessage, systemInit } from "../support/domainFixtures.ts"
import { waitForEvents } from "../support/waitFor.ts"

const minutes = (n: number) => n * 60_000
const at = (ms: number) => new Date(ms).toISOString()
const api = { correlationId: "test", source: "api" } as const

interface FakeRun {
  readonly spec: RunSpec
  readonly hooks: RunHooks
  readonly told: Array<string>
  readonly end: (how?: Partial<RunEnd>) => void
}

/** Claude as the supervisor sees it: told modes and models, ended by the test. */
const fakeClaude = () => {
  const started: Array<FakeRun> = []
  const start = (spec: RunSpec, hooks: RunHooks): RunningClaude => {
    let resolve!: (e: RunEnd) => void
    const done = new Promise<RunEnd>((r) => (resolve = r))
    const run: FakeRun = { spec, hooks, told: [], end: (how = {}) => resolve({ result: undefined, exitCode: 0, signal: null, error: undefined, ...how }) }
    started.push(run)
    return {
      interrupt: async () => run.end(),
      kill: () => run.end({ signal: "SIGKILL" }),
      done,
      setPermissionMode: async (mode) => void run.told.push(`mode ${mode}`),
      setModel: async (model) => void run.told.push(`model ${model}`)
    }
  }
  return { start, started }
}

interface World {
  readonly claude: ReturnType<typeof fakeClaude>
  /** Leaves a run's options for the supervisor, as the HTTP handlers do. */
  putSecrets(runId: string, options: object): Promise<void>
  adjust(ms: number): Promise<void>
  command(command: SessionCommand): Promise<unknown>
  state(sessionId: string): Promise<Session>
  waitFor(sessionId: string, until: (s: Session) => boolean): Promise<Session>
  modeChanges(sessionId: string): Promise<ReadonlyArray<RecordedEvent>>
  /** Stops the supervisor (as the service does) and starts another on the same store and data dir, its clock at 0 again. */
  restart(): Promise<void>
  close(): Promise<void>
}

let world: World | undefined
afterEach(async () => {
  await world?.close()
  world = undefined
})

const startWorld = async (maxRunning = 8): Promise<World> => {
  const dataDir = mkdtempSync(join(tmpdir(), "agentlog-bypass-"))
  const store: SqliteEventStore = await Effect.runPromise(makeSqliteEventStore(dataDir))
  const claude = fakeClaude()
  const build = () =>
    testClockRuntime(store, {
      config: { ...loadConfig({ AGENTLOG_DATA_DIR: dataDir }), approvalTimeoutMs: minutes(60), interruptGraceMs: 1_000, maxRunning },
      logger: silentLogger,
      supervisor: { startClaude: claude.start, policy: openPolicy }
    })
  let runtime = build()
  const commandsOf = () => runtime.runPromise(Effect.gen(function* () { return yield* SessionCommands }))
  let commands: SessionCommandsShape = await commandsOf()
  const state = (sessionId: string) => freshState(commands, sessionId)
  return {
    claude,
    putSecrets: (runId, options) => runtime.runPromise(Effect.gen(function* () { (yield* RunSecrets).put(runId, options) })),
    adjust: (ms) => runtime.runPromise(TestClock.adjust(ms)),
    command: (command) => Effect.runPromise(commands.handle(command, api)),
    state,
    waitFor: (sessionId, until) =>
      waitForEvents(`session ${sessionId}`, store, `session-${sessionId}`, async () => {
        const s = await state(sessionId)
        return until(s) ? s : undefined
      }),
    modeChanges: async (sessionId) =>
      (await Effect.runPromise(Stream.runCollect(store.readStream(`session-${sessionId}`)))).filter((e) => e.type === "PermissionModeChanged"),
    async restart() {
      for (const r of claude.started) r.end()
      await runtime.dispose()
      runtime = build()
      commands = await commandsOf()
    },
    async close() {
      for (const r of claude.started) r.end()
      await runtime.runPromise(TestClock.adjust("1 hour"))
      await runtime.dispose()
      await Effect.runPromise(store.close())
      rmSync(dataDir, { recursive: true, force: true })
    }
  }
}

const launch = async (w: World, options = {}) => {
  const sessionId = randomUUID()
  const runId = randomUUID()
  await w.putSecrets(runId, options)
  await w.command({ kind: "LaunchSession", sessionId, runId, query: "q", options })
  return sessionId
}

const expired = (e: RecordedEvent) => (e.data as { reason?: string }).reason === "expired"

describe("a bypass's end, on the supervisor's clock", () => {
  it("switches the live run to bypass, then back to the mode before it exactly when it ends, and records why", async () => {
    const w = (world = await startWorld())
    const sessionId = await launch(w, { permissionMode: "acceptEdits" })
    await w.waitFor(sessionId, (s) => s.status === "running")
    const run = w.claude.started[0]!
    await w.command({ kind: "ChangePermissionMode", sessionId, mode: "bypassPermissions", expiresAt: at(minutes(15)), changedBy: "alice" })
    await w.command({ kind: "ChangeModel", sessionId, model: "claude-other", changedBy: "alice" })
    await w.waitFor(sessionId, (s) => s.options.model === "claude-other")

    await w.adjust(minutes(15) - 1)
    expect((await w.modeChanges(sessionId)).filter(expired)).toEqual([])
    expect((await w.state(sessionId)).options.permissionMode).toBe("bypassPermissions")

    await w.adjust(1)
    const s = await w.waitFor(sessionId, (st) => st.options.permissionMode === "acceptEdits")
    expect(s.bypassExpiresAt).toBeUndefined()
    const back = (await w.modeChanges(sessionId)).filter(expired)
    expect(back.map((e) => [e.data, (e.metadata as { source: string }).source])).toEqual([
      [{ mode: "acceptEdits", previousMode: "bypassPermissions", changedBy: "agentlog", reason: "expired" }, "supervisor"]
    ])
    expect(run.told).toEqual(["mode bypassPermissions", "model claude-other", "mode acceptEdits"])
  })

  it("a bypass extended before its end ends at the later time only; one left by hand never expires", async () => {
    const w = (world = await startWorld())
    const a = await launch(w)
    const b = await launch(w)
    await w.waitFor(b, (s) => s.status === "running")
    await w.command({ kind: "ChangePermissionMode", sessionId: a, mode: "bypassPermissions", expiresAt: at(minutes(5)), changedBy: "alice" })
    await w.command({ kind: "ChangePermissionMode", sessionId: a, mode: "bypassPermissions", expiresAt: at(minutes(10)), changedBy: "alice" })
    await w.command({ kind: "ChangePermissionMode", sessionId: b, mode: "bypassPermissions", expiresAt: at(minutes(5)), changedBy: "alice" })
    await w.command({ kind: "ChangePermissionMode", sessionId: b, mode: "plan", changedBy: "alice" })
    await w.adjust(minutes(5))
    await w.adjust(minutes(5) - 1)
    expect((await w.modeChanges(a)).filter(expired)).toEqual([])
    await w.adjust(1)
    await w.waitFor(a, (s) => s.options.permissionMode === "default")
    expect((await w.modeChanges(a)).filter(expired)).toHaveLength(1)
    expect((await w.modeChanges(b)).filter(expired)).toEqual([])
  })

  it("survives a restart: the next supervisor replays the grant and ends the bypass when due, once", async () => {
    const w = (world = await startWorld())
    const sessionId = await launch(w)
    await w.waitFor(sessionId, (s) => s.status === "running")
    await w.command({ kind: "ChangePermissionMode", sessionId, mode: "bypassPermissions", expiresAt: at(minutes(15)), changedBy: "alice" })
    // The run ends, and other sessions come and go after the grant: without the bypass
    // holding it, the checkpoint would move past the grant.
    w.claude.started[0]!.end()
    await w.waitFor(sessionId, (s) => s.status === "failed")
    const other = await launch(w)
    await w.waitFor(other, (s) => s.status === "running")
    w.claude.started[1]!.end()
    await w.waitFor(other, (s) => s.status === "failed")
    await w.adjust(1_000)

    await w.restart()
    // The new supervisor's clock starts at 0 again: the bypass is still 15 minutes from it.
    await w.adjust(minutes(15) - 1)
    expect((await w.modeChanges(sessionId)).filter(expired)).toEqual([])
    await w.adjust(1)
    await w.waitFor(sessionId, (s) => s.options.permissionMode === "default")
    // Once more: the end is recorded once, and a further restart replays nothing into a second one.
    await w.restart()
    await w.adjust(minutes(30))
    expect((await w.modeChanges(sessionId)).filter(expired)).toHaveLength(1)
  })

  it("a session launched in bypassPermissions is switched back when its grant ends, once, as a changed mode is", async () => {
    const w = (world = await startWorld())
    const sessionId = randomUUID()
    const runId = randomUUID()
    const options = { permissionMode: "bypassPermissions" as const }
    await w.putSecrets(runId, options)
    await w.command({ kind: "LaunchSession", sessionId, runId, query: "q", options, bypass: { expiresAt: at(minutes(15)), grantedBy: "alice" } })
    await w.waitFor(sessionId, (s) => s.status === "running")
    expect(w.claude.started[0]!.spec.options.permissionMode).toBe("bypassPermissions")
    await w.adjust(minutes(15) - 1)
    expect((await w.modeChanges(sessionId)).filter(expired)).toEqual([])
    await w.adjust(1)
    await w.waitFor(sessionId, (s) => s.options.permissionMode === "default")
    expect(w.claude.started[0]!.told).toEqual(["mode default"])
    await w.adjust(minutes(30))
    expect((await w.modeChanges(sessionId)).filter(expired).map((e) => e.data)).toEqual([
      { mode: "default", previousMode: "bypassPermissions", changedBy: "agentlog", reason: "expired" }
    ])
  })

  it("a follow-up queued in bypassPermissions starts in it and is switched back at the end its request set", async () => {
    const w = (world = await startWorld())
    const sessionId = await launch(w, { permissionMode: "acceptEdits" })
    await w.waitFor(sessionId, (s) => s.status === "running")
    const runId = randomUUID()
    const overrides = { permissionMode: "bypassPermissions" as const }
    await w.command({
      kind: "ContinueSession",
      sessionId,
      runId,
      query: "next",
      overrides,
      followUpId: randomUUID(),
      bypass: { expiresAt: at(minutes(10)), grantedBy: "alice" }
    })
    await w.adjust(minutes(5))
    // Nothing is granted while it waits; its run completes, the follow-up starts in bypass.
    expect(await w.modeChanges(sessionId)).toEqual([])
    await w.putSecrets(runId, overrides)
    const first = w.claude.started[0]!
    const result = resultMessage("claude-1", 0.01)
    await first.hooks.onMessage(systemInit("claude-1"))
    await first.hooks.onMessage(result)
    first.end({ result })
    await w.waitFor(sessionId, (s) => s.runId === runId && s.status === "running")
    expect(w.claude.started[1]!.spec.options.permissionMode).toBe("bypassPermissions")
    await w.adjust(minutes(5) - 1)
    expect((await w.modeChanges(sessionId)).filter(expired)).toEqual([])
    await w.adjust(1)
    await w.waitFor(sessionId, (s) => s.options.permissionMode === "acceptEdits")
    expect((await w.modeChanges(sessionId)).map((e) => [(e.data as { mode: string }).mode, (e.data as { reason?: string }).reason])).toEqual([
      ["bypassPermissions", undefined],
      ["acceptEdits", "expired"]
    ])
  })

  it("a run started after a mode change uses the session's mode, not the one its request carried", async () => {
    // One slot, taken: the second session's run waits, with the options its request carried.
    const w = (world = await startWorld(1))
    const first = await launch(w)
    await w.waitFor(first, (s) => s.status === "running")
    const sessionId = await launch(w, { permissionMode: "default", model: "m-1" })
    await w.command({ kind: "ChangePermissionMode", sessionId, mode: "plan", changedBy: "alice" })
    await w.command({ kind: "ChangeModel", sessionId, model: "m-2", changedBy: "alice" })
    w.claude.started[0]!.end()
    await w.waitFor(sessionId, (s) => s.status === "running")
    expect(w.claude.started[1]!.spec.options).toMatchObject({ permissionMode: "plan", model: "m-2" })
  })
})
