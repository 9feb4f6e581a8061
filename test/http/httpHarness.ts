// The whole service over real HTTP on 127.0.0.1:0: the embedded event store, the real
// SessionCommands, the real projections and read models, and the real supervisor with a
// `claude` that does not exist (every run fails fast with RunFailed: these tests are
// about HTTP). Sessions in other states are driven directly through SessionCommands, as
// the supervisor would. close() stops everything it started.
import { randomUUID } from "node:crypto"
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Layer, ManagedRuntime, Stream } from "effect"
import { makeSessionCommands, type SessionCommandsShape } from "../../src/commands/sessionCommands.ts"
import type { SessionCommand } from "../../src/domain/sessionDecider.ts"
import type { SessionOptions } from "../../src/domain/sessionOptions.ts"
import type { Session } from "../../src/domain/sessionState.ts"
import { EventStore, type EventStoreShape, type RecordedEvent } from "../../src/eventstore/eventStore.ts"
import { makeSqliteEventStore } from "../../src/eventstore/sqliteEventStore.ts"
import { createApp, type HttpConfig, type HttpDeps } from "../../src/http/app.ts"
import { startHttpServer, type HttpServer } from "../../src/http/server.ts"
import type { Logger, LogLevel } from "../../src/log.ts"
import { makeSupervisor, type SupervisorShape } from "../../src/process/supervisor.ts"
import { Projections, ReadModels, ReadSideLive } from "../../src/projections/readSide.ts"
import type { ProjectionsShape } from "../../src/projections/projectionsService.ts"
import type { ReadModelsShape } from "../../src/projections/readModels.ts"
import { checkResponse } from "../support/openApiCheck.ts"

export interface LogLine {
  readonly level: LogLevel
  readonly msg: string
  readonly fields: Record<string, unknown>
}

export interface Harness {
  readonly url: string
  readonly dataDir: string
  readonly store: EventStoreShape
  readonly commands: SessionCommandsShape
  readonly supervisor: SupervisorShape
  readonly projections: ProjectionsShape
  readonly readModels: ReadModelsShape
  readonly logs: Array<LogLine>
  readonly server: HttpServer
  /** Stops the HTTP server and starts a new app and server on the same data (a restart of the API). */
  restartHttp(): Promise<void>
  /** fetch relative to the server, with the token when the harness has one (unless headers say otherwise). */
  fetch(path: string, init?: RequestInit & { json?: unknown; token?: string | null }): Promise<Response>
  /** Runs a command as the supervisor would; returns the outcome. */
  command(command: SessionCommand): Promise<{ revision: bigint | null; state: Session }>
  /** A session created directly (not submitted to the supervisor): status queued. */
  seedSession(options?: SessionOptions, query?: string): Promise<{ sessionId: string; runId: string }>
  /** A session whose run started: status running. */
  seedRunning(options?: SessionOptions): Promise<{ sessionId: string; runId: string }>
  /** A running session whose Claude conversation is bound, then completed (forkable, continuable). */
  seedCompleted(): Promise<{ sessionId: string; runId: string; claudeSessionId: string }>
  events(sessionId: string): Promise<ReadonlyArray<RecordedEvent>>
  waitForStatus(sessionId: string, status: string, timeoutMs?: number): Promise<Session>
  /** Kills every hanging `claude` this harness started (their runs then fail). */
  killClaudes(): void
  /** Waits until the read models have applied everything in the store. */
  caughtUp(): Promise<void>
  close(): Promise<void>
}

export interface HarnessOptions {
  readonly config?: Partial<HttpConfig>
  readonly maxRunning?: number
  readonly maxQueued?: number
  /** Runs use a `claude` that starts and never answers (instead of one that does not exist). */
  readonly hangingClaude?: boolean
  /** Replaces parts of the app's dependencies (failing stores, lagging projections, …). */
  readonly wrap?: (deps: HttpDeps) => HttpDeps
  /** Another event store than the embedded one (closed with the harness). */
  readonly store?: EventStoreShape
}

const hangingClaude = (dir: string): string => {
  const file = join(dir, "hanging-claude")
  writeFileSync(file, `#!/bin/sh\necho $$ >> ${JSON.stringify(join(dir, "claude.pids"))}\nexec sleep 600\n`)
  chmodSync(file, 0o755)
  return file
}

const supervisorCtx = (runId: string) => ({ correlationId: runId, source: "supervisor" as const })

