// The supervisor as the service runs it (the same layers: store, write side, read side,
// supervisor), on a fresh embedded store, with a scripted fake Messages API and the real
// `claude` binary. Commands are appended as the HTTP handlers append them; the supervisor
// reacts to the store. Everything it starts, close() stops.
import { randomUUID } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Layer, ManagedRuntime, Stream } from "effect"
import { TestClock } from "effect/testing"
import { SessionCommands, type CommandOutcome, type CommandError, type SessionCommandsShape } from "../../src/commands/sessionCommands.ts"
import { loadConfig } from "../../src/config.ts"
import { freshState } from "./freshState.ts"
import { openPolicy } from "../../src/process/sandbox.ts"
import type { SessionCommand } from "../../src/domain/sessionDecider.ts"
import type { SessionOptions } from "../../src/domain/sessionOptions.ts"
import type { Session, SessionStatus } from "../../src/domain/sessionState.ts"
import { EventStore, type Position, type RecordedEvent } from "../../src/eventstore/eventStore.ts"
import { makeSqliteEventStore, type SqliteEventStore } from "../../src/eventstore/sqliteEventStore.ts"
import { silentLogger, type Logger } from "../../src/log.ts"
import type { RunSecrets as RunSecretsShape } from "../../src/process/runSecrets.ts"
import { Supervisor, type SupervisorConfig, type SupervisorShape } from "../../src/process/supervisor.ts"
import { App, coreLayer, RunSecrets } from "../../src/service.ts"
import { testClockRuntime } from "./testClockRuntime.ts"
import { claudeBinaryPath, makeClaudeEnv, type ClaudeEnv } from "./claudeEnv.ts"
import { startFakeAnthropic, type FakeAnthropic, type Turn } from "./fakeAnthropic.ts"
import { waitForEvents } from "./waitFor.ts"

export interface SupervisorHarness {
  readonly fake: FakeAnthropic
  readonly claude: ClaudeEnv
  readonly store: SqliteEventStore
  readonly commands: SessionCommandsShape
  readonly supervisor: SupervisorShape
  readonly secrets: RunSecretsShape
  readonly dataDir: string
  launch(query: string, options?: SessionOptions): Promise<{ sessionId: string; runId: string; position: Position }>
  continueSession(sessionId: string, query: string, overrides?: SessionOptions): Promise<string>
  /** A fork from the parent's end, or from one of its Claude messages (`atMessage`, its uuid). */
  fork(parentSessionId: string, query: string, atMessage?: string): Promise<{ sessionId: string; runId: string }>
  /** A command as the API would append it. */
  command(command: SessionCommand): Effect.Effect<CommandOutcome, CommandError>
  state(sessionId: string): Promise<Session>
  waitFor(sessionId: string, until: (s: Session) => boolean, timeoutMs?: number): Promise<Session>
  waitForStatus(sessionId: string, statuses: ReadonlyArray<SessionStatus>, timeoutMs?: number): Promise<Session>
  events(sessionId: string): Promise<ReadonlyArray<RecordedEvent>>
  types(sessionId: string): Promise<ReadonlyArray<string>>
  /** Moves the supervisor's TestClock on (only with `parts.testClock`). */
  adjust(ms: number): Promise<void>
  /** Stops the supervisor and starts another one on the same store and data dir (a restart). */
  restart(config?: Partial<SupervisorConfig>): Promise<void>
  close(): Promise<void>
}

export const api = { correlationId: "test", source: "api" } as const

export interface HarnessParts {
  readonly logger?: Logger
  /** Another data dir (a second instance on the same store gets its own). */
  readonly dataDir?: string
  /** Share another harness's store (two instances on one store). */
  readonly store?: SqliteEventStore
  /** The supervisor's timers (approval timeouts, the interrupt grace, retries) on a TestClock that only adjust() moves. */
  readonly testClock?: boolean
}

