// One Claude Code process, driven through the Agent SDK in streaming-input mode (the
// mode that gives canUseTool and interrupt). It knows nothing of events or stores: it
// hands each message to the caller and waits for the caller to record it before the
// next one is read, so nothing Claude says can outrun the store.
import { spawn } from "node:child_process"
import { randomUUID } from "node:crypto"
import type { CanUseTool, Options, PermissionResult, SDKUserMessage } from "@anthropic-ai/claude-agent-sdk"
import type { SessionOptions } from "../domain/sessionOptions.ts"
import { isEnvReference } from "../domain/sessionOptions.ts"
import type { ClaudeMessage } from "../domain/claudeMessages.ts"
import { makeStderrTail, secretValuesOfEnv } from "./stderrTail.ts"
import { withUserUmask } from "../dataDir.ts"
import { killMarked, runMarkerName } from "./runPidFiles.ts"
import { openPolicy, refusal, type RunPolicy, sandboxOptions } from "./sandbox.ts"

export interface RunSpec {
  readonly query: string
  /** Unredacted: MCP secrets are only ever held in memory for the run. */
  readonly options: SessionOptions
  readonly resume?: string | undefined
  readonly forkSession?: boolean
  /** With a fork from a message: resume the conversation up to and including this message. */
  readonly resumeAt?: string | undefined
  readonly claudePath?: string | undefined
  readonly env: Readonly<Record<string, string | undefined>>
  /** How the run is fenced in (the sandbox, private paths, which `${VAR}` may be named); none when absent. */
  readonly policy?: RunPolicy
  /** The run may be switched to bypassPermissions while it runs (Claude must be told so at its start). */
  readonly allowBypass?: boolean
}

export interface PermissionRequest {
  readonly toolName: string
  readonly toolUseId: string
  readonly input: Record<string, unknown>
  readonly suggestions: ReadonlyArray<unknown>
  readonly signal: AbortSignal
}

export interface RunHooks {
  readonly onSpawn: (pid: number | undefined) => void
  readonly onMessage: (message: ClaudeMessage) => Promise<void>
  readonly onPermission: (request: PermissionRequest) => Promise<PermissionResult>
  readonly onStderr?: (line: string) => void
}

export interface RunEnd {
  /** The last result message, when Claude got that far. */
  readonly result: ClaudeMessage | undefined
  readonly exitCode: number | null
  readonly signal: string | null
  /** Set when the run could not be started or the SDK threw, and (with Claude's last stderr lines) when it ended without a result. */
  readonly error: string | undefined
}

export interface RunningClaude {
  readonly interrupt: () => Promise<void>
  /** Ends the process at once (used when interrupt does not end it in time). */
  readonly kill: () => void
  readonly done: Promise<RunEnd>
  /** The live query's permission mode (the SDK's setPermissionMode); rejects where Claude refuses it. */
  readonly setPermissionMode?: (mode: NonNullable<SessionOptions["permissionMode"]>) => Promise<unknown>
  /** The live query's model for its next requests (the SDK's setModel). */
  readonly setModel?: (model: string) => Promise<unknown>
}

const envRefsIn = (o: SessionOptions): ReadonlyArray<string> =>
  Object.values(o.mcpServers ?? {}).flatMap((s) =>
    Object.values(("command" in s ? s.env : s.headers) ?? {}).filter(isEnvReference).map((v) => v.slice(2, -1))
  )

const resolveEnvRefs = (m: Readonly<Record<string, string>> | undefined, env: RunSpec["env"]) =>
  m && Object.fromEntries(Object.entries(m).map(([k, v]) => [k, isEnvReference(v) ? (env[v.slice(2, -1)] ?? "") : v]))

const mcpServersFor = (o: SessionOptions, env: RunSpec["env"]): Options["mcpServers"] =>
  o.mcpServers &&
  Object.fromEntries(
    Object.entries(o.mcpServers).map(([name, s]) => {
      if ("command" in s) {
        const e = resolveEnvRefs(s.env, env)
        return [name, { ...s, args: s.args ? [...s.args] : [], ...(e ? { env: e } : {}) }]
      }
      const h = resolveEnvRefs(s.headers, env)
      return [name, { ...s, ...(h ? { headers: h } : {}) }]
    })
  )

