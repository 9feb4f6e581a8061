// The supervisor's timers on a TestClock: the approval timeout, the interrupt grace and the
// retries of its appends while the store is unavailable. The supervisor is the service's own
// (SupervisorLive on the real store and write side); only the clock is a TestClock and the
// Claude process a fake that the test drives, so time moves only when the test says so, and
// "not yet" is a state read after the clock stopped just short of the deadline: TestClock's
// adjust runs every timer due by then, and what it woke, before it returns.
import { randomUUID } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { PermissionResult } from "@anthropic-ai/claude-agent-sdk"
import { Clock, Effect, Stream } from "effect"
import { TestClock } from "effect/testing"
import { afterEach, describe, expect, it } from "vitest"
import { SessionCommands, type SessionCommandsShape } from "../../src/commands/sessionCommands.ts"
import { loadConfig } from "../../src/config.ts"
import type { SessionCommand } from "../../src/domain/sessionDecider.ts"
import type { Session } from "../../src/domain/sessionState.ts"
import { EventStoreUnavailable, type EventStoreShape, type RecordedEvent } from "../../src/eventstore/eventStore.ts"
import { makeSqliteEventStore, type SqliteEventStore } from "../../src/eventstore/sqliteEventStore.ts"
import { silentLogger } from "../../src/log.ts"
import type { RunEnd, RunHooks, RunningClaude, RunSpec } from "../../src/process/claudeRunner.ts"
import { openPolicy } from "../../src/process/sandbox.ts"
import { Supervisor, type SupervisorConfig, type SupervisorShape } from "../../src/process/supervisor.ts"
import { freshState } from "../support/freshState.ts"
import { testClockRuntime } from "../support/testClockRuntime.ts"
import { resultMessage, systemInit } from "../support/domainFixtures.ts"
import { waitForEvents } from "../support/waitFor.ts"

const approvalTimeoutMs = 60_000
const interruptGraceMs = 5_000
const storeRetryMs = 1_000

/** A promise and its resolver. */
const deferred = <A = void>() => {
  let resolve!: (a: A) => void
  const promise = new Promise<A>((r) => (resolve = r))
  return { promise, resolve }
}

/** Whether a promise has settled yet (read after a barrier). */
const watch = (p: Promise<unknown>) => {
  const w = { settled: false }
  void p.then(() => (w.settled = true))
  return w
}

/** One Claude process as the supervisor sees it, played by the test. */
interface FakeRun {
  readonly spec: RunSpec
  readonly hooks: RunHooks
  readonly interrupted: Promise<void>
  kills: number
  /** Ends the process (as when Claude exits after its last message). */
  readonly end: (how?: Partial<RunEnd>) => void
}

/** Starts fake runs; `stopsOnInterrupt: false` plays a Claude that ignores the interrupt. */
const fakeClaude = (stopsOnInterrupt: boolean) => {
  const started: Array<FakeRun> = []
  let arrived = deferred<FakeRun>()
  const start = (spec: RunSpec, hooks: RunHooks): RunningClaude => {
    const done = deferred<RunEnd>()
    const interrupted = deferred()
    const run: FakeRun = {
      spec,
      hooks,
      interrupted: interrupted.promise,
      kills: 0,
      end: (how = {}) => done.resolve({ result: undefined, exitCode: 0, signal: null, error: undefined, ...how })
    }
    started.push(run)
    arrived.resolve(run)
    return {
      interrupt: async () => {
        interrupted.resolve()
        if (stopsOnInterrupt) run.end({ exitCode: null, signal: null })
      },
      kill: () => {
        run.kills++
        run.end({ exitCode: null, signal: "SIGKILL" })
      },
      done: done.promise
    }
  }
  /** The next run the supervisor starts. */
  const next = async (): Promise<FakeRun> => {
    const run = await arrived.promise
    arrived = deferred()
    return run
  }
  return { start, next, started }
}

