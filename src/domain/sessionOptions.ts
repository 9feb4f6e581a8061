// What a launch, continue or fork may ask of Claude. Defined once: the HTTP bodies, the
// events and the OpenAPI document all use these schemas.
import { Schema } from "effect"
import { controlChars } from "./controlChars.ts"

// Names (models, tools, MCP servers, titles, commands) reach Claude's command line, other
// processes, terminals and log lines: no control characters, C1 and bidi controls included.
// A NUL cannot be passed to a process at all, and a CR or LF in an HTTP header value would
// start another header.
const noControl = Schema.isPattern(new RegExp(`^[^${controlChars}]*$`, "u"), { expected: "no control characters" })
const noNul = Schema.isPattern(/^[^\u0000]*$/u, { expected: "no NUL characters" })
const ShortString = Schema.String.check(Schema.isMaxLength(10_000), noNul)
const Name = Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(200), noControl)
const VariableName = Schema.String.check(
  Schema.isMinLength(1),
  Schema.isMaxLength(200),
  Schema.isPattern(/^[^=\u0000-\u001f\u007f]*$/u, { expected: "a name without '=' or control characters" })
)
const EnvMap = Schema.Record(VariableName, ShortString)
const HeaderMap = Schema.Record(
  VariableName,
  Schema.String.check(Schema.isMaxLength(10_000), Schema.isPattern(/^[^\u0000\r\n]*$/u, { expected: "no NUL, CR or LF" }))
)

export const McpStdioServer = Schema.Struct({
  type: Schema.optionalKey(Schema.Literal("stdio")),
  command: Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(4096), noControl),
  args: Schema.optionalKey(Schema.Array(ShortString)),
  env: Schema.optionalKey(EnvMap)
})

export const McpRemoteServer = Schema.Struct({
  type: Schema.Literals(["sse", "http"]),
  url: Schema.String.check(Schema.isPattern(/^https?:\/\/\S+$/u), Schema.isMaxLength(4096)),
  headers: Schema.optionalKey(HeaderMap)
})

export const McpServer = Schema.Union([McpStdioServer, McpRemoteServer])
export type McpServer = typeof McpServer.Type

export const PermissionMode = Schema.Literals(["default", "acceptEdits", "bypassPermissions", "plan", "dontAsk"])

/**
 * Where Claude works: in `cwd` itself ("none"), or in a git worktree of cwd's repository on a
 * branch of the session's own ("worktree", see src/workspaces/). `startAt` is the commit to
 * branch from when it is not baseRef's (a fork's: its parent's commit at the fork point).
 */
export const WorkspaceOption = Schema.Union([
  Schema.Struct({ kind: Schema.Literal("none") }),
  Schema.Struct({
    kind: Schema.Literal("worktree"),
    baseRef: Schema.optionalKey(Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(250), noControl)),
    branch: Schema.optionalKey(Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(250), noControl)),
    startAt: Schema.optionalKey(Schema.String.check(Schema.isPattern(/^[0-9a-f]{40}([0-9a-f]{24})?$/u, { expected: "a full commit sha" })))
  })
])
export type WorkspaceOption = typeof WorkspaceOption.Type

export const SessionOptions = Schema.Struct({
  model: Schema.optionalKey(Name),
  cwd: Schema.optionalKey(Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(4096))),
  /** Directories Claude may use besides cwd (each an absolute path to an existing directory). */
  additionalDirectories: Schema.optionalKey(
    Schema.Array(Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(4096))).check(Schema.isMaxLength(50))
  ),
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
  approvalTimeoutMs: Schema.optionalKey(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 86_400_000 }))),
  workspace: Schema.optionalKey(WorkspaceOption)
})
export type SessionOptions = typeof SessionOptions.Type

export const redacted = "[redacted]"

/**
 * Credentials and the query (`?token=…`) of an MCP server's URL are as secret as its
 * headers: events keep the scheme, host and path only.
 */
export const redactUrl = (url: string): string => {
  const m = /^(https?:\/\/)([^@/?#]*@)?([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/u.exec(url)
  if (!m) return redacted
  const [, scheme, userinfo, host, path, query, fragment] = m
  return `${scheme}${userinfo ? `${redacted}@` : ""}${host}${path}${query ? `?${redacted}` : ""}${fragment ? `#${redacted}` : ""}`
}

/**
 * MCP server env values and headers are secrets: events keep only their names. A value
 * written as `${VAR}` is a reference to the service's own environment, not a secret, and
 * is kept so that a later continue can resolve it again. `args` are stored as given.
 */
export const redactOptions = (options: SessionOptions): SessionOptions => {
  if (!options.mcpServers) return options
  const hide = (m: Readonly<Record<string, string>> | undefined) =>
    m && Object.fromEntries(Object.entries(m).map(([k, v]) => [k, isEnvReference(v) ? v : redacted]))
  const mcpServers = Object.fromEntries(
    Object.entries(options.mcpServers).map(([name, s]): [string, McpServer] => {
      if ("command" in s) return [name, s.env ? { ...s, env: hide(s.env)! } : s]
      return [name, { ...s, url: redactUrl(s.url), ...(s.headers ? { headers: hide(s.headers)! } : {}) }]
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

/** True when the options hold a secret that redactOptions would hide (a value that is not a `${VAR}` reference). */
export const holdsSecrets = (options: SessionOptions): boolean => JSON.stringify(redactOptions(options)) !== JSON.stringify(options)
