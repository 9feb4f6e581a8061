// Composition: one AppLive layer (config -> event store -> write side, read side ->
// supervisor -> HTTP), run by a ManagedRuntime (src/main.ts). Each part is a layer of its
// own so that a test builds the same program with a part swapped (its own store, an idle
// supervisor, failing dependencies), never a copy of the wiring. Closing the runtime
// undoes it in reverse: HTTP stops taking requests, the supervisor interrupts its runs,
// the projections apply what those runs appended and checkpoint, the store closes.
import { randomUUID } from "node:crypto"
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Context, Effect, Layer, Logger as EffectLogger, ManagedRuntime } from "effect"
import { makeSessionCommands, SessionCommands } from "./commands/sessionCommands.ts"
import { claudeEnv, type Config } from "./config.ts"
import { prepareDataDir } from "./dataDir.ts"
import { EventStore, EventStoreFailure } from "./eventstore/eventStore.ts"
import { openEventStore } from "./eventstore/openEventStore.ts"
import { createApp, type HttpDeps } from "./http/app.ts"
import { type HttpServer, startHttpServer } from "./http/server.ts"
import { errorText, type Logger } from "./log.ts"
import { fileCheckpoint } from "./process/checkpoint.ts"
import { bypassPermissionsUnavailable } from "./process/claudePreflight.ts"
import { makeRunPidFiles } from "./process/runPidFiles.ts"
import { protectionFor } from "./process/sandbox.ts"
import { makeRunSecrets, type RunSecrets as RunSecretsShape } from "./process/runSecrets.ts"
import { makeSupervisor, Supervisor, type SupervisorConfig, type SupervisorShape } from "./process/supervisor.ts"
import { startKeyRecorder } from "./principals/keyEvents.ts"
import { makeKeyRing } from "./principals/keyRing.ts"
import { Projections, ReadModels, ReadSideLive } from "./projections/readSide.ts"
import { startWebhooks, Webhooks } from "./webhooks/webhooks.ts"

/** What the program is started with: the configuration, where it logs, Claude's environment. */
export interface AppSettings {
  readonly config: Config
  readonly logger: Logger
  /** The environment Claude's is derived from (the service's own by default). */
  readonly env?: NodeJS.ProcessEnv
  /** Test seam: the supervisor as configured, with these fields replaced. */
  readonly supervisor?: Partial<SupervisorConfig>
  /** Test seam: the HTTP app's dependencies, replaced in part (failing stores, lagging read models). */
  readonly wrapHttp?: (deps: HttpDeps) => HttpDeps
}

export class App extends Context.Service<App, AppSettings>()("agentlog/App") {}
export class RunSecrets extends Context.Service<RunSecrets, RunSecretsShape>()("agentlog/RunSecrets") {}
export class Http extends Context.Service<Http, HttpServer>()("agentlog/Http") {}

/** A stable id for this instance's data dir: recovery abandons only runs this instance started. */
const instanceId = (dataDir: string): string => {
  const file = join(dataDir, "instance-id")
  try {
    return readFileSync(file, "utf8").trim()
  } catch {
    const id = randomUUID()
    writeFileSync(file, id + "\n")
    return id
  }
}

export const EventStoreLive = Layer.effect(
  EventStore,
  Effect.gen(function* () {
    const { config, logger } = yield* App
    yield* Effect.try({
      try: () => prepareDataDir(config.dataDir),
      catch: (e) => new EventStoreFailure({ reason: `cannot create the data dir ${config.dataDir}: ${errorText(e)}` })
    })
    const store = yield* Effect.acquireRelease(openEventStore(config.eventStore, config.dataDir), (s) => s.close())
    logger.log("info", "event store open", { store: config.eventStore === "sqlite" ? "embedded" : "esdb", dataDir: config.dataDir })
    return store
  })
)

export const SessionCommandsLive = Layer.effect(
  SessionCommands,
  Effect.gen(function* () {
    const { config } = yield* App
    const readModels = yield* ReadModels
    return makeSessionCommands(yield* EventStore, { instanceId: instanceId(config.dataDir), snapshot: readModels.sessionSnapshot })
  })
)

export const ReadSideAppLive = Layer.unwrap(Effect.map(App, ({ config }) => ReadSideLive(config.dataDir)))

export const RunSecretsLive = Layer.sync(RunSecrets, makeRunSecrets)

/** Lets the projections apply what the last runs appended before their checkpoint closes. */
const drainProjections = Effect.gen(function* () {
  const store = yield* EventStore
  const projections = yield* Projections
  const head = yield* Effect.orElseSucceed(store.headPosition(), () => null)
  if (head) yield* projections.waitForPosition(head, 2_000)
})

export const SupervisorLive = Layer.effect(
  Supervisor,
  Effect.gen(function* () {
    const { config, logger, env, supervisor: overrides } = yield* App
    const protection = protectionFor(config.sandbox)
    logger.log(protection.enabled ? "info" : "warn", "claude's commands sandboxed", { ...protection })
    const services = yield* Effect.context<never>()
    const supervisor = makeSupervisor(
      yield* SessionCommands,
      yield* EventStore,
      {
        maxRunning: config.maxRunning,
        claudePath: config.claudePath,
        supervisorId: instanceId(config.dataDir),
        approvalTimeoutMs: config.approvalTimeoutMs,
        interruptGraceMs: config.interruptGraceMs,
        storeRetryMs: config.storeRetryMs,
        env: claudeEnv(env ?? process.env),
        maxQueued: config.maxQueued,
        policy: {
          protection,
          privatePaths: [
            config.dataDir,
            ...(config.keysFile.startsWith(join(config.dataDir, "/")) ? [] : [config.keysFile]),
            ...(config.apiTokenFile ? [config.apiTokenFile] : [])
          ],
          allowUnsandboxedBypass: config.allowUnsandboxedBypass,
          mcpEnvAllow: config.mcpEnvAllow
        },
        pidFiles: makeRunPidFiles(join(config.dataDir, "runs")),
        checkpoint: fileCheckpoint(join(config.dataDir, "supervisor-checkpoint.json")),
        workspaceRoot: config.workspaceRoot,
        ...overrides
      },
      logger,
      yield* RunSecrets,
      services
    )
    const drain = Effect.orElseSucceed(drainProjections, () => false)
    yield* Effect.acquireRelease(
      supervisor.start,
      () => Effect.andThen(supervisor.shutdown, drain)
    )
    return supervisor
  })
)

