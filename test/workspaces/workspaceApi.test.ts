// Workspaces through the API of the running service, with the real `claude` (fake Messages
// API) changing files in its worktree: a bad repository, ref, branch or dirty base is a
// 4xx before anything is appended; the diff (JSON hunks and text), the commits, a fork
// starting from its parent's commit, merge, a conflict refused with its files, discard.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startOfflineService, type OfflineService } from "../support/offlineService.ts"
import { initRepo, sh } from "./gitFixture.ts"
import { serviceCalls } from "./serviceCalls.ts"

let svc: OfflineService
let root: string
let repo: string
let wsRoot: string

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "agentlog-wsapi-"))
  repo = join(root, "repo")
  wsRoot = join(root, "workspaces")
  initRepo(repo, { "shared.txt": "base\n" })
  svc = await startOfflineService("wsapi", { AGENTLOG_WORKSPACE_ROOT: wsRoot })
}, 60_000)

afterAll(async () => {
  await svc?.close()
  rmSync(root, { recursive: true, force: true })
})

const { call, settled } = serviceCalls(() => svc.service.url)

/** A run that writes `content` to `file` in its own directory with Bash (no path: only the worktree is its cwd). */
const writes = (file: string, content: string) => [
  { text: `Writing ${file}.`, toolUse: { name: "Bash", input: { command: `printf '${content}\\n' > ${file}` } } },
  { text: "Done." }
]

const launch = (query: string, workspace: Record<string, unknown> = { kind: "worktree" }, cwd = repo) =>
  call("POST", "/v1/sessions", { query, cwd, permissionMode: "bypassPermissions", workspace })

