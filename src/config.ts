// Configuration from the environment, checked once at start-up: a bad value stops the
// service with a message naming the variable, never a silent default.
import { readFileSync, statSync } from "node:fs"
import { isIP } from "node:net"
import { join, resolve } from "node:path"
import { parseAllowedHosts, parseCorsOrigins } from "./http/hostGuard.ts"
import type { LogLevel } from "./log.ts"
import { keysFileOf, makeKeyRing } from "./principals/keyRing.ts"
import type { WebhooksConfig } from "./webhooks/webhooks.ts"

export interface Config {
  readonly host: string
  readonly port: number
  readonly dataDir: string
  /** "sqlite" or an esdb:// connection string. */
  readonly eventStore: string
  readonly apiToken: string | undefined
  /** The API keys file: AGENTLOG_KEYS_FILE, or keys.json in the data dir. */
  readonly keysFile: string
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
  /** An SSE client that stops reading is dropped after this long (0: never). */
  readonly sseStallMs: number
  readonly logLevel: LogLevel
  /** Where the token was read from, when it came from a file: the sandbox keeps Claude out of it. */
  readonly apiTokenFile: string | undefined
  /** auto: Claude's commands run in Claude Code's sandbox where it can run; on: refuse to start without it; off. */
  readonly sandbox: "auto" | "on" | "off"
  /** Lets bypassPermissions run without the sandbox (then nothing stands between the agent and this machine). */
  readonly allowUnsandboxedBypass: boolean
  /** The only variables an MCP `${VAR}` may name. */
  readonly mcpEnvAllow: ReadonlyArray<string>
  /** Runs waiting for a slot (their MCP secrets wait in memory); more are refused. */
  readonly maxQueued: number
  readonly maxConnections: number
  readonly maxConnectionsPerClient: number
  /** Webhook delivery: AGENTLOG_WEBHOOK_* (src/webhooks/webhooks.ts). */
  readonly webhooks: WebhooksConfig
  /** A launch that does not say where Claude works gets this workspace (AGENTLOG_WORKSPACE). */
  readonly workspace: "none" | "worktree"
  /** Where session worktrees go (AGENTLOG_WORKSPACE_ROOT); outside the data dir, which Claude is kept out of. */
  readonly workspaceRoot: string
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
  const apiTokenFile = env.AGENTLOG_API_TOKEN_FILE ? resolve(env.AGENTLOG_API_TOKEN_FILE) : undefined
  if (apiTokenFile !== undefined && env.AGENTLOG_API_TOKEN)
    throw new ConfigError("set AGENTLOG_API_TOKEN or AGENTLOG_API_TOKEN_FILE, not both")
  const apiToken = apiTokenFile !== undefined ? readTokenFile(apiTokenFile) : env.AGENTLOG_API_TOKEN || undefined
  const dataDir = resolve(env.AGENTLOG_DATA_DIR || "./data")
  const keysFile = keysFileOf(env, dataDir)
  if (!isLoopback(host) && !apiToken && !makeKeyRing(keysFile).hasActiveKeys())
    throw new ConfigError(
      `AGENTLOG_HOST=${host} is not a loopback address: set AGENTLOG_API_TOKEN (or make an API key with npm run keys) so that nobody else can launch processes on this machine`
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
    dataDir,
    eventStore,
    apiToken,
    keysFile,
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
    sseStallMs: int(env, "AGENTLOG_SSE_STALL_MS", 60_000, 0, 3_600_000),
    logLevel,
    apiTokenFile,
    sandbox: oneOf(env, "AGENTLOG_SANDBOX", ["auto", "on", "off"] as const),
    allowUnsandboxedBypass: oneOf(env, "AGENTLOG_ALLOW_UNSANDBOXED_BYPASS", ["0", "1"] as const) === "1",
    mcpEnvAllow: (env.AGENTLOG_MCP_ENV_ALLOW ?? "").split(",").map((v) => v.trim()).filter((v) => v !== ""),
    maxQueued: int(env, "AGENTLOG_MAX_QUEUED", 100, 0, 100_000),
    maxConnections: int(env, "AGENTLOG_MAX_CONNECTIONS", 1_000, 1, 1_000_000),
    maxConnectionsPerClient: int(env, "AGENTLOG_MAX_CONNECTIONS_PER_CLIENT", 100, 1, 1_000_000),
    webhooks: {
      allowHttp: oneOf(env, "AGENTLOG_WEBHOOK_ALLOW_HTTP", ["0", "1"] as const) === "1",
      retryBaseMs: int(env, "AGENTLOG_WEBHOOK_RETRY_BASE_MS", 1_000, 1, 3_600_000),
      retryCapMs: int(env, "AGENTLOG_WEBHOOK_RETRY_CAP_MS", 300_000, 1, 86_400_000),
      maxAttempts: int(env, "AGENTLOG_WEBHOOK_MAX_ATTEMPTS", 12, 1, 1_000),
      timeoutMs: int(env, "AGENTLOG_WEBHOOK_TIMEOUT_MS", 10_000, 100, 600_000)
    },
    workspace: oneOf(env, "AGENTLOG_WORKSPACE", ["none", "worktree"] as const),
    workspaceRoot: workspaceRootOf(env, dataDir)
  }
}

/**
 * Beside the data dir by default (`<data dir>-workspaces`): Claude's sandbox and deny rules
 * keep it out of the data dir, so a worktree inside it could not be worked in.
 */
const workspaceRootOf = (env: NodeJS.ProcessEnv, dataDir: string): string => {
  const root = resolve(env.AGENTLOG_WORKSPACE_ROOT || `${dataDir}-workspaces`)
  if (root === dataDir || root.startsWith(join(dataDir, "/")))
    throw new ConfigError(`AGENTLOG_WORKSPACE_ROOT must be outside the data dir ${dataDir}: Claude is kept out of the data dir`)
  return root
}

/** The first choice is the default. */
const oneOf = <const T extends string>(env: NodeJS.ProcessEnv, name: string, choices: ReadonlyArray<T>): T => {
  const raw = env[name] || choices[0]!
  if (!(choices as ReadonlyArray<string>).includes(raw))
    throw new ConfigError(`${name} must be one of ${choices.join(", ")}, got ${JSON.stringify(raw)}`)
  return raw as T
}

/** A token file others can read is no secret: refused rather than trusted. */
const readTokenFile = (file: string): string => {
  let mode: number
  let text: string
  try {
    mode = statSync(file).mode
    text = readFileSync(file, "utf8").trim()
  } catch (e) {
    throw new ConfigError(`AGENTLOG_API_TOKEN_FILE ${file} cannot be read: ${e instanceof Error ? e.message : String(e)}`)
  }
  if ((mode & 0o077) !== 0)
    throw new ConfigError(`AGENTLOG_API_TOKEN_FILE ${file} is open to other users (mode ${(mode & 0o777).toString(8)}): chmod 600 it`)
  if (text === "") throw new ConfigError(`AGENTLOG_API_TOKEN_FILE ${file} is empty`)
  return text
}

/**
 * The environment Claude inherits: the service's own without any AGENTLOG_* variable (the
 * token, the event store's connection string and whatever agentlog adds later).
 */
export const claudeEnv = (env: NodeJS.ProcessEnv = process.env): Record<string, string | undefined> =>
  Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith("AGENTLOG_")))