export const startHarness = async (options: HarnessOptions = {}): Promise<Harness> => {
  const dataDir = mkdtempSync(join(tmpdir(), "agentlog-http-"))
  const store = options.store ?? await Effect.runPromise(makeSqliteEventStore(dataDir))
  const commands = makeSessionCommands(store)
  const logs: Array<LogLine> = []
  const logger: Logger = { log: (level, msg, fields = {}) => void logs.push({ level, msg, fields }) }
  const supervisor = makeSupervisor(
    commands,
    store,
    {
      maxRunning: options.maxRunning ?? 4,
      ...(options.maxQueued !== undefined ? { maxQueued: options.maxQueued } : {}),
      claudePath: options.hangingClaude ? hangingClaude(dataDir) : join(dataDir, "no-such-claude"),
      supervisorId: "http-test",
      approvalTimeoutMs: 60_000,
      interruptGraceMs: 1_000,
      env: {}
    },
    logger
  )
  const runtime = ManagedRuntime.make(ReadSideLive(dataDir).pipe(Layer.provide(Layer.succeed(EventStore)(store))))
  const { projections, readModels } = await runtime.runPromise(
    Effect.gen(function* () {
      return { projections: yield* Projections, readModels: yield* ReadModels }
    })
  )
  const config: HttpConfig = {
    maxBodyBytes: 1_048_576,
    readWaitMs: 5_000,
    heartbeatMs: 15_000,
    dataDir,
    ...options.config
  }
  const deps: HttpDeps = { commands, supervisor, store, projections, readModels, config, logger }
  const serve = () => startHttpServer(createApp(options.wrap ? options.wrap(deps) : deps), { host: "127.0.0.1", port: 0 })
  let server = await serve()

  const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e)
  const command = async (c: SessionCommand) => {
    const o = await run(commands.handle(c, supervisorCtx("runId" in c ? String(c.runId) : "seed")))
    return { revision: o.revision, state: o.state }
  }
  const seedSession = async (opts: SessionOptions = {}, query = "hello") => {
    const sessionId = randomUUID()
    const runId = randomUUID()
    await command({ kind: "LaunchSession", sessionId, runId, query, options: opts })
    return { sessionId, runId }
  }
  const seedRunning = async (opts: SessionOptions = {}) => {
    const s = await seedSession(opts)
    await command({ kind: "StartRun", sessionId: s.sessionId, runId: s.runId, supervisorId: "elsewhere" })
    return s
  }
  const bind = async (sessionId: string, runId: string) => {
    const claudeSessionId = randomUUID()
    await command({
      kind: "RecordClaudeMessage",
      sessionId,
      runId,
      message: { type: "system", subtype: "init", session_id: claudeSessionId, uuid: randomUUID() }
    })
    return claudeSessionId
  }

  const fetchIt: Harness["fetch"] = async (path, init = {}) => {
    const { json, token, ...rest } = init
    const headers = new Headers(rest.headers)
    const useToken = token === undefined ? config.apiToken : token
    if (useToken && !headers.has("authorization")) headers.set("authorization", `Bearer ${useToken}`)
    if (json !== undefined && !headers.has("content-type")) headers.set("content-type", "application/json")
    const res = await fetch(`${harness.url}${path}`, {
      ...rest,
      headers,
      ...(json !== undefined ? { body: JSON.stringify(json) } : {})
    })
    // Every answer a test gets must be one the OpenAPI document describes.
    await checkResponse(rest.method ?? "GET", res)
    return res
  }

  const harness: Harness = {
    get url() {
      return server.url
    },
    dataDir,
    store,
    commands,
    supervisor,
    projections,
    readModels,
    logs,
    get server() {
      return server
    },
    async restartHttp() {
      await server.close()
      server = await serve()
    },
    fetch: fetchIt,
    command,
    seedSession,
    seedRunning,
    async seedCompleted() {
      const s = await seedRunning()
      const claudeSessionId = await bind(s.sessionId, s.runId)
      await command({
        kind: "FinishRun",
        sessionId: s.sessionId,
        runId: s.runId,
        outcome: { kind: "completed", totalCostUsd: 0.01, runCostUsd: 0.01, usage: {}, numTurns: 1, durationMs: 5 }
      })
      return { ...s, claudeSessionId }
    },
    events: (sessionId) => run(Stream.runCollect(store.readStream(`session-${sessionId}`))),
    async waitForStatus(sessionId, status, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const s = (await run(commands.load(sessionId))).state
        if (s && s.status === status) return s
        if (Date.now() > deadline) throw new Error(`session ${sessionId} is ${s?.status}, not ${status}`)
        await new Promise((r) => setTimeout(r, 20))
      }
    },
    killClaudes() {
      const file = join(dataDir, "claude.pids")
      if (!existsSync(file)) return
      for (const pid of readFileSync(file, "utf8").split("\n").filter(Boolean)) {
        try {
          process.kill(Number(pid), "SIGKILL")
        } catch {
          // already gone
        }
      }
    },
    async caughtUp() {
      const head = await run(store.headPosition())
      if (head === null) return
      const ok = await run(projections.waitForPosition(head, 10_000))
      if (!ok) throw new Error("read models did not catch up")
    },
    async close() {
      harness.killClaudes()
      await server.close()
      await supervisor.shutdown()
      await runtime.dispose()
      await run(store.close())
      rmSync(dataDir, { recursive: true, force: true })
    }
  }
  return harness
}

/** A problem+json body, checked for its shape. */
export const problemOf = async (r: Response): Promise<Record<string, unknown>> => {
  const ct = r.headers.get("content-type") ?? ""
  if (!ct.startsWith("application/problem+json")) throw new Error(`expected problem+json, got ${ct}: ${await r.text()}`)
  return (await r.json()) as Record<string, unknown>
}
