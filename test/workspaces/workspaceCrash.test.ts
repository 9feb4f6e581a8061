// kill -9 of the service while a run is changing its worktree, then a restart: the run is
// abandoned, and what it had changed is committed on its branch as an abandoned run's
// commit (recorded before RunAbandoned), not lost and not mixed into any other session.
import { readFileSync, rmSync } from "node:fs"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { accepted, call, startService, waitForStatus } from "../crash/crashHarness.ts"
import { closeOfflineWorld, openOfflineWorld, type OfflineWorld } from "../support/offlineWorld.ts"
import type { ServiceProcess } from "../support/serviceProcess.ts"
import { initRepo, sh } from "./gitFixture.ts"

let world: OfflineWorld | undefined
let service: ServiceProcess | undefined
let repo: string

afterEach(async () => {
  if (world) await closeOfflineWorld(world, service)
  rmSync(repo, { recursive: true, force: true })
  rmSync(`${world?.dataDir}-workspaces`, { recursive: true, force: true })
  world = undefined
  service = undefined
})

const bash = (command: string) => ({ toolUse: { name: "Bash", input: { command } } })
const ended = ["completed", "failed", "interrupted", "abandoned"]

describe("a workspace through a crash", () => {
  it("commits an abandoned run's partial changes at the restart, on its own branch only", async () => {
    world = await openOfflineWorld("ws-crash")
    repo = `${world.dataDir}-repo`
    initRepo(repo, { "shared.txt": "base\n" })
    const main = sh(repo, "rev-parse", "main")
    world.fake.setScript([
      bash("printf 'b\\n' > b.txt"),
      { text: "b done" },
      bash("printf 'half\\n' > partial.txt && printf 'a\\n' > shared.txt"),
      // Claude waits on this answer when the service is killed.
      { slow: { chunks: ["still working"], delayMs: 10, hold: true } }
    ])
    service = await startService(world.dataDir, world.claude)
    const launch = (query: string) =>
      accepted(service!.url, "POST", "/v1/sessions", { query, cwd: repo, permissionMode: "bypassPermissions", workspace: { kind: "worktree" } })
    const b = (await launch("b")).sessionId as string
    expect((await waitForStatus(service.url, b, ended)).status).toBe("completed")
    const bHead = sh(repo, "rev-parse", `agentlog/${b.slice(0, 8)}`)
    const a = (await launch("a")).sessionId as string
    await world.fake.waitForSlowChunks(1, 120_000)

    await service.kill()
    service = await startService(world.dataDir, world.claude)
    expect((await waitForStatus(service.url, a, ended)).status).toBe("abandoned")

    const events = (await call(service.url, "GET", `/v1/sessions/${a}/events?limit=500`)).body.items as Array<{ type: string; data: any }>
    const types = events.map((e) => e.type)
    expect(types.indexOf("WorkspaceCommitted")).toBeLessThan(types.indexOf("RunAbandoned"))
    const commit = events.find((e) => e.type === "WorkspaceCommitted")!.data
    expect(commit).toMatchObject({
      outcome: "abandoned",
      changed: true,
      parentSha: main,
      files: [
        { path: "partial.txt", insertions: 1, deletions: 0 },
        { path: "shared.txt", insertions: 1, deletions: 1 }
      ]
    })
    const branch = `agentlog/${a.slice(0, 8)}`
    expect(sh(repo, "rev-parse", branch)).toBe(commit.sha)
    expect(sh(repo, "log", "--format=%B", "-1", branch)).toContain("(abandoned)")
    // The worktree holds the commit and nothing uncommitted; b and main are as they were.
    const path = join(`${world.dataDir}-workspaces`, a)
    expect(sh(path, "status", "--porcelain")).toBe("")
    expect(readFileSync(join(path, "partial.txt"), "utf8")).toBe("half\n")
    expect(sh(repo, "rev-parse", `agentlog/${b.slice(0, 8)}`)).toBe(bHead)
    expect(sh(repo, "show", `${bHead}:shared.txt`)).toBe("base")
    expect([sh(repo, "rev-parse", "main"), sh(repo, "status", "--porcelain")]).toEqual([main, ""])
  }, 300_000)
})