/** Webhook delivery (src/webhooks): its fibers run until the layer is released. */
export const WebhooksLive = Layer.effect(
  Webhooks,
  Effect.gen(function* () {
    const { config, logger } = yield* App
    return yield* startWebhooks({ store: yield* EventStore, logger, config: config.webhooks, dataDir: config.dataDir })
  })
)

export const HttpLive = Layer.effect(
  Http,
  Effect.gen(function* () {
    const { config, logger, env, wrapHttp } = yield* App
    const deps: HttpDeps = {
      commands: yield* SessionCommands,
      supervisor: yield* Supervisor,
      runSecrets: yield* RunSecrets,
      store: yield* EventStore,
      projections: yield* Projections,
      readModels: yield* ReadModels,
      webhooks: yield* Webhooks,
      config: {
        apiToken: config.apiToken,
        keysFile: config.keysFile,
        hostGuard: { bindHost: config.host, allowedHosts: config.allowedHosts, corsOrigins: config.corsOrigins },
        maxBodyBytes: config.maxBodyBytes,
        readWaitMs: config.readWaitMs,
        heartbeatMs: config.heartbeatMs,
        sseStallMs: config.sseStallMs,
        bypassPermissionsUnavailable: bypassPermissionsUnavailable(process.getuid?.(), claudeEnv(env ?? process.env)),
        dataDir: config.dataDir,
        workspaceDefault: config.workspace
      },
      logger
    }
    const http = yield* Effect.acquireRelease(
      Effect.promise(() => startHttpServer(createApp(wrapHttp ? wrapHttp(deps) : deps), {
          host: config.host,
          port: config.port,
          limits: { maxConnections: config.maxConnections, maxConnectionsPerClient: config.maxConnectionsPerClient }
        })),
      (s) =>
        Effect.promise(async () => {
          logger.log("info", "shutting down")
          await s.close()
        })
    )
    // Key changes go into the store's keys stream (src/principals/keyEvents.ts).
    const keys = makeKeyRing(config.keysFile, (message) => logger.log("error", message))
    yield* Effect.acquireRelease(
      Effect.sync(() => startKeyRecorder(deps.store, keys, (msg, fields) => logger.log("info", msg, fields))),
      (r) => Effect.sync(r.stop)
    )
    logger.log("info", "agentlog listening", { url: http.url, maxRunning: config.maxRunning, auth: config.apiToken !== undefined })
    return http
  })
)

/** Effect's own log calls (the projections') go to the same JSON lines as everything else. */
const EffectLogsLive = Layer.unwrap(
  Effect.map(App, ({ logger }) =>
    EffectLogger.layer([
      EffectLogger.make<unknown, void>(({ message, logLevel }) => {
        const level = logLevel === "Error" || logLevel === "Fatal" ? "error" : logLevel === "Warn" ? "warn" : logLevel === "Info" ? "info" : "debug"
        const parts = Array.isArray(message) ? message : [message]
        logger.log(level, parts.map((p) => (typeof p === "string" ? p : JSON.stringify(p))).join(" "))
      })
    ])
  )
)

export interface AppParts {
  readonly store?: Layer.Layer<EventStore, unknown, App>
  readonly supervisor?: Layer.Layer<Supervisor, unknown, App | EventStore | SessionCommands | RunSecrets | Projections>
}

/** Everything but HTTP: the store, both sides, the supervisor (the parts given replace the real ones). */
export const coreLayer = (parts: AppParts = {}) =>
  Layer.mergeAll(parts.supervisor ?? SupervisorLive, WebhooksLive).pipe(
    Layer.provideMerge(Layer.mergeAll(SessionCommandsLive.pipe(Layer.provideMerge(ReadSideAppLive)), RunSecretsLive)),
    Layer.provideMerge(parts.store ?? EventStoreLive),
    Layer.provide(EffectLogsLive)
  )

/** The whole program. */
export const appLayer = (parts: AppParts = {}) => HttpLive.pipe(Layer.provideMerge(coreLayer(parts)))

export const AppLive = appLayer()

export interface RunningService {
  readonly url: string
  readonly supervisor: SupervisorShape
  /** Stops taking requests, lets runs end as interrupted, checkpoints, closes the store. */
  readonly stop: () => Promise<void>
}

/** Runs AppLive until stop(): for the entry point and for tests that start the service in process. */
export const startService = async (settings: AppSettings, parts: AppParts = {}): Promise<RunningService> => {
  const runtime = ManagedRuntime.make(appLayer(parts).pipe(Layer.provide(Layer.succeed(App)(settings))))
  const { http, supervisor } = await runtime.runPromise(
    Effect.gen(function* () {
      return { http: yield* Http, supervisor: yield* Supervisor }
    })
  ).catch(async (e: unknown) => {
    await runtime.dispose()
    throw e
  })
  let stopping: Promise<void> | undefined
  const stop = () =>
    (stopping ??= runtime.dispose().then(() => settings.logger.log("info", "stopped")))
  return { url: http.url, supervisor, stop }
}
