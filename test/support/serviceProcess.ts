// The real service (`node src/main.ts`) as a child process, pointed at a fake Messages API,
// so tests can kill -9 it, restart it on the same data, and talk to it over HTTP.
import { type ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import type { ClaudeEnv } from "./claudeEnv.ts"
import { claudeBinaryPath } from "./claudeEnv.ts"

const mainTs = fileURLToPath(new URL("../../src/main.ts", import.meta.url))

export interface ServiceProcess {
  readonly url: string
  readonly child: ChildProcess
  /** Every log line the service wrote, parsed where it was JSON. */
  readonly logs: Array<Record<string, unknown>>
  /** SIGTERM and wait for a clean exit. */
  stop(): Promise<number | null>
  /** SIGKILL: no chance to record anything. */
  kill(): Promise<void>
}

export interface ServiceProcessOptions {
  readonly dataDir: string
  readonly claude: ClaudeEnv
  readonly env?: Record<string, string>
  readonly timeoutMs?: number
  /** What node runs instead of src/main.ts (e.g. the CLI with `serve`). */
  readonly argv?: ReadonlyArray<string>
}

export const startServiceProcess = (options: ServiceProcessOptions): Promise<ServiceProcess> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.argv ?? [mainTs])], {
      env: {
        ...options.claude.env,
        AGENTLOG_DATA_DIR: options.dataDir,
        AGENTLOG_PORT: "0",
        AGENTLOG_HOST: "127.0.0.1",
        AGENTLOG_CLAUDE_PATH: claudeBinaryPath,
        AGENTLOG_LOG_LEVEL: "info",
        ...options.env
      },
      stdio: ["ignore", "pipe", "pipe"]
    })
    const logs: Array<Record<string, unknown>> = []
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)))
    let buffer = ""
    let started = false
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`service did not start: ${JSON.stringify(logs.slice(-5))}`))
    }, options.timeoutMs ?? 60_000)
    const onData = (d: Buffer) => {
      buffer += d.toString()
      let nl: number
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl)
        buffer = buffer.slice(nl + 1)
        let entry: Record<string, unknown>
        try {
          entry = JSON.parse(line)
        } catch {
          entry = { raw: line }
        }
        logs.push(entry)
        if (!started && entry.msg === "agentlog listening") {
          started = true
          clearTimeout(timer)
          resolve({
            url: String(entry.url),
            child,
            logs,
            async stop() {
              if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM")
              return exited
            },
            async kill() {
              if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
              await exited
            }
          })
        }
      }
    }
    child.stderr.on("data", onData)
    child.stdout.on("data", onData)
    void exited.then((code) => {
      if (!started) {
        clearTimeout(timer)
        reject(new Error(`service exited with ${code} before listening: ${JSON.stringify(logs.slice(-5))}`))
      }
    })
  })
