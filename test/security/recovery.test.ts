// Recovery ends orphaned claude processes after a crash, and only those: a pid file names a
// process by pid, start time and boot id, so a pid now used by something else (a `tail -f
// ~/claude-notes.txt`) is left alone, and the whole process group ends, MCP servers included.
import { type ChildProcess, spawn } from "node:child_process"
import { randomUUID } from "node:crypto"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, afterEach, describe, expect, it } from "vitest"
import { makeRunPidFiles, runMarkerName } from "../../src/process/runPidFiles.ts"

const dir = mkdtempSync(join(tmpdir(), "agentlog-recovery-"))
const runs = join(dir, "runs")
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const started: Array<ChildProcess> = []
afterEach(() => {
  for (const c of started.splice(0)) {
    try {
      process.kill(-c.pid!, "SIGKILL")
    } catch {
      // Already ended by the test.
    }
  }
})

const alive = (pid: number) => {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"))
  } catch {
    return false
  }
}

/** The session a process belongs to (field 6 of /proc/PID/stat). */
const sessionOf = (pid: number): number | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[3])
  } catch {
    return undefined
  }
}

/** A group leader (as the runner starts claude) whose child (an "MCP server") writes its pid once it runs. */
let leaders = 0
const claudeLike = async (childCommand = "sleep 300", marked = true): Promise<{ leader: number; child: number }> => {
  const pidFile = join(dir, `child-${leaders++}.pid`)
  const c = spawn("sh", ["-c", `${childCommand} & echo $! > ${pidFile}; wait`, "fake-claude"], {
    detached: true,
    stdio: "ignore",
    env: marked ? { ...process.env, [runMarkerName]: randomUUID() } : process.env
  })
  started.push(c)
  const child = await new Promise<number>((resolve) => {
    const look = () => {
      const text = (() => {
        try {
          return readFileSync(pidFile, "utf8").trim()
        } catch {
          return ""
        }
      })()
      if (text) resolve(Number(text))
      else setTimeout(look, 20)
    }
    look()
  })
  return { leader: c.pid!, child }
}

describe("recovery's kills", () => {
  it("leave a process alone whose pid was recorded without an identity, even one that mentions claude", () => {
    writeFileSync(join(dir, "claude-notes.txt"), "")
    const tail = spawn("tail", ["-f", join(dir, "claude-notes.txt")], { detached: true, stdio: "ignore" })
    started.push(tail)
    const files = makeRunPidFiles(runs)
    writeFileSync(join(runs, "old-run.pid"), `${tail.pid}\n`)
    expect(files.killOrphans()).toEqual([])
    expect(alive(tail.pid!)).toBe(true)
  })

  it("leave a process alone whose start time or boot differs from the one recorded (a reused pid)", async () => {
    // A process that reuses a pid does not carry the run's marker either.
    const { leader } = await claudeLike("sleep 300", false)
    const files = makeRunPidFiles(runs)
    files.record("run-a", leader)
    const recorded = JSON.parse(readFileSync(join(runs, "run-a.pid"), "utf8"))
    writeFileSync(join(runs, "run-a.pid"), JSON.stringify({ ...recorded, startTime: String(Number(recorded.startTime) - 1) }))
    files.record("run-b", leader)
    writeFileSync(join(runs, "run-b.pid"), JSON.stringify({ ...recorded, bootId: "another-boot" }))
    expect(files.killOrphans()).toEqual([])
    expect(alive(leader)).toBe(true)
  })

  it("end the recorded process and its whole group, MCP children included", async () => {
    const { leader, child } = await claudeLike()
    const files = makeRunPidFiles(runs)
    files.record("run-c", leader)
    expect(files.killOrphans()).toEqual([leader])
    await new Promise<void>((r) => started.at(-1)!.once("exit", () => r()))
    const deadline = Date.now() + 5_000
    while (alive(child) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    expect(alive(child)).toBe(false)
  })

  it("end the group an ended leader left behind", async () => {
    const { leader, child } = await claudeLike()
    const files = makeRunPidFiles(runs)
    files.record("run-d", leader)
    process.kill(leader, "SIGKILL")
    await new Promise<void>((r) => started.at(-1)!.once("exit", () => r()))
    expect(alive(child)).toBe(true)
    expect(files.killOrphans()).toEqual([leader])
    const deadline = Date.now() + 5_000
    while (alive(child) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    expect(alive(child)).toBe(false)
  })

  it("end a command that left the group for a session of its own, by the run's marker", async () => {
    const { leader, child } = await claudeLike("setsid sleep 300")
    // The child must have left the group before the group is ended (setsid runs after the fork).
    while (sessionOf(child) !== child) await new Promise((r) => setTimeout(r, 10))
    const files = makeRunPidFiles(runs)
    files.record("run-e", leader)
    process.kill(-leader, "SIGKILL")
    await new Promise<void>((r) => started.at(-1)!.once("exit", () => r()))
    expect(alive(child)).toBe(true)
    files.killOrphans()
    const deadline = Date.now() + 5_000
    while (alive(child) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    expect(alive(child)).toBe(false)
  })
})
