// The `agentlog` command run as a process, as a person or a script runs it: its stdout as
// lines (waited on as they arrive), its stderr, its exit code, and a stdin to answer on.
import { type ChildProcess, spawn } from "node:child_process"
import { createServer } from "node:net"
import { fileURLToPath } from "node:url"
import { afterEach, expect } from "vitest"
import { closeOfflineWorld, type OfflineWorld } from "../support/offlineWorld.ts"
import type { ServiceProcess } from "../support/serviceProcess.ts"

export const cliTs = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url))

const children: Array<ChildProcess> = []

/**
 * What a test opened (the fake API's world, the service): after each test the CLIs it left
 * running, the service and the fake API are stopped, and the test fails when a claude was
 * left behind.
 */
export const perTest = () => {
  const opened: { world?: OfflineWorld; service?: ServiceProcess } = {}
  afterEach(async () => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL")
    const { world, service } = opened
    delete opened.world
    delete opened.service
    if (world) expect(await closeOfflineWorld(world, service), "claude processes left behind").toEqual([])
  })
  return opened
}

export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer()
    s.once("error", reject)
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })

export interface Cli {
  readonly child: ChildProcess
  readonly lines: Array<string>
  /** stdout as received, including a question not yet ended by a newline. */
  readonly stdout: () => string
  readonly stderr: () => string
  readonly exited: Promise<number | null>
  /** Writes one line to the command's stdin. */
  answer(line: string): void
  /** Resolves once the output (stdout and stderr) satisfies ok (checked as it arrives). */
  waitFor(ok: (out: { lines: ReadonlyArray<string>; stdout: string; stderr: string }) => boolean, timeoutMs?: number): Promise<void>
}

export const cli = (url: string, args: ReadonlyArray<string>, env: Record<string, string> = {}): Cli => {
  const child = spawn(process.execPath, [cliTs, ...args], {
    env: { PATH: process.env.PATH ?? "", AGENTLOG_URL: url, ...env },
    stdio: ["pipe", "pipe", "pipe"]
  })
  children.push(child)
  const lines: Array<string> = []
  let out = ""
  let err = ""
  const listeners = new Set<() => void>()
  const changed = () => {
    for (const l of [...listeners]) l()
  }
  child.stdout!.on("data", (d: Buffer) => {
    out += d.toString()
    lines.splice(0, lines.length, ...out.split("\n").slice(0, -1))
    changed()
  })
  child.stderr!.on("data", (d: Buffer) => {
    err += d.toString()
    changed()
  })
  child.stdin!.on("error", () => {}) // it may have exited before reading what was written
  // close, not exit: by then everything it printed has been read.
  const exited = new Promise<number | null>((r) => child.once("close", (code) => r(code)))
  return {
    child,
    lines,
    stdout: () => out,
    stderr: () => err,
    exited,
    answer: (line) => void child.stdin!.write(`${line}\n`),
    waitFor: (ok, timeoutMs = 60_000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(check)
          reject(new Error(`timed out; stdout: ${out.slice(-800)}; stderr: ${err.slice(-800)}`))
        }, timeoutMs)
        const check = () => {
          if (!ok({ lines, stdout: out, stderr: err })) return
          listeners.delete(check)
          clearTimeout(timer)
          resolve()
        }
        listeners.add(check)
        check()
        void exited.then(() => {
          if (!listeners.has(check)) return
          listeners.delete(check)
          clearTimeout(timer)
          reject(new Error(`exited (${child.exitCode}) first; stdout: ${out.slice(-800)}; stderr: ${err.slice(-800)}`))
        })
      })
  }
}

/** Runs the command to its end, with nothing on stdin. */
export const finished = async (url: string, args: ReadonlyArray<string>, env?: Record<string, string>) => {
  const c = cli(url, args, env)
  c.child.stdin!.end()
  const code = await c.exited
  return { code, out: c.lines.join("\n"), stderr: c.stderr() }
}
