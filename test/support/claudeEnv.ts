/**
 * An isolated, offline environment for the real `claude` binary: a temporary HOME
 * (with its XDG and Claude config dirs), a temporary working directory, and the env
 * that points claude at a fake Messages API and turns off everything that would
 * reach the network. Plus small helpers for driving `query()` in streaming-input mode.
 */
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, dirname } from "node:path"
import { createRequire } from "node:module"
import type { SDKUserMessage } from "@anthropic-ai/claude-agent-sdk"

const require = createRequire(import.meta.url)

/** Absolute path of the `claude` binary bundled with the Agent SDK (e.g. @anthropic-ai/claude-agent-sdk-linux-x64/claude). */
export const claudeBinaryPath: string = (() => {
  const platformPkg = `@anthropic-ai/claude-agent-sdk-${process.platform}-${process.arch}`
  try {
    return join(dirname(require.resolve(`${platformPkg}/package.json`)), "claude")
  } catch {
    return join(dirname(require.resolve("@anthropic-ai/claude-agent-sdk")), "..", platformPkg.split("/")[1]!, "claude")
  }
})()

/** Looks like an API key (claude only checks the format locally); never valid anywhere. */
export const FAKE_API_KEY = "sk-ant-api03-offline-test-key-0000000000000000000000000000000000000000000000000000-AAAAAAAA"

export type ClaudeEnv = {
  /** the temp root holding everything below */
  root: string
  /** temporary HOME */
  home: string
  /** temporary working directory for the session */
  cwd: string
  /** CLAUDE_CONFIG_DIR (= <home>/.claude): transcripts live in <configDir>/projects/<cwd with / -> ->/<sessionId>.jsonl */
  configDir: string
  /** the complete environment for the child. Pass it as Options.env: it REPLACES process.env */
  env: Record<string, string>
  /** pids of live processes started with this HOME (claude and its tool children) */
  processes(): number[]
  /** The claude binaries among them: not their tool children, not a service sharing this HOME. */
  claudePids(): number[]
  /** resolves when no process with this HOME is left; rejects with their pids after timeoutMs */
  waitForNoProcesses(timeoutMs?: number): Promise<void>
  /** removes the temporary directories */
  cleanup(): void
}

export type ClaudeEnvOptions = {
  /** extra variables, applied last (e.g. { CLAUDE_CODE_MAX_RETRIES: "1" }) */
  extra?: Record<string, string>
  /** prefix of the temp dir name */
  prefix?: string
}

/**
 * Makes a temporary HOME and cwd and the env for a `claude` child that talks to
 * `baseUrl` (the fake's url) only.
 */
