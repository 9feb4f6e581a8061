// Composition: config -> event store -> write side, read side, supervisor -> HTTP.
// startService returns once the API is listening; stop() undoes it in reverse order.
import { randomUUID } from "node:crypto"
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Context, Effect, Exit, Layer, Logger as EffectLogger, Scope } from "effect"
import { SessionCommands, SessionCommandsLive } from "./commands/sessionCommands.ts"
import { claudeEnv, type Config } from "./config.ts"
import { bypassPermissionsUnavailable } from "./process/claudePreflight.ts"
import { prepareDataDir } from "./dataDir.ts"
import { EventStore } from "./eventstore/eventStore.ts"
import { openEventStore } from "./eventstore/openEventStore.ts"
import { createApp } from "./http/app.ts"
import { startHttpServer } from "./http/server.ts"
import type { Logger } from "./log.ts"
import { makeRunPidFiles } from "./process/runPidFiles.ts"
import { protectionFor } from "./process/sandbox.ts"
import { makeSupervisor, type SupervisorShape } from "./process/supervisor.ts"
import { activeStatuses } from "./domain/sessionState.ts"
import type { EventStoreShape } from "./eventstore/eventStore.ts"
import type { ProjectionsShape } from "./projections/projectionsService.ts"
import type { ReadModelsShape } from "./projections/readModels.ts"
import { Projections, ReadModels, ReadSideLive } from "./projections/readSide.ts"

export interface RunningService {
  readonly url: string
  readonly supervisor: SupervisorShape
  /** Stops taking requests, lets runs end as interrupted, checkpoints, closes the store. */
  readonly stop: () => Promise<void>
}

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

/**
 * Recovery's shortcut: once the read models have caught up with the store's head, the
 * sessions list says which runs are queued or in flight, without reading every lifecycle
 * event ever recorded. Read models still catching up (a rebuild) cannot say: null.
 */
const activeSessions = async (
  store: EventStoreShape,
  projections: ProjectionsShape,
  readModels: ReadModelsShape
): Promise<ReadonlyArray<string> | null> => {
  const head = await Effect.runPromise(Effect.orElseSucceed(store.headPosition(), () => null))
  if (head !== null && !(await Effect.runPromise(projections.waitForPosition(head, 1_000)))) return null
  const found: Array<string> = []
  let cursor: string | undefined
  do {
    const page = await Effect.runPromise(
      Effect.result(readModels.listSessions({ status: [...activeStatuses], limit: 500, ...(cursor ? { cursor } : {}) }))
    )
    if (page._tag === "Failure") return null
    found.push(...page.success.items.map((s) => s.sessionId))
    cursor = page.success.nextCursor ?? undefined
  } while (cursor)
  return found
}

export const startService = async (
  config: Config,
  logger: Logger,
  env: NodeJS.ProcessEnv = process.env
): Promise<RunningService> => {
  prepareDataDir(config.dataDir)
  const storeLayer = Layer.effect(
    EventStore,
    Effect.acquireRelease(openEventStore(config.eventStore, config.dataDir), (s) => s.close())
  )
  // Effect's own log calls (the projections') go to the same JSON lines as everything else.
  const effectLogs = EffectLogger.make<unknown, void>(({ message, logLevel }) => {
    const level = logLevel === "Error" || logLevel === "Fatal" ? "error" : logLevel === "Warn" ? "warn" : logLevel === "Info" ? "info" : "debug"
    const parts = Array.isArray(message) ? message : [message]
    logger.log(level, parts.map((p) => (typeof p === "string" ? p : JSON.stringify(p))).join(" "))
  })
  const layer = Layer.mergeAll(ReadSideLive(config.dataDir), SessionCommandsLive).pipe(
    Layer.provideMerge(storeLayer),
    Layer.provide(EffectLogger.layer([effectLogs]))
  )
  const scope = Effect.runSync(Scope.make())
  const closeScope = () => Effect.runPromise(Scope.close(scope, Exit.void))
  let ctx: Context.Context<EventStore | SessionCommands | Projections | ReadModels>
  try {
    ctx = await Effect.runPromise(Layer.buildWithScope(layer, scope))
  } catch (e) {
    await closeScope()
    throw e
  }
  const store = Context.get(ctx, EventStore)
  const commands = Context.get(ctx, SessionCommands)
  const projections = Context.get(ctx, Projections)
  const readModels = Context.get(ctx, ReadModels)
  logger.log("info", "event store open", { store: config.eventStore === "sqlite" ? "embedded" : "esdb", dataDir: config.dataDir })

  const protection = protectionFor(config.sandbox)
  logger.log(protection.enabled ? "info" : "warn", "claude's commands sandboxed", { ...protection })
  const supervisor = makeSupervisor(
    commands,
    store,
    {
      maxRunning: config.maxRunning,
      claudePath: config.claudePath,
      supervisorId: instanceId(config.dataDir),
      approvalTimeoutMs: config.approvalTimeoutMs,
      interruptGraceMs: config.interruptGraceMs,
      storeRetryMs: config.storeRetryMs,
      env: claudeEnv(env),
      maxQueued: config.maxQueued,
      policy: {
        protection,
        privatePaths: [config.dataDir, ...(config.apiTokenFile ? [config.apiTokenFile] : [])],
        allowUnsandboxedBypass: config.allowUnsandboxedBypass,
        mcpEnvAllow: config.mcpEnvAllow
      },
      pidFiles: makeRunPidFiles(join(config.dataDir, "runs")),
      activeSessions: () => activeSessions(store, projections, readModels)
    },
    logger
  )
  try {
    await supervisor.recover()
  } catch (e) {
    await closeScope()
    throw e
  }

  const app = createApp({
    commands,
    supervisor,
    store,
    projections,
    readModels,
    config: {
      apiToken: config.apiToken,
      hostGuard: { bindHost: config.host, allowedHosts: config.allowedHosts, corsOrigins: config.corsOrigins },
      maxBodyBytes: config.maxBodyBytes,
      readWaitMs: config.readWaitMs,
      heartbeatMs: config.heartbeatMs,
      sseStallMs: config.sseStallMs,
      bypassPermissionsUnavailable: bypassPermissionsUnavailable(process.getuid?.(), claudeEnv(env)),
      dataDir: config.dataDir
    },
    logger
  })
  let http: Awaited<ReturnType<typeof startHttpServer>>
  try {
    http = await startHttpServer(app, {
      host: config.host,
      port: config.port,
      limits: { maxConnections: config.maxConnections, maxConnectionsPerClient: config.maxConnectionsPerClient }
    })
  } catch (e) {
    await supervisor.shutdown()
    await closeScope()
    throw e
  }
  logger.log("info", "agentlog listening", { url: http.url, maxRunning: config.maxRunning, auth: config.apiToken !== undefined })

  let stopping: Promise<void> | undefined
  const stop = () =>
    (stopping ??= (async () => {
      logger.log("info", "shutting down")
      await http.close()
      await supervisor.shutdown()
      // Let the projections apply what the last runs appended before their checkpoint closes.
      const head = await Effect.runPromise(Effect.orElseSucceed(store.headPosition(), () => null))
      if (head) await Effect.runPromise(projections.waitForPosition(head, 2_000))
      await closeScope()
      logger.log("info", "stopped")
    })())
  return { url: http.url, supervisor, stop }
}
