// Configuration from the environment, checked once at start-up: a bad value stops the
// service with a message naming the variable, never a silent default.
import { isIP } from "node:net"
import { resolve } from "node:path"
import { parseAllowedHosts, parseCorsOrigins } from "./http/hostGuard.ts"
import type { LogLevel } from "./log.ts"

export interface Config {
  readonly host: string
  readonly port: number
  readonly dataDir: string
  /** "sqlite" or an esdb:// connection string. */
  readonly eventStore: string
  readonly apiToken: string | undefined
  /** Host names the API answers to besides localhost, 127.0.0.1, [::1] and AGENTLOG_HOST on its port. */
  readonly allowedHosts: ReadonlyArray<string>
  /** Origins that may call the API from a browser (CORS); none by default. */
  readonly corsOrigins: ReadonlyArray<string>
  readonly maxRunning: number
  readonly claudePath: string | undefined
  readonly approvalTimeoutMs: number
  readonly interruptGraceMs: number
  /** How long the supervisor retries its appends while the event store is unavailable. */
  readonly storeRetryMs: number
  readonly maxBodyBytes: number
  readonly readWaitMs: number
  readonly heartbeatMs: number
  readonly logLevel: LogLevel
}

export class ConfigError extends Error {}

const int = (env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number => {
  const raw = env[name]
  if (raw === undefined || raw === "") return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min || n > max)
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got ${JSON.stringify(raw)}`)
  return n
}

const parsed = <A>(name: string, parse: (raw: string | undefined) => A, raw: string | undefined): A => {
  try {
    return parse(raw)
  } catch (e) {
    throw new ConfigError(`${name}: ${(e as Error).message}`)
  }
}

export const isLoopback = (host: string): boolean =>
  host === "localhost" || host === "::1" || (isIP(host) === 4 && host.startsWith("127."))

export const loadConfig = (env: NodeJS.ProcessEnv = process.env): Config => {
  const host = env.AGENTLOG_HOST || "127.0.0.1"
  const apiToken = env.AGENTLOG_API_TOKEN || undefined
  if (!isLoopback(host) && !apiToken)
    throw new ConfigError(
      `AGENTLOG_HOST=${host} is not a loopback address: set AGENTLOG_API_TOKEN so that nobody else can launch processes on this machine`
    )
  if (apiToken !== undefined && apiToken.length < 16)
    throw new ConfigError("AGENTLOG_API_TOKEN must be at least 16 characters")
  const eventStore = env.AGENTLOG_EVENTSTORE || "sqlite"
  if (eventStore !== "sqlite" && !eventStore.startsWith("esdb://") && !eventStore.startsWith("esdb+discover://"))
    throw new ConfigError(`AGENTLOG_EVENTSTORE must be "sqlite" or an esdb:// connection string, got ${JSON.stringify(eventStore)}`)
  const logLevel = (env.AGENTLOG_LOG_LEVEL || "info") as LogLevel
  if (!["debug", "info", "warn", "error"].includes(logLevel))
    throw new ConfigError(`AGENTLOG_LOG_LEVEL must be debug, info, warn or error`)
  return {
    host,
    port: int(env, "AGENTLOG_PORT", 7420, 0, 65535),
    dataDir: resolve(env.AGENTLOG_DATA_DIR || "./data"),
    eventStore,
    apiToken,
    allowedHosts: parsed("AGENTLOG_ALLOWED_HOSTS", parseAllowedHosts, env.AGENTLOG_ALLOWED_HOSTS),
    corsOrigins: parsed("AGENTLOG_CORS_ORIGINS", parseCorsOrigins, env.AGENTLOG_CORS_ORIGINS),
    maxRunning: int(env, "AGENTLOG_MAX_RUNNING", 8, 1, 1000),
    claudePath: env.AGENTLOG_CLAUDE_PATH || undefined,
    approvalTimeoutMs: int(env, "AGENTLOG_APPROVAL_TIMEOUT_MS", 600_000, 1, 86_400_000),
    interruptGraceMs: int(env, "AGENTLOG_INTERRUPT_GRACE_MS", 5_000, 0, 600_000),
    storeRetryMs: int(env, "AGENTLOG_STORE_RETRY_MS", 15_000, 0, 3_600_000),
    maxBodyBytes: int(env, "AGENTLOG_MAX_BODY_BYTES", 1_048_576, 1024, 104_857_600),
    readWaitMs: int(env, "AGENTLOG_READ_WAIT_MS", 5_000, 0, 60_000),
    heartbeatMs: int(env, "AGENTLOG_HEARTBEAT_MS", 15_000, 100, 600_000),
    logLevel
  }
}

/** The environment Claude inherits: the service's own, without agentlog's secrets. */
export const claudeEnv = (env: NodeJS.ProcessEnv = process.env): Record<string, string | undefined> => {
  const { AGENTLOG_API_TOKEN: _, ...rest } = env
  return rest
}