export function makeClaudeEnv(baseUrl: string, options: ClaudeEnvOptions = {}): ClaudeEnv {
  const root = mkdtempSync(join(tmpdir(), options.prefix ?? "agentlog-claude-"))
  const home = join(root, "home")
  const cwd = join(root, "work")
  const configDir = join(home, ".claude")
  const tmp = join(root, "tmp")
  for (const d of [home, cwd, configDir, join(home, ".config"), join(home, ".cache"), join(home, ".local", "share"), tmp])
    mkdirSync(d, { recursive: true })

  // Global config (with CLAUDE_CONFIG_DIR set it is <configDir>/.claude.json, not ~/.claude.json).
  // Headless/SDK runs do not need it to start, but it keeps any onboarding, trust or
  // API-key confirmation from ever being asked.
  writeFileSync(
    join(configDir, ".claude.json"),
    JSON.stringify(
      {
        hasCompletedOnboarding: true,
        lastOnboardingVersion: "9.9.9",
        bypassPermissionsModeAccepted: true,
        customApiKeyResponses: { approved: [FAKE_API_KEY.slice(-20)], rejected: [] },
        projects: { [cwd]: { hasTrustDialogAccepted: true, hasCompletedProjectOnboarding: true, allowedTools: [] } }
      },
      null,
      2
    )
  )

  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: home,
    USER: process.env.USER ?? "agentlog",
    LANG: "C.UTF-8",
    SHELL: "/bin/bash",
    TMPDIR: tmp,
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_CACHE_HOME: join(home, ".cache"),
    XDG_DATA_HOME: join(home, ".local", "share"),
    CLAUDE_CONFIG_DIR: configDir,
    ANTHROPIC_BASE_URL: baseUrl,
    ANTHROPIC_API_KEY: FAKE_API_KEY,
    // no telemetry, error reporting, update checks, /api/hello probe, feature-flag fetches
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    DISABLE_AUTOUPDATER: "1",
    DISABLE_TELEMETRY: "1",
    DISABLE_ERROR_REPORTING: "1",
    // 5xx/529 are not retried unless a test asks (each retry waits ~0.5 s)
    CLAUDE_CODE_MAX_RETRIES: "0",
    // lets permissionMode "bypassPermissions" start when the tests run as root (containers, CI):
    // without it claude exits with "--dangerously-skip-permissions cannot be used with root/sudo privileges"
    IS_SANDBOX: "1",
    ...options.extra
  }

  const processes = () => processesWithHome(home)
  const claudePids = () =>
    processes().filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("claude-agent-sdk")
      } catch {
        return false
      }
    })

  return {
    root,
    home,
    cwd,
    configDir,
    env,
    processes,
    claudePids,
    async waitForNoProcesses(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const left = processes()
        if (left.length === 0) return
        if (Date.now() > deadline) throw new Error(`claude processes still running with HOME=${home}: ${left.join(", ")}`)
        await new Promise((r) => setTimeout(r, 50))
      }
    },
    cleanup() {
      rmSync(root, { recursive: true, force: true })
    }
  }
}

/** Pids (other than this process) whose environment has HOME=<home>. Linux /proc only. */
export function processesWithHome(home: string): number[] {
  const needle = `\0HOME=${home}\0`
  const pids: number[] = []
  let entries: string[]
  try {
    entries = readdirSync("/proc")
  } catch {
    return pids
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue
    try {
      const environ = "\0" + readFileSync(`/proc/${e}/environ`, "latin1")
      if (!environ.includes(needle)) continue
      // skip zombies: they are gone, only not yet reaped
      const stat = readFileSync(`/proc/${e}/stat`, "latin1")
      if (/\) Z /.test(stat)) continue
      pids.push(Number(e))
    } catch {
      // process ended or not readable
    }
  }
  return pids
}

/** A user message for streaming-input mode. */
export function userMessage(text: string): SDKUserMessage {
  return { type: "user", message: { role: "user", content: text }, parent_tool_use_id: null }
}

export type PromptQueue = {
  /** pass as `query({ prompt: queue.iterable })` */
  iterable: AsyncIterable<SDKUserMessage>
  /** sends a user message (text or a full SDKUserMessage) */
  push(message: string | SDKUserMessage): void
  /** ends the input: claude finishes the current turn and exits */
  end(): void
}

/**
 * The prompt as an async iterable that stays open until `end()`: streaming-input mode,
 * which `canUseTool` and `interrupt()` need. One claude process serves every pushed
 * message as one more turn of the same session.
 */
export function promptQueue(...initial: Array<string | SDKUserMessage>): PromptQueue {
  const queue: SDKUserMessage[] = initial.map((m) => (typeof m === "string" ? userMessage(m) : m))
  let ended = false
  let wake: (() => void) | undefined
  const poke = () => {
    const w = wake
    wake = undefined
    w?.()
  }
  return {
    iterable: {
      async *[Symbol.asyncIterator]() {
        for (;;) {
          const next = queue.shift()
          if (next !== undefined) {
            yield next
            continue
          }
          if (ended) return
          await new Promise<void>((r) => (wake = r))
        }
      }
    },
    push(message) {
      if (ended) throw new Error("promptQueue: push after end")
      queue.push(typeof message === "string" ? userMessage(message) : message)
      poke()
    },
    end() {
      ended = true
      poke()
    }
  }
}