export const startSupervisorHarness = async (
  script: Array<Turn>,
  config: Partial<SupervisorConfig> = {},
  parts: HarnessParts = {}
): Promise<SupervisorHarness> => {
  const fake = await startFakeAnthropic(script)
  const claude = makeClaudeEnv(fake.url)
  const dataDir = parts.dataDir ?? mkdtempSync(join(tmpdir(), "agentlog-sup-"))
  const store = parts.store ?? (await Effect.runPromise(makeSqliteEventStore(dataDir)))
  const settings = (overrides: Partial<SupervisorConfig>) => ({
    config: { ...loadConfig({ AGENTLOG_DATA_DIR: dataDir }), maxRunning: 4, approvalTimeoutMs: 30_000, interruptGraceMs: 5_000 },
    logger: parts.logger ?? silentLogger,
    // Runs are not fenced unless a test gives a policy (the sandbox has tests of its own).
    supervisor: { claudePath: claudeBinaryPath, env: claude.env, policy: openPolicy, ...config, ...overrides }
  })
  const build = (overrides: Partial<SupervisorConfig>) => {
    const eventStore = Layer.succeed(EventStore)(store)
    const app = Layer.succeed(App)(settings(overrides))
    if (!parts.testClock) return ManagedRuntime.make(coreLayer({ store: eventStore }).pipe(Layer.provide(app)))
    return testClockRuntime(store, settings(overrides))
  }
  let runtime = build({})
  const services = () =>
    runtime.runPromise(
      Effect.gen(function* () {
        return { commands: yield* SessionCommands, supervisor: yield* Supervisor, secrets: yield* RunSecrets }
      })
    )
  let s = await services()
  const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e)

  const state = (sessionId: string) => freshState(s.commands, sessionId)
  const waitFor = (sessionId: string, until: (s: Session) => boolean, timeoutMs = 45_000) => {
    let last: Session | undefined
    return waitForEvents(
      `session ${sessionId}`,
      store,
      `session-${sessionId}`,
      async () => {
        last = await state(sessionId)
        return until(last) ? last : undefined
      },
      { timeoutMs }
    ).catch((e: unknown) => {
      throw new Error(`${String(e)}; it is ${last?.status}`)
    })
  }
  const events = (sessionId: string) => run(Stream.runCollect(store.readStream(`session-${sessionId}`)))
  /** Appends as the HTTP handler does: secrets left for the supervisor first. */
  const queueRun = async (runId: string, options: SessionOptions, command: SessionCommand) => {
    s.secrets.put(runId, options)
    return (await run(s.commands.handle(command, api))).position!
  }

  /** A run in bypass carries its end, as the HTTP edge gives it (15 minutes). */
  const grant = (o: SessionOptions) =>
    o.permissionMode === "bypassPermissions" ? { bypass: { expiresAt: new Date(Date.now() + 15 * 60_000).toISOString(), grantedBy: "api" } } : {}

  const harness: SupervisorHarness = {
    fake,
    claude,
    store,
    get commands() {
      return s.commands
    },
    get supervisor() {
      return s.supervisor
    },
    get secrets() {
      return s.secrets
    },
    dataDir,
    async launch(query, options = {}) {
      const sessionId = randomUUID()
      const runId = randomUUID()
      const opts = { cwd: claude.cwd, ...options }
      const position = await queueRun(runId, opts, { kind: "LaunchSession", sessionId, runId, query, options: opts, ...grant(opts) })
      return { sessionId, runId, position }
    },
    async continueSession(sessionId, query, overrides = {}) {
      const runId = randomUUID()
      await queueRun(runId, overrides, { kind: "ContinueSession", sessionId, runId, query, overrides, ...grant(overrides) })
      return runId
    },
    async fork(parentSessionId, query, atMessage) {
      const parent = await state(parentSessionId)
      const sessionId = randomUUID()
      const runId = randomUUID()
      await queueRun(runId, {}, {
        kind: "ForkSession",
        sessionId,
        runId,
        parentSessionId,
        parentClaudeSessionId: parent.claudeSessionId!,
        ...(atMessage === undefined ? {} : { atMessage }),
        query,
        options: parent.options,
        ...grant(parent.options)
      })
      return { sessionId, runId }
    },
    command: (command) => s.commands.handle(command, api),
    state,
    waitFor,
    waitForStatus: (sessionId, statuses, timeoutMs) => waitFor(sessionId, (st) => statuses.includes(st.status), timeoutMs),
    events,
    types: async (sessionId) => (await events(sessionId)).map((e) => e.type),
    adjust: (ms) => (parts.testClock ? runtime.runPromise(TestClock.adjust(ms)) : Promise.reject(new Error("the harness runs on the real clock"))),
    async restart(overrides = {}) {
      await runtime.dispose()
      runtime = build(overrides)
      s = await services()
    },
    async close() {
      await runtime.dispose()
      if (!parts.store) await Effect.runPromise(store.close())
      await fake.close()
      claude.cleanup()
      if (!parts.dataDir) rmSync(dataDir, { recursive: true, force: true })
    }
  }
  return harness
}
