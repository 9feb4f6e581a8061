// The write side and the supervisor, wired to a fresh embedded store and a scripted fake
// Messages API, with the real `claude` binary. Everything it starts, close() stops.
import { randomUUID } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Stream } from "effect"
import { makeSessionCommands, type SessionCommandsShape } from "../../src/commands/sessionCommands.ts"
import type { SessionOptions } from "../../src/domain/sessionOptions.ts"
import type { Session, SessionStatus } from "../../src/domain/sessionState.ts"
import type { RecordedEvent } from "../../src/eventstore/eventStore.ts"
import { makeSqliteEventStore, type SqliteEventStore } from "../../src/eventstore/sqliteEventStore.ts"
import { silentLogger } from "../../src/log.ts"
import { makeSupervisor, type SupervisorConfig, type SupervisorShape } from "../../src/process/supervisor.ts"
import { claudeBinaryPath, makeClaudeEnv, type ClaudeEnv } from "./claudeEnv.ts"
import { startFakeAnthropic, type FakeAnthropic, type Turn } from "./fakeAnthropic.ts"

export interface SupervisorHarness {
  readonly fake: FakeAnthropic
  readonly claude: ClaudeEnv
  readonly store: SqliteEventStore
  readonly commands: SessionCommandsShape
  readonly supervisor: SupervisorShape
  readonly dataDir: string
  launch(query: string, options?: SessionOptions): Promise<{ sessionId: string; runId: string }>
  continueSession(sessionId: string, query: string, overrides?: SessionOptions): Promise<string>
  fork(parentSessionId: string, query: string): Promise<{ sessionId: string; runId: string }>
  state(sessionId: string): Promise<Session>
  waitFor(sessionId: string, until: (s: Session) => boolean, timeoutMs?: number): Promise<Session>
  waitForStatus(sessionId: string, statuses: ReadonlyArray<SessionStatus>, timeoutMs?: number): Promise<Session>
  events(sessionId: string): Promise<ReadonlyArray<RecordedEvent>>
  types(sessionId: string): Promise<ReadonlyArray<string>>
  close(): Promise<void>
}

export const api = { correlationId: "test", source: "api" } as const

export const startSupervisorHarness = async (
  script: Array<Turn>,
  config: Partial<SupervisorConfig> = {}
): Promise<SupervisorHarness> => {
  const fake = await startFakeAnthropic(script)
  const claude = makeClaudeEnv(fake.url)
  const dataDir = mkdtempSync(join(tmpdir(), "agentlog-sup-"))
  const store = await Effect.runPromise(makeSqliteEventStore(dataDir))
  const commands = makeSessionCommands(store)
  const supervisor = makeSupervisor(
    commands,
    store,
    {
      maxRunning: 4,
      claudePath: claudeBinaryPath,
      supervisorId: "test-supervisor",
      approvalTimeoutMs: 30_000,
      interruptGraceMs: 5_000,
      env: claude.env,
      ...config
    },
    silentLogger
  )
  const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e)

  const state = async (sessionId: string) => {
    const s = (await run(commands.load(sessionId))).state
    if (!s) throw new Error(`no session ${sessionId}`)
    return s
  }
  const waitFor = async (sessionId: string, until: (s: Session) => boolean, timeoutMs = 45_000) => {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const s = await state(sessionId)
      if (until(s)) return s
      if (Date.now() > deadline) throw new Error(`session ${sessionId} stuck in ${s.status}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  const events = (sessionId: string) => run(Stream.runCollect(store.readStream(`session-${sessionId}`)))

  return {
    fake,
    claude,
    store,
    commands,
    supervisor,
    dataDir,
    async launch(query, options = {}) {
      const sessionId = randomUUID()
      const runId = randomUUID()
      await run(commands.handle({ kind: "LaunchSession", sessionId, runId, query, options: { cwd: claude.cwd, ...options } }, api))
      supervisor.submit(sessionId, runId, { cwd: claude.cwd, ...options })
      return { sessionId, runId }
    },
    async continueSession(sessionId, query, overrides = {}) {
      const runId = randomUUID()
      await run(commands.handle({ kind: "ContinueSession", sessionId, runId, query, overrides }, api))
      supervisor.submit(sessionId, runId, overrides)
      return runId
    },
    async fork(parentSessionId, query) {
      const parent = await state(parentSessionId)
      const sessionId = randomUUID()
      const runId = randomUUID()
      await run(
        commands.handle(
          {
            kind: "ForkSession",
            sessionId,
            runId,
            parentSessionId,
            parentClaudeSessionId: parent.claudeSessionId!,
            query,
            options: parent.options
          },
          api
        )
      )
      supervisor.submit(sessionId, runId)
      return { sessionId, runId }
    },
    state,
    waitFor,
    waitForStatus: (sessionId, statuses, timeoutMs) => waitFor(sessionId, (s) => statuses.includes(s.status), timeoutMs),
    events,
    types: async (sessionId) => (await events(sessionId)).map((e) => e.type),
    async close() {
      await supervisor.shutdown()
      await Effect.runPromise(store.close())
      await fake.close()
      claude.cleanup()
      rmSync(dataDir, { recursive: true, force: true })
    }
  }
}