/** The store, with an outage the test switches on and off; each refused append is noted with its time on the Clock. */
const withOutage = (store: SqliteEventStore) => {
  const attempts: Array<{ readonly at: number; readonly types: ReadonlyArray<string> }> = []
  let waiters: Array<{ readonly count: number; readonly resolve: () => void }> = []
  const outage = {
    down: false,
    /** The appends refused while down: when on the Clock, and what they carried. */
    attempts,
    /** Resolves once `count` appends have been refused. */
    refused: (count: number) =>
      new Promise<void>((resolve) => {
        if (attempts.length >= count) resolve()
        else waiters.push({ count, resolve })
      })
  }
  const shape: EventStoreShape = {
    ...store,
    // Decided at each run of the effect: a retry runs the same effect again.
    append: (stream, events, expected) =>
      Effect.suspend(() =>
        outage.down
          ? Clock.currentTimeMillis.pipe(
              Effect.flatMap((at) => {
                attempts.push({ at, types: events.map((e) => e.type) })
                for (const w of waiters.filter((w) => attempts.length >= w.count)) w.resolve()
                waiters = waiters.filter((w) => attempts.length < w.count)
                return Effect.fail(new EventStoreUnavailable({ reason: "the test switched the store off" }))
              })
            )
          : store.append(stream, events, expected)
      )
  }
  return { outage, shape }
}

interface World {
  readonly store: SqliteEventStore
  readonly outage: ReturnType<typeof withOutage>["outage"]
  readonly claude: ReturnType<typeof fakeClaude>
  readonly commands: SessionCommandsShape
  readonly supervisor: SupervisorShape
  /** Moves the supervisor's clock on. */
  adjust(ms: number): Promise<void>
  /** Runs an effect with the TestClock. */
  onClock<A>(effect: Effect.Effect<A>): Promise<A>
  launch(): Promise<string>
  command(command: SessionCommand): Promise<unknown>
  state(sessionId: string): Promise<Session>
  waitFor(sessionId: string, until: (s: Session) => boolean): Promise<Session>
  events(sessionId: string, type: string): Promise<ReadonlyArray<RecordedEvent>>
  close(): Promise<void>
}

let world: World | undefined
afterEach(async () => {
  await world?.close()
  world = undefined
})

const startWorld = async (options: { readonly stopsOnInterrupt?: boolean; readonly supervisor?: Partial<SupervisorConfig> } = {}): Promise<World> => {
  const dataDir = mkdtempSync(join(tmpdir(), "agentlog-clock-"))
  const store = await Effect.runPromise(makeSqliteEventStore(dataDir))
  const { outage, shape } = withOutage(store)
  const claude = fakeClaude(options.stopsOnInterrupt ?? true)
  const runtime = testClockRuntime(shape, {
    config: { ...loadConfig({ AGENTLOG_DATA_DIR: dataDir }), approvalTimeoutMs, interruptGraceMs },
    logger: silentLogger,
    supervisor: { startClaude: claude.start, policy: openPolicy, storeRetryMs, ...options.supervisor }
  })
  const { commands, supervisor } = await runtime.runPromise(
    Effect.gen(function* () {
      return { commands: yield* SessionCommands, supervisor: yield* Supervisor }
    })
  )
  const api = { correlationId: "test", source: "api" } as const
  const state = (sessionId: string) => freshState(commands, sessionId)
  return {
    store,
    outage,
    claude,
    commands,
    supervisor,
    adjust: (ms) => runtime.runPromise(TestClock.adjust(ms)),
    onClock: (effect) => runtime.runPromise(effect),
    async launch() {
      const sessionId = randomUUID()
      await Effect.runPromise(commands.handle({ kind: "LaunchSession", sessionId, runId: randomUUID(), query: "q", options: {} }, api))
      return sessionId
    },
    command: (command) => Effect.runPromise(commands.handle(command, api)),
    state,
    waitFor: (sessionId, until) =>
      waitForEvents(`session ${sessionId}`, store, `session-${sessionId}`, async () => {
        const s = await state(sessionId)
        return until(s) ? s : undefined
      }),
    events: async (sessionId, type) =>
      (await Effect.runPromise(Stream.runCollect(store.readStream(`session-${sessionId}`)))).filter((e) => e.type === type),
    async close() {
      // An append still waiting for the store holds its session (commands are serialised per
      // session), and so the shutdown's interrupt: the store comes back and the clock moves on.
      outage.down = false
      for (const r of claude.started) r.end()
      await runtime.runPromise(TestClock.adjust("1 hour"))
      await runtime.dispose()
      await Effect.runPromise(store.close())
      rmSync(dataDir, { recursive: true, force: true })
    }
  }
}