/** Why a run may not start under its policy, or undefined. */
const refusalOf = (spec: RunSpec, policy: RunPolicy): string | undefined => {
  const named = envRefsIn(spec.options).filter((v) => !policy.mcpEnvAllow.includes(v))
  if (named.length > 0)
    return `MCP \${VAR} may only name variables listed in AGENTLOG_MCP_ENV_ALLOW; not allowed: ${[...new Set(named)].join(", ")}`
  return refusal(policy, spec.options.permissionMode)
}

const systemPromptFor = (o: SessionOptions): Options["systemPrompt"] => {
  if (o.systemPrompt !== undefined)
    return o.appendSystemPrompt ? `${o.systemPrompt}\n\n${o.appendSystemPrompt}` : o.systemPrompt
  if (o.appendSystemPrompt !== undefined) return { type: "preset", preset: "claude_code", append: o.appendSystemPrompt }
  return undefined
}

/** Maps agentlog's options onto the SDK's; undefined fields are left to Claude's defaults. */
export const sdkOptions = (spec: RunSpec): Options => {
  const o = spec.options
  const fence = sandboxOptions(spec.policy ?? openPolicy)
  const defined = Object.entries({
    model: o.model,
    cwd: o.cwd,
    additionalDirectories: o.additionalDirectories && [...o.additionalDirectories],
    systemPrompt: systemPromptFor(o),
    allowedTools: o.allowedTools && [...o.allowedTools],
    disallowedTools: [...(o.disallowedTools ?? []), ...fence.denyRules],
    permissionMode: o.permissionMode,
    allowDangerouslySkipPermissions: o.permissionMode === "bypassPermissions" || spec.allowBypass === true ? true : undefined,
    maxTurns: o.maxTurns,
    mcpServers: mcpServersFor(o, spec.env),
    // Over stdin, not on the command line where every local user's `ps` would show their secrets.
    mcpServersDelivery: o.mcpServers ? "initialize" : undefined,
    title: o.title,
    includePartialMessages: o.includePartialMessages ?? false,
    resume: spec.resume,
    forkSession: spec.forkSession || undefined,
    resumeSessionAt: spec.resumeAt,
    pathToClaudeCodeExecutable: spec.claudePath,
    sandbox: fence.sandbox
  }).filter(([, v]) => v !== undefined)
  return Object.fromEntries(defined) as Options
}

/** Claude's messages are JSON on the wire; this keeps them exactly as JSON, nothing added. */
const asJson = (m: unknown): ClaudeMessage => JSON.parse(JSON.stringify(m)) as ClaudeMessage

/** Every secret value the run hands to Claude or its MCP servers, resolved. */
const runSecrets = (spec: RunSpec): Array<string> => [
  ...Object.values(mcpServersFor(spec.options, spec.env) ?? {}).flatMap((s) =>
    Object.values(("env" in s ? s.env : undefined) ?? ("headers" in s ? s.headers : undefined) ?? {})
  ),
  ...secretValuesOfEnv(spec.env)
]

const exitWaitMs = 5_000

/** The Agent SDK, loaded by the first run: loading it was a sixth of the service's start-up. */
let sdk: Promise<typeof import("@anthropic-ai/claude-agent-sdk")> | undefined
const loadSdk = () => (sdk ??= import("@anthropic-ai/claude-agent-sdk"))

/** A run that may not start: it ends at once with the reason, and no process is spawned. */
const refused = (error: string): RunningClaude => ({
  interrupt: async () => {},
  kill: () => {},
  done: Promise.resolve({ result: undefined, exitCode: null, signal: null, error })
})

/**
 * Claude is the leader of its own process group, so ending the group ends what it started
 * (MCP servers) instead of leaving it to init; its commands run in sessions of their own
 * and are found by the run's marker in their environment.
 */
