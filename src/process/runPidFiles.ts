// Claude processes outlive a service that is killed with SIGKILL (nothing tells them their
// supervisor is gone). Each live run leaves the identity of its process in <dataDir>/runs, so
// the next start can end the orphans before it records their runs as abandoned. A pid alone
// names a different process after a reboot or a long gap, so the identity is the pid, its
// start time (/proc/PID/stat) and the boot id; anything that does not match is left alone.
// Claude leads its own process group, so the whole group ends: its MCP servers too. Claude
// starts each command in a session of its own, out of that group; those carry the run's
// marker in their environment, and every process that carries it ends with the run.
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"

export interface RunPidFiles {
  readonly record: (runId: string, pid: number) => void
  readonly forget: (runId: string) => void
  /** Kills the process group of every recorded process that is verifiably the one recorded; returns their pids. */
  readonly killOrphans: () => ReadonlyArray<number>
}

interface Identity {
  readonly pid: number
  readonly startTime: string
  readonly bootId: string
  /** The run marker in the process's environment, which its descendants inherit. */
  readonly marker?: string
}

/** Set by the runner in claude's environment: a fresh random value per run. */
export const runMarkerName = "CLAUDE_SUPERVISED_RUN"

const numericEntries = (): ReadonlyArray<number> => {
  try {
    return readdirSync("/proc").filter((e) => /^\d+$/.test(e)).map(Number)
  } catch {
    return []
  }
}

const environOf = (pid: number): string | undefined => {
  try {
    return "\0" + readFileSync(`/proc/${pid}/environ`, "latin1")
  } catch {
    return undefined
  }
}

const markerOf = (pid: number): string | undefined =>
  environOf(pid)?.match(new RegExp(`\0${runMarkerName}=([0-9a-f-]{36})\0`))?.[1]

/** SIGKILLs every process whose environment carries the marker; returns how many. */
export const killMarked = (marker: string): number => {
  const needle = `\0${runMarkerName}=${marker}\0`
  let n = 0
  for (const pid of numericEntries()) if (pid !== process.pid && environOf(pid)?.includes(needle) && signal(pid)) n++
  return n
}

const bootId = (): string | undefined => {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim()
  } catch {
    return undefined
  }
}

/** Fields of /proc/PID/stat after the command (which may hold spaces and parentheses). */
const statFields = (pid: number): ReadonlyArray<string> | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  } catch {
    return undefined
  }
}
// Field numbers of proc(5), counted from the state (field 3) as index 0.
const startTimeOf = (pid: number) => statFields(pid)?.[22 - 3]
const groupOf = (pid: number) => statFields(pid)?.[5 - 3]

const identityOf = (pid: number): Identity | undefined => {
  const startTime = startTimeOf(pid)
  const boot = bootId()
  const marker = markerOf(pid)
  return startTime !== undefined && boot !== undefined ? { pid, startTime, bootId: boot, ...(marker ? { marker } : {}) } : undefined
}

const parse = (text: string): Identity | undefined => {
  try {
    const v = JSON.parse(text) as Partial<Identity>
    return Number.isInteger(v.pid) && (v.pid as number) > 1 && typeof v.startTime === "string" && typeof v.bootId === "string"
      ? (v as Identity)
      : undefined
  } catch {
    return undefined
  }
}

/** Whether the group the recorded process led is still there and is that process's. */
const stillOurs = (recorded: Identity): boolean => {
  if (recorded.bootId !== bootId()) return false
  const startTime = startTimeOf(recorded.pid)
  if (startTime !== undefined) return startTime === recorded.startTime
  // The leader is gone; its group lives on while any member does, and Linux hands out no pid
  // that is still some group's id, so a group with this id is still the one it led.
  return numericEntries().some((p) => groupOf(p) === String(recorded.pid))
}

/** False when there is no such process or group (gone between the check and the kill). */
const signal = (target: number): boolean => {
  try {
    process.kill(target, "SIGKILL")
    return true
  } catch {
    return false
  }
}

export const makeRunPidFiles = (dir: string): RunPidFiles => {
  mkdirSync(dir, { recursive: true })
  return {
    record: (runId, pid) => {
      // Without /proc (not Linux) nothing can be verified later: nothing is recorded to kill.
      const identity = identityOf(pid)
      if (identity) writeFileSync(join(dir, `${runId}.pid`), JSON.stringify(identity) + "\n")
    },
    forget: (runId) => rmSync(join(dir, `${runId}.pid`), { force: true }),
    killOrphans: () => {
      const killed: Array<number> = []
      for (const f of readdirSync(dir)) {
        if (!f.endsWith(".pid")) continue
        const recorded = parse(readFileSync(join(dir, f), "utf8"))
        if (recorded && stillOurs(recorded) && (signal(-recorded.pid) || signal(recorded.pid))) killed.push(recorded.pid)
        // Its commands, in sessions of their own: a process with this random marker is this run's.
        if (recorded?.marker && recorded.bootId === bootId()) killMarked(recorded.marker)
        rmSync(join(dir, f), { force: true })
      }
      return killed
    }
  }
}

export const noPidFiles: RunPidFiles = { record: () => {}, forget: () => {}, killOrphans: () => [] }
