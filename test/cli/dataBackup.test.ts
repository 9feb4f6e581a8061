// agentlog backup against the real service process while a session streams: the copy is
// a whole store (it opens, verifies, and holds the streaming session up to where it was),
// made through the service, which holds the store's lock.
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { accepted, waitForStatus } from "../crash/crashHarness.ts"
import { closeOfflineWorld, openOfflineWorld, type OfflineWorld } from "../support/offlineWorld.ts"
import { startServiceProcess, type ServiceProcess } from "../support/serviceProcess.ts"
import { agentlog, generate, storeContents } from "./dataSupport.ts"

let world: OfflineWorld | undefined
let service: ServiceProcess | undefined
let dir: string | undefined
afterEach(async () => {
  if (world) expect(await closeOfflineWorld(world, service), "claude processes left behind").toEqual([])
  if (dir) rmSync(dir, { recursive: true, force: true })
  world = service = dir = undefined
})

describe("agentlog backup", { timeout: 300_000 }, () => {
  it("copies the running service's store while a session streams; the copy opens and verifies", async () => {
    world = await openOfflineWorld("backup")
    generate(world.dataDir)
    service = await startServiceProcess({ dataDir: world.dataDir, claude: world.claude })
    const url = service.url
    // Claude's answer streams and then waits, mid-message, until released.
    world.fake.setScript([{ slow: { chunks: ["streaming ", "while ", "the backup ", "runs"], delayMs: 20, hold: true } }])
    const { sessionId } = (await accepted(url, "POST", "/v1/sessions", { query: "stream something", cwd: world.claude.cwd })) as { sessionId: string }
    await waitForStatus(url, sessionId, ["running"], 60_000)
    await world.fake.waitForSlowChunks(1, 60_000)

    dir = mkdtempSync(join(tmpdir(), "agentlog-backup-"))
    const file = join(dir, "copy.db")
    const backup = await agentlog(["backup", file, "--json"], { AGENTLOG_URL: url })
    expect(backup.code, backup.stderr).toBe(0)
    const { events } = JSON.parse(backup.stdout) as { events: number }
    expect(existsSync(`${file}.partial`)).toBe(false)
    world.fake.release()
    await waitForStatus(url, sessionId, ["completed"], 60_000)

    const verify = await agentlog(["verify", file])
    expect(verify.code, verify.stdout).toBe(0)
    expect(verify.stdout).toMatch(new RegExp(`^${file}: ${events} events in 13 streams\\nnote: .*\\nok\\n$`))
    const copy = await storeContents(file)
    expect([...copy.values()].reduce((n, s) => n + s.length, 0)).toBe(events)
    // The session was caught mid-run: launched and started in the copy, not yet ended.
    const types = copy.get(`session-${sessionId}`)!.map((l) => l.split(" ")[2])
    expect(types.slice(0, 2)).toEqual(["SessionLaunched", "RunStarted"])
    expect(types).not.toContain("RunCompleted")
  })

  it("says so when there is no service to ask", async () => {
    const none = await agentlog(["backup", join(tmpdir(), "never.db")], { AGENTLOG_URL: "http://127.0.0.1:9" })
    expect([none.code, none.stderr]).toEqual([1, expect.stringContaining("cannot reach agentlog at http://127.0.0.1:9")])
  })
})
