// What a launch, continue or fork may ask of Claude. Defined once: the HTTP bodies, the
// events and the OpenAPI document all use these schemas.
import { Schema } from "effect"

const ShortString = Schema.String.check(Schema.isMaxLength(10_000))
const Name = Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(200))
const StringMap = Schema.Record(Schema.String.check(Schema.isMaxLength(200)), ShortString)

export const McpStdioServer = Schema.Struct({
  type: Schema.optionalKey(Schema.Literal("stdio")),
  command: Name.check(Schema.isMaxLength(4096)),
  args: Schema.optionalKey(Schema.Array(ShortString)),
  env: Schema.optionalKey(StringMap)
})

export const McpRemoteServer = Schema.Struct({
  type: Schema.Literals(["sse", "http"]),
  url: Schema.String.check(Schema.isPattern(/^https?:\/\/\S+$/u), Schema.isMaxLength(4096)),
  headers: Schema.optionalKey(StringMap)
})

export const McpServer = Schema.Union([McpStdioServer, McpRemoteServer])
export type McpServer = typeof McpServer.Type

export const PermissionMode = Schema.Literals(["default", "acceptEdits", "bypassPermissions", "plan", "dontAsk"])

export const SessionOptions = Schema.Struct({
  model: Schema.optionalKey(Name),
  cwd: Schema.optionalKey(Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(4096))),
  systemPrompt: Schema.optionalKey(Schema.String.check(Schema.isMaxLength(100_000))),
  appendSystemPrompt: Schema.optionalKey(Schema.String.check(Schema.isMaxLength(100_000))),
  allowedTools: Schema.optionalKey(Schema.Array(Name).check(Schema.isMaxLength(200))),
  disallowedTools: Schema.optionalKey(Schema.Array(Name).check(Schema.isMaxLength(200))),
  permissionMode: Schema.optionalKey(PermissionMode),
  maxTurns: Schema.optionalKey(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 1000 }))),
  mcpServers: Schema.optionalKey(Schema.Record(Name, McpServer)),
  title: Schema.optionalKey(Name),
  /** Record partial token deltas (stream_event messages) for this session. */
  includePartialMessages: Schema.optionalKey(Schema.Boolean),
  /** How long an approval may wait before it is denied, in milliseconds. */
  approvalTimeoutMs: Schema.optionalKey(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 86_400_000 })))
})
export type SessionOptions = typeof SessionOptions.Type

export const redacted = "[redacted]"

/**
 * MCP server env values and headers are secrets: events keep only their names. A value
 * written as `${VAR}` is a reference to the service's own environment, not a secret, and
 * is kept so that a later continue can resolve it again.
 */
export const redactOptions = (options: SessionOptions): SessionOptions => {
  if (!options.mcpServers) return options
  const hide = (m: Readonly<Record<string, string>> | undefined) =>
    m && Object.fromEntries(Object.entries(m).map(([k, v]) => [k, isEnvReference(v) ? v : redacted]))
  const mcpServers = Object.fromEntries(
    Object.entries(options.mcpServers).map(([name, s]): [string, McpServer] => {
      if ("command" in s) return [name, s.env ? { ...s, env: hide(s.env)! } : s]
      return [name, s.headers ? { ...s, headers: hide(s.headers)! } : s]
    })
  )
  return { ...options, mcpServers }
}

export const isEnvReference = (v: string): boolean => /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(v)

/** Options of a later run: the session's own, with the run's overrides on top. */
export const mergeOptions = (base: SessionOptions, overrides: SessionOptions): SessionOptions => ({
  ...base,
  ...overrides
})