const askWrite = (run: FakeRun): Promise<PermissionResult> =>
  run.hooks.onPermission({
    toolName: "Write",
    toolUseId: "toolu_1",
    input: { file_path: "/tmp/x", content: "x" },
    suggestions: [],
    signal: new AbortController().signal
  })

const ended = (s: Session) => ["completed", "failed", "interrupted", "abandoned"].includes(s.status)

describe("the approval timeout, on the supervisor's clock", () => {
  it("denies a pending approval exactly when the timeout passes, not a millisecond before, with the reason recorded", async () => {
    const w = (world = await startWorld())
    const sessionId = await w.launch()
    const run = await w.claude.next()
    const answer = askWrite(run)
    const answered = watch(answer)
    await w.waitFor(sessionId, (s) => s.status === "waiting_approval")
    const [requested] = await w.events(sessionId, "ApprovalRequested")
    // The clock stood at 0 when Claude asked: the deadline recorded is the timeout from then.
    expect((requested!.data as { expiresAt: string }).expiresAt).toBe(new Date(approvalTimeoutMs).toISOString())

    await w.adjust(approvalTimeoutMs - 1)
    expect(await w.events(sessionId, "ApprovalDecided")).toEqual([])
    expect((await w.state(sessionId)).status).toBe("waiting_approval")
    expect(answered.settled).toBe(false)

    await w.adjust(1)
    expect(await answer).toEqual({ behavior: "deny", message: `no decision within ${approvalTimeoutMs} ms` })
    const [decided] = await w.events(sessionId, "ApprovalDecided")
    expect(decided!.data).toMatchObject({
      decision: "deny",
      decidedBy: "agentlog",
      reason: "timeout",
      message: `no decision within ${approvalTimeoutMs} ms`
    })
    const s = await w.state(sessionId)
    expect(s.status).toBe("running")
    expect(s.pending.size).toBe(0)
  })
})

describe("the interrupt grace, on the supervisor's clock", () => {
  it("kills a Claude that ignores the interrupt only once the grace period has passed", async () => {
    const w = (world = await startWorld({ stopsOnInterrupt: false }))
    const sessionId = await w.launch()
    const run = await w.claude.next()
    await w.command({ kind: "RequestInterrupt", sessionId, requestedBy: "dave" })
    await run.interrupted

    await w.adjust(interruptGraceMs - 1)
    expect(run.kills).toBe(0)
    expect((await w.state(sessionId)).status).toBe("running")

    await w.adjust(1)
    expect(run.kills).toBe(1)
    expect((await w.waitFor(sessionId, ended)).status).toBe("interrupted")
  })

  it("a Claude that stops on the interrupt is never killed afterwards", async () => {
    const w = (world = await startWorld({ stopsOnInterrupt: true }))
    const sessionId = await w.launch()
    const run = await w.claude.next()
    await w.command({ kind: "RequestInterrupt", sessionId, requestedBy: "dave" })
    expect((await w.waitFor(sessionId, ended)).status).toBe("interrupted")
    await w.adjust(interruptGraceMs * 2)
    expect(run.kills).toBe(0)
  })
})

