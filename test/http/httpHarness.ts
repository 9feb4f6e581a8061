// The whole service over real HTTP on 127.0.0.1:0, built from the service's own layers
// (appLayer) with test parts swapped in: its own embedded store (so tests can seed and
// inspect it), a logger that keeps the lines, a `claude` that does not exist (every run
// fails fast with RunFailed: these tests are about HTTP), and optionally an idle
// supervisor (for tests that seed queued sessions and need them to stay queued). Sessions
// in other states are seeded directly in the store, as another instance would leave them.
// close() stops everything it started.
import { randomUUID } from "node:crypto"
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Layer, ManagedRuntime, Stream } from "effect"
import { makeSessionCommands, SessionCommands, type SessionCommandsShape } from "../../src/commands/sessionCommands.ts"
import { loadConfig } from "../../src/config.ts"
import type { SessionCommand } from "../../src/domain/sessionDecider.ts"
import type { SessionOptions } from "../../src/domain/sessionOptions.ts"
import type { Session } from "../../src/domain/sessionState.ts"
import { EventStore, type EventStoreShape, type RecordedEvent } from "../../src/eventstore/eventStore.ts"
import { makeSqliteEventStore } from "../../src/eventstore/sqliteEventStore.ts"
import type { HttpConfig, HttpDeps } from "../../src/http/app.ts"
import type { HttpServer } from "../../src/http/server.ts"
import type { Logger, LogLevel } from "../../src/log.ts"
import { Supervisor, type SupervisorShape } from "../../src/process/supervisor.ts"
import type { ProjectionsShape } from "../../src/projections/projectionsService.ts"
import type { ReadModelsShape } from "../../src/projections/readModels.ts"
import { Projections, ReadModels } from "../../src/projections/readSide.ts"
import { App, type AppSettings, coreLayer, Http, HttpLive } from "../../src/service.ts"
import type { WebhooksConfig } from "../../src/webhooks/webhooks.ts"
import { checkResponse } from "../support/openApiCheck.ts"
import { waitForEvents } from "../support/waitFor.ts"

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
  /** Runs a command as another instance's supervisor would; returns the outcome. */
  command(command: SessionCommand): Promise<{ revision: bigint | null; state: Session }>
  /** A session another instance launched (this one's supervisor leaves it): status queued. */
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
  /** Webhook delivery settings replacing the configured ones (short retries for tests). */
  readonly webhooks?: Partial<WebhooksConfig>
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
  const store = options.store ?? (await Effect.runPromise(makeSqliteEventStore(dataDir)))
  const logs: Array<LogLine> = []
  const logger: Logger = { log: (level, msg, fields = {}) => void logs.push({ level, msg, fields }) }
  const http = options.config ?? {}
  const settings: AppSettings = {
    config: {
      ...loadConfig({ AGENTLOG_DATA_DIR: dataDir, AGENTLOG_HOST: "127.0.0.1", AGENTLOG_PORT: "0" }),
      maxRunning: options.maxRunning ?? 4,
      ...(options.maxQueued !== undefined ? { maxQueued: options.maxQueued } : {}),
      claudePath: options.hangingClaude ? hangingClaude(dataDir) : join(dataDir, "no-such-claude"),
      approvalTimeoutMs: 60_000,
      interruptGraceMs: 1_000,
      ...(options.webhooks ? { webhooks: { ...loadConfig({ AGENTLOG_DATA_DIR: dataDir }).webhooks, ...options.webhooks } } : {})
    },
    logger,
    env: {},
    // Seeded sessions are another instance's: this one leaves their queued runs alone.
    supervisor: { foreignClaimDelayMs: 3_600_000 },
    // The HTTP settings a test gives replace the configured ones where the app reads them.
    wrapHttp: (deps) => {
      // Whether Claude would refuse bypassPermissions on this machine is a test's choice here, not the host's.
      const d = { ...deps, config: { ...deps.config, bypassPermissionsUnavailable: undefined, ...http } }
      return options.wrap ? options.wrap(d) : d
    }
  }
  const core = ManagedRuntime.make(
    coreLayer({ store: Layer.succeed(EventStore)(store) }).pipe(Layer.provideMerge(Layer.succeed(App)(settings)))
  )
  const ctx = await core.context()
  const { commands, supervisor, projections, readModels } = await core.runPromise(
    Effect.gen(function* () {
      return {
        commands: yield* SessionCommands,
        supervisor: yield* Supervisor,
        projections: yield* Projections,
        readModels: yield* ReadModels
      }
    })
  )
  const serve = async () => {
    const runtime = ManagedRuntime.make(HttpLive.pipe(Layer.provide(Layer.succeedContext(ctx))))
    return { runtime, server: await runtime.runPromise(Http) }
  }
  let served = await serve()
  // Another agentlog instance on the same store: what it appends, this one's supervisor leaves alone.
  const elsewhere = makeSessionCommands(store, { instanceId: "elsewhere" })
  const config: HttpConfig = {
    maxBodyBytes: settings.config.maxBodyBytes,
    readWaitMs: settings.config.readWaitMs,
    heartbeatMs: settings.config.heartbeatMs,
    dataDir,
    ...http
  }

  const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e)
  const command = async (c: SessionCommand) => {
    const o = await run(elsewhere.handle(c, supervisorCtx("runId" in c ? String(c.runId) : "seed")))
    return { revision: o.revision, state: o.state }
  }
  const seedSession = async (opts: SessionOptions = {}, query = "hello") => {
    const sessionId = randomUUID()
    const runId = randomUUID()
    // A launch in bypass carries its end, as the HTTP edge gives it (15 minutes).
    const bypass = opts.permissionMode === "bypassPermissions" ? { bypass: { expiresAt: new Date(Date.now() + 15 * 60_000).toISOString(), grantedBy: "api" } } : {}
    await command({ kind: "LaunchSession", sessionId, runId, query, options: opts, ...bypass })
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
      return served.server.url
    },
    dataDir,
    store,
    commands,
    supervisor,
    projections,
    readModels,
    logs,
    get server() {
      return served.server
    },
    async restartHttp() {
      await served.runtime.dispose()
      served = await serve()
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
    waitForStatus: (sessionId, status, timeoutMs = 10_000) =>
      waitForEvents(
        `session ${sessionId} to be ${status}`,
        store,
        `session-${sessionId}`,
        async () => {
          const s = (await run(elsewhere.load(sessionId, { fresh: true }))).state
          return s && s.status === status ? s : undefined
        },
        { timeoutMs }
      ),
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
      await served.runtime.dispose()
      await core.dispose()
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