describe("workspaces through the API", () => {
  it("refuses a bad repository, ref, branch or dirty base with problem+json, appending nothing", async () => {
    const plain = join(root, "plain")
    mkdirSync(plain)
    const refs = sh(repo, "for-each-ref")
    const cases: Array<[Record<string, unknown>, string, number, string]> = [
      [{ kind: "worktree" }, plain, 400, "workspace-not-a-repository"],
      [{ kind: "worktree", baseRef: "nope" }, repo, 400, "workspace-ref-not-found"],
      [{ kind: "worktree", branch: "bad..name" }, repo, 400, "workspace-bad-branch-name"],
      [{ kind: "worktree", branch: "main" }, repo, 409, "workspace-branch-exists"]
    ]
    for (const [workspace, cwd, status, slug] of cases) {
      const r = await launch("never", workspace, cwd)
      expect([r.status, r.type, r.body?.type]).toEqual([status, "application/problem+json", `urn:agentlog:problem:${slug}`])
    }
    writeFileSync(join(repo, "shared.txt"), "dirty\n")
    const dirty = await launch("never")
    sh(repo, "checkout", "--", "shared.txt")
    expect([dirty.status, dirty.body?.reason]).toEqual([409, "dirty_base"])
    expect(dirty.body?.detail).toContain("uncommitted changes")
    const list = await call("GET", "/v1/sessions")
    expect(list.body!.items).toHaveLength(0)
    expect(sh(repo, "for-each-ref")).toBe(refs)
    expect(existsSync(wsRoot)).toBe(false)
  })

  it("shows each session's changes, forks from the parent's commit, merges, refuses a conflict with its files, discards", async () => {
    svc.fake.setScript([...writes("shared.txt", "from a"), ...writes("fork.txt", "in the fork"), ...writes("shared.txt", "from b")])
    const a = (await launch("a changes shared.txt")).body!.sessionId as string
    expect((await settled(a)).status).toBe("completed")

    // The diff against the base, as files and hunks and as git's text.
    const diff = await call("GET", `/v1/sessions/${a}/diff`)
    expect(diff.status).toBe(200)
    expect(diff.body!.to).toBe("worktree")
    expect(diff.body!.files).toEqual([
      {
        oldPath: "shared.txt",
        newPath: "shared.txt",
        status: "modified",
        binary: false,
        hunks: [
          {
            header: "@@ -1 +1 @@",
            oldStart: 1,
            oldLines: 1,
            newStart: 1,
            newLines: 1,
            lines: [
              { kind: "del", text: "base" },
              { kind: "add", text: "from a" }
            ]
          }
        ]
      }
    ])
    const text = await call("GET", `/v1/sessions/${a}/diff`, undefined, { Accept: "text/x-diff" })
    expect(text.type).toContain("text/x-diff")
    expect(text.text).toContain("-base\n+from a\n")

    const commits = await call("GET", `/v1/sessions/${a}/commits`)
    const [commit] = commits.body!.commits
    expect(commit).toMatchObject({ changed: true, outcome: "completed", fileCount: 1, insertions: 1, deletions: 1 })
    expect(commits.body!.workspace).toMatchObject({ baseRef: "main", branch: `agentlog/${a.slice(0, 8)}`, head: commit.sha, status: "active" })
    const byRun = await call("GET", `/v1/sessions/${a}/diff?run=${commit.runId}`)
    expect([byRun.body!.from, byRun.body!.to]).toEqual([commit.parentSha, commit.sha])
    expect(byRun.body!.files).toEqual(diff.body!.files)
    expect((await call("GET", `/v1/sessions/${a}/diff?from=${commit.parentSha}`)).status).toBe(400)
    expect((await call("GET", `/v1/sessions/${a}/diff?from=${commit.parentSha}&to=${"0".repeat(40)}`)).status).toBe(400)

    // A fork works in a worktree of its own, from a's commit.
    const fork = await call("POST", `/v1/sessions/${a}/fork`, { query: "fork adds a file" })
    expect(fork.status).toBe(202)
    const f = fork.body!.sessionId as string
    expect((await settled(f)).status).toBe("completed")
    const fw = (await call("GET", `/v1/sessions/${f}/commits`)).body!
    expect(fw.workspace).toMatchObject({ baseSha: commit.sha, branch: `agentlog/${f.slice(0, 8)}` })
    expect(readFileSync(join(fw.workspace.path, "shared.txt"), "utf8")).toBe("from a\n")
    expect(readFileSync(join(fw.workspace.path, "fork.txt"), "utf8")).toBe("in the fork\n")
    expect(existsSync(join(wsRoot, a, "fork.txt"))).toBe(false)

    const b = (await launch("b changes shared.txt too")).body!.sessionId as string
    expect((await settled(b)).status).toBe("completed")

    // a merges (fast-forward); b then conflicts on shared.txt and main stays as a left it.
    const merged = await call("POST", `/v1/sessions/${a}/workspace/merge`, {})
    expect([merged.status, merged.body!.fastForward, merged.body!.sha]).toEqual([202, true, commit.sha])
    expect(sh(repo, "rev-parse", "main")).toBe(commit.sha)
    expect(readFileSync(join(repo, "shared.txt"), "utf8")).toBe("from a\n")
    const refused = await call("POST", `/v1/sessions/${b}/workspace/merge`, {})
    expect([refused.status, refused.type, refused.body!.reason, refused.body!.files]).toEqual([
      409,
      "application/problem+json",
      "conflict",
      ["shared.txt"]
    ])
    expect(sh(repo, "rev-parse", "main")).toBe(commit.sha)

    // Discarding b removes its worktree and branch; the record keeps its commits.
    const bw = (await call("GET", `/v1/sessions/${b}/commits`)).body!
    const discarded = await call("POST", `/v1/sessions/${b}/workspace/discard`)
    expect(discarded.status).toBe(202)
    expect(existsSync(bw.workspace.path)).toBe(false)
    expect(sh(repo, "branch", "--list", bw.workspace.branch)).toBe("")
    const after = (await call("GET", `/v1/sessions/${b}/commits`)).body!
    expect([after.workspace.status, after.commits.length]).toEqual(["discarded", 1])
    expect((await call("POST", `/v1/sessions/${b}/workspace/discard`)).status).toBe(409)
    const types = (await call("GET", `/v1/sessions/${a}/events?limit=500`)).body!.items.map((e: { type: string }) => e.type)
    expect(types).toContain("WorkspaceMerged")
  }, 240_000)
})