describe("appends retried while the store is unavailable, on the supervisor's clock", () => {
  /** A running session whose Claude says something while the store is down; times are from the first attempt. */
  const messageInOutage = async () => {
    const w = (world = await startWorld())
    const sessionId = await w.launch()
    const run = await w.claude.next()
    w.outage.down = true
    const said = run.hooks.onMessage(systemInit("claude-1"))
    const recorded = watch(said)
    await w.outage.refused(1)
    const t0 = w.outage.attempts[0]!.at
    const messageAttempts = () => w.outage.attempts.filter((a) => a.types.includes("ClaudeSystemEvent")).map((a) => a.at - t0)
    return { w, sessionId, run, said, recorded, messageAttempts }
  }

  it("a Claude message is appended again on the backoff schedule, and the run goes on once the store answers", async () => {
    const { w, sessionId, run, said, recorded, messageAttempts } = await messageInOutage()

    await w.adjust(99)
    expect(messageAttempts()).toEqual([0])
    await w.adjust(1)
    await w.adjust(200)
    // Capped exponential backoff from 100 ms (src/backoff.ts): 100 ms, then 200 ms later.
    expect(messageAttempts()).toEqual([0, 100, 300])

    w.outage.down = false
    await w.adjust(399)
    expect(recorded.settled).toBe(false)
    expect(await w.events(sessionId, "ClaudeSystemEvent")).toEqual([])
    await w.adjust(1)
    await said
    expect(await w.events(sessionId, "ClaudeSystemEvent")).toHaveLength(1)
    expect(run.kills).toBe(0)

    const result = resultMessage("claude-1", 0.01)
    await run.hooks.onMessage(result)
    run.end({ result })
    expect((await w.waitFor(sessionId, ended)).status).toBe("completed")
  })

  it("gives up on a Claude message after storeRetryMs: the run is stopped, and recorded as failed once the store is back", async () => {
    const { w, sessionId, run, said, recorded: given, messageAttempts } = await messageInOutage()

    // The last retry is the first one due after storeRetryMs (1000 ms): at 1500 ms.
    await w.adjust(1_499)
    expect(messageAttempts()).toEqual([0, 100, 300, 700])
    expect(run.kills).toBe(0)
    expect(given.settled).toBe(false)

    await w.adjust(1)
    await said
    expect(messageAttempts()).toEqual([0, 100, 300, 700, 1_500])
    expect(run.kills).toBe(1)
    // Then the end of the run, which is retried for as long as the store is down.
    expect(w.outage.attempts.at(-1)!.types).toEqual(["RunFailed"])

    w.outage.down = false
    await w.adjust(10_000)
    const s = await w.waitFor(sessionId, ended)
    expect(s.status).toBe("failed")
    const [failed] = await w.events(sessionId, "RunFailed")
    expect((failed!.data as { error: string }).error).toMatch(/^could not record a Claude message: event store unavailable: the test switched the store off/)
    expect(await w.events(sessionId, "ClaudeSystemEvent")).toEqual([])
  })
})

describe("seen(), on the caller's clock", () => {
  it("is true for what the subscription has handled, and false exactly at the deadline for what it has not", async () => {
    const w = (world = await startWorld())
    const sessionId = await w.launch()
    await w.claude.next()
    const head = (await Effect.runPromise(w.store.headPosition()))!
    // The clock stands still: true means the subscription got there, not a deadline.
    expect(await w.onClock(w.supervisor.seen(head, 5_000))).toBe(true)

    const ahead = { commit: head.commit + 1_000n, prepare: head.prepare + 1_000n }
    const answer = w.onClock(w.supervisor.seen(ahead, 5_000))
    const answered = watch(answer)
    await w.adjust(4_999)
    expect(answered.settled).toBe(false)
    await w.adjust(1)
    expect(await answer).toBe(false)
    expect((await w.state(sessionId)).status).toBe("running")
  })
})
