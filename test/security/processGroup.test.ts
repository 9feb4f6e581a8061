// A run's processes end with the run: claude leads its own process group, and whatever it
// left behind in that group (a background command, an MCP server) is ended once claude exits.
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { startSupervisorHarness, type SupervisorHarness } from "../support/supervisorHarness.ts"

let h: SupervisorHarness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

const alive = (pid: number) => {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"))
  } catch {
    return false
  }
}

describe("a run's process group", () => {
  it("ends a command claude left running in the background when the run ends", async () => {
    h = await startSupervisorHarness([])
    const pidFile = join(h.claude.cwd, "bg.pid")
    h.fake.setScript([
      { toolUse: { name: "Bash", input: { command: `(sleep 300 & echo $! > ${pidFile})`, description: "background" } } },
      { text: "left it running" }
    ])
    const { sessionId } = await h.launch("start something", { allowedTools: ["Bash"] })
    await h.waitForStatus(sessionId, ["completed", "failed"])
    expect(existsSync(pidFile)).toBe(true)
    const pid = Number(readFileSync(pidFile, "utf8").trim())
    // The run ends first; its leftovers are killed once claude has exited.
    const deadline = Date.now() + 10_000
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    expect(alive(pid)).toBe(false)
  }, 60_000)
})