const killRun = (pid: number | undefined, marker: string) => {
  if (pid !== undefined) {
    try {
      process.kill(-pid, "SIGKILL")
    } catch {
      // The group is empty already.
    }
  }
  killMarked(marker)
}

export const startClaude = (spec: RunSpec, hooks: RunHooks): RunningClaude => {
  const denied = refusalOf(spec, spec.policy ?? openPolicy)
  if (denied !== undefined) return refused(denied)
  const abort = new AbortController()
  const stderr = makeStderrTail({ secrets: runSecrets(spec) })

  const marker = randomUUID()
  let pid: number | undefined
  let childExited: () => void = () => {}
  const exited = new Promise<void>((r) => (childExited = r))
  let exitCode: number | null = null
  let signal: string | null = null
  let finishInput: () => void = () => {}
  const inputDone = new Promise<void>((r) => (finishInput = r))

  // The prompt stays open until the result arrives: closing it earlier would end the
  // process before approvals and interrupts could be answered.
  async function* prompt(): AsyncIterable<SDKUserMessage> {
    yield { type: "user", message: { role: "user", content: spec.query }, parent_tool_use_id: null }
    await inputDone
  }

  const canUseTool: CanUseTool = (toolName, input, opts) =>
    hooks.onPermission({
      toolName,
      toolUseId: opts.toolUseID,
      input,
      suggestions: opts.suggestions ?? [],
      signal: opts.signal
    })

  const started = loadSdk().then(({ query }) => query({
    prompt: prompt(),
    options: {
      ...sdkOptions(spec),
      abortController: abort,
      canUseTool,
      env: { ...spec.env, [runMarkerName]: marker },
      stderr: (data) => hooks.onStderr?.(data),
      spawnClaudeCodeProcess: (o) => {
        const child = withUserUmask(() =>
          spawn(o.command, o.args, {
            cwd: o.cwd,
            env: o.env,
            signal: o.signal,
            stdio: ["pipe", "pipe", "pipe"],
            detached: true
          })
        )
        pid = child.pid
        child.on("exit", (code, sig) => {
          exitCode = code
          signal = sig
          childExited()
        })
        child.stderr.on("data", (d: Buffer) => {
          stderr.push(d.toString())
          hooks.onStderr?.(d.toString())
        })
        // spawn reports a missing binary asynchronously; the SDK surfaces it as a failed read.
        child.on("error", () => childExited())
        hooks.onSpawn(child.pid)
        return child
      }
    }
  }))

  const done = (async (): Promise<RunEnd> => {
    let result: ClaudeMessage | undefined
    let error: string | undefined
    let q: Awaited<typeof started> | undefined
    try {
      q = await started
      for await (const m of q) {
        const message = asJson(m)
        await hooks.onMessage(message)
        if (message.type === "result") {
          result = message
          finishInput()
        }
      }
    } catch (e) {
      error = e instanceof Error ? e.message : String(e)
    } finally {
      finishInput()
      q?.close()
    }
    // Without a result, Claude's last words on stderr are the only account of why it stopped.
    const said = result === undefined ? stderr.text() : ""
    if (said !== "")
      error = `${error ?? `claude exited ${signal ? `on signal ${signal}` : `with code ${String(exitCode)}`} without a result`}; its stderr ended with:\n${said}`
    return { result, exitCode, signal, error }
  })().finally(() => {
    // What claude left behind (MCP servers, background commands) goes with it, once claude
    // itself has had its chance to exit and save its transcript; the run's end is not held up.
    if (pid === undefined) killRun(pid, marker)
    else void Promise.race([exited, new Promise((r) => setTimeout(r, exitWaitMs).unref())]).then(() => killRun(pid, marker))
  })

  return {
    interrupt: async () => {
      try {
        await (await started).interrupt()
      } catch {
        // The process may be gone already; the caller's deadline falls back to kill.
      }
    },
    kill: () => {
      finishInput()
      abort.abort()
      killRun(pid, marker)
    },
    done,
    setPermissionMode: async (mode) => (await started).setPermissionMode(mode),
    setModel: async (model) => (await started).setModel(model)
  }
}
