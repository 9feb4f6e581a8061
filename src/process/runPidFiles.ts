// Claude processes outlive a service that is killed with SIGKILL (nothing tells them their
// supervisor is gone). Each live run leaves its pid in <dataDir>/runs, so the next start
// can end the orphans before it records their runs as abandoned.
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"

export interface RunPidFiles {
  readonly record: (runId: string, pid: number) => void
  readonly forget: (runId: string) => void
  /** Kills every recorded process that is still a claude process; returns their pids. */
  readonly killOrphans: () => ReadonlyArray<number>
}

const isClaude = (pid: number): boolean => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("claude")
  } catch {
    // No /proc (not Linux) or no such process: only signal 0 can tell.
    try {
      process.kill(pid, 0)
      return process.platform !== "linux"
    } catch {
      return false
    }
  }
}

export const makeRunPidFiles = (dir: string): RunPidFiles => {
  mkdirSync(dir, { recursive: true })
  return {
    record: (runId, pid) => writeFileSync(join(dir, `${runId}.pid`), `${pid}\n`),
    forget: (runId) => rmSync(join(dir, `${runId}.pid`), { force: true }),
    killOrphans: () => {
      const killed: Array<number> = []
      for (const f of readdirSync(dir)) {
        if (!f.endsWith(".pid")) continue
        const pid = Number(readFileSync(join(dir, f), "utf8").trim())
        if (Number.isInteger(pid) && pid > 1 && isClaude(pid)) {
          try {
            process.kill(pid, "SIGKILL")
            killed.push(pid)
          } catch {
            // Gone between the check and the kill: nothing left to do.
          }
        }
        rmSync(join(dir, f), { force: true })
      }
      return killed
    }
  }
}

export const noPidFiles: RunPidFiles = { record: () => {}, forget: () => {}, killOrphans: () => [] }
