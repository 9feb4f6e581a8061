// Every transcript is in the data dir: under a umask of 022 it was readable by every local
// account. The service makes what it creates private (0700 dirs, 0600 files, -wal and -shm
// included) and tightens what an earlier start left open; Claude keeps the user's umask.
import { chmodSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { closeOfflineWorld, openOfflineWorld, type OfflineWorld } from "../support/offlineWorld.ts"
import { startServiceProcess, type ServiceProcess } from "../support/serviceProcess.ts"
import { waitForStatus } from "../crash/crashHarness.ts"

let world: OfflineWorld
let service: ServiceProcess | undefined
let umask: number

beforeAll(async () => {
  world = await openOfflineWorld("perms")
  umask = process.umask(0o022)
})
afterAll(async () => {
  process.umask(umask)
  await closeOfflineWorld(world, service)
})

const modes = (dir: string): Record<string, string> =>
  Object.fromEntries(
    readdirSync(dir, { recursive: true, encoding: "utf8" }).map((f) => [f, (statSync(join(dir, f)).mode & 0o777).toString(8)])
  )

describe("the data dir", () => {
  it("is private to the service's user, files and dirs alike, old ones tightened", async () => {
    chmodSync(world.dataDir, 0o755)
    mkdirSync(join(world.dataDir, "runs"), { mode: 0o755 })
    writeFileSync(join(world.dataDir, "instance-id"), "11111111-2222-3333-4444-555555555555\n", { mode: 0o644 })
    writeFileSync(join(world.dataDir, "runs", "old.pid"), "1\n", { mode: 0o644 })
    world.fake.setScript([
      { toolUse: { name: "Bash", input: { command: "echo x > made-by-claude.txt", description: "write" } } },
      { text: "done" }
    ])
    service = await startServiceProcess({ dataDir: world.dataDir, claude: world.claude })
    const r = await fetch(`${service.url}/v1/sessions`, {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": "perm-check-1" },
      body: JSON.stringify({ query: "hi", cwd: world.claude.cwd, allowedTools: ["Bash"] })
    })
    expect(r.status).toBe(202)
    const { sessionId } = (await r.json()) as { sessionId: string }
    await waitForStatus(service.url, sessionId, ["completed"], 60_000)
    // What Claude writes in the project keeps the user's umask (022), not the data dir's.
    expect((statSync(join(world.claude.cwd, "made-by-claude.txt")).mode & 0o777).toString(8)).toBe("644")
    const found = modes(world.dataDir)
    expect(Object.keys(found)).toEqual(expect.arrayContaining(["events.db", "events.db-wal", "read.db", "instance-id", "runs", "supervisor-checkpoint.json"]))
    const open = Object.entries(found).filter(([, m]) => !["600", "700"].includes(m))
    expect(open).toEqual([])
    expect((statSync(world.dataDir).mode & 0o777).toString(8)).toBe("700")
  }, 60_000)
})
