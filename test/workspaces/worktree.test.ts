// The workspace operations on real repositories made here with Debian's git: isolation,
// a commit per run, merges (fast-forward, merge commit, conflict), rebase, reset, discard,
// and every refusal leaving the repository as it was.
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { execFileSync } from "node:child_process"
import { Effect, Exit } from "effect"
import { initRepo, sh } from "./gitFixture.ts"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { diffCommits, diffWorkingTree, parseUnifiedDiff } from "../../src/workspaces/diff.ts"
import {
  applyReset,
  commitRun,
  createWorkspace,
  discardWorkspace,
  listWorktrees,
  mergeWorkspace,
  rebaseWorkspace,
  resetWorkspace,
  type WorkspaceRefusal
} from "../../src/workspaces/worktree.ts"

let root: string
let repo: string


const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e)

const refusal = async (e: Effect.Effect<unknown, unknown>): Promise<{ reason: WorkspaceRefusal; files?: ReadonlyArray<string> }> => {
  const exit = await Effect.runPromiseExit(e)
  if (Exit.isSuccess(exit)) throw new Error("expected a refusal, got success")
  const err = Exit.findErrorOption(exit)
  const v = err._tag === "Some" ? (err.value as { _tag?: string; reason: WorkspaceRefusal; files?: ReadonlyArray<string> }) : undefined
  if (v?._tag !== "WorkspaceRefused") throw new Error(`expected WorkspaceRefused, got ${String(v?._tag)}`)
  return v
}

/** Everything git would tell about the repository's refs and worktrees: unchanged by a refusal. */
const repoState = () => [sh(repo, "for-each-ref"), sh(repo, "worktree", "list", "--porcelain"), sh(repo, "status", "--porcelain")].join("\n")

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "agentlog-ws-"))
  repo = join(root, "repo")
  initRepo(repo, { "a.txt": "one\ntwo\nthree\n", "src/b.txt": "b\n" })
})

afterEach(() => rmSync(root, { recursive: true, force: true }))

const make = (branch: string, extra: { baseRef?: string; cwd?: string } = {}) =>
  run(createWorkspace({ cwd: extra.cwd ?? repo, baseRef: extra.baseRef, branch, path: join(root, "ws", branch.replace(/\//g, "_")) }))

describe("creating a workspace", () => {
  it("makes a worktree on a new branch from the base, with the cwd translated into it", async () => {
    const ws = await make("agentlog/s1", { cwd: join(repo, "src") })
    expect(ws.repo).toBe(repo)
    expect(ws.baseRef).toBe("main")
    expect(ws.baseSha).toBe(sh(repo, "rev-parse", "main"))
    expect(ws.cwd).toBe(join(ws.path, "src"))
    expect(readFileSync(join(ws.path, "a.txt"), "utf8")).toBe("one\ntwo\nthree\n")
    expect(sh(ws.path, "rev-parse", "--abbrev-ref", "HEAD")).toBe("agentlog/s1")
    expect((await run(listWorktrees(repo))).map((w) => w.branch)).toEqual(["main", "agentlog/s1"])
  })

  it("keeps two sessions' changes apart", async () => {
    const a = await make("agentlog/a")
    const b = await make("agentlog/b")
    writeFileSync(join(a.path, "a.txt"), "from a\n")
    writeFileSync(join(b.path, "a.txt"), "from b\n")
    expect(readFileSync(join(a.path, "a.txt"), "utf8")).toBe("from a\n")
    expect(readFileSync(join(repo, "a.txt"), "utf8")).toBe("one\ntwo\nthree\n")
    const ca = await run(commitRun(a.path, "a"))
    const cb = await run(commitRun(b.path, "b"))
    expect(sh(repo, "show", `${ca.sha}:a.txt`)).toBe("from a")
    expect(sh(repo, "show", `${cb.sha}:a.txt`)).toBe("from b")
  })

  const refusals: ReadonlyArray<[string, WorkspaceRefusal, () => { cwd?: string; baseRef?: string; branch?: string }]> = [
    ["a directory outside any repository", "not_a_repository", () => ({ cwd: mkdtempSync(join(tmpdir(), "agentlog-norepo-")) })],
    ["a base ref that names nothing", "ref_not_found", () => ({ baseRef: "no-such-branch" })],
    ["uncommitted changes on the base", "dirty_base", () => (writeFileSync(join(repo, "a.txt"), "dirty\n"), {})],
    ["a branch that exists", "branch_exists", () => (sh(repo, "branch", "taken"), { branch: "taken" })],
    ["a branch name git refuses", "bad_branch_name", () => ({ branch: "bad..name" })]
  ]
  for (const [what, reason, setup] of refusals) {
    it(`refuses ${what}, leaving nothing behind`, async () => {
      const s = setup()
      const before = repoState()
      const path = join(root, "ws", "x")
      const r = await refusal(createWorkspace({ cwd: s.cwd ?? repo, baseRef: s.baseRef, branch: s.branch ?? "agentlog/x", path }))
      expect(r.reason).toBe(reason)
      expect(repoState()).toBe(before)
      expect(existsSync(path)).toBe(false)
    })
  }

  it("refuses a repository the service cannot write", async () => {
    const path = join(root, "ws", "ro")
    if (process.getuid?.() !== 0) {
      chmodSync(join(repo, ".git"), 0o555)
      try {
        expect((await refusal(createWorkspace({ cwd: repo, branch: "agentlog/ro", path }))).reason).toBe("not_writable")
      } finally {
        chmodSync(join(repo, ".git"), 0o755)
      }
      return
    }
    // root writes anywhere: ask as another user, for whom this repository is someone else's.
    chmodSync(root, 0o755)
    const out = execFileSync(
      "setpriv",
      ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, join(import.meta.dirname, "createAsChild.ts"), repo, path],
      { encoding: "utf8", env: { PATH: process.env.PATH ?? "", HOME: "/nonexistent" } }
    )
    expect(JSON.parse(out)).toMatchObject({ _tag: "WorkspaceRefused", reason: "not_writable" })
    expect(existsSync(path)).toBe(false)
  })
})

describe("a commit per run", () => {
  it("commits exactly the run's edits, new and deleted files included, with line counts", async () => {
    const ws = await make("agentlog/c")
    writeFileSync(join(ws.path, "a.txt"), "one\nTWO\nthree\nfour\n")
    writeFileSync(join(ws.path, "new.txt"), "n1\nn2\n")
    rmSync(join(ws.path, "src", "b.txt"))
    const c = await run(commitRun(ws.path, "run 1"))
    expect(c.changed).toBe(true)
    expect([...c.files].sort((x, y) => x.path.localeCompare(y.path))).toEqual([
      { path: "a.txt", insertions: 2, deletions: 1, binary: false },
      { path: "new.txt", insertions: 2, deletions: 0, binary: false },
      { path: "src/b.txt", insertions: 0, deletions: 1, binary: false }
    ])
    expect([c.insertions, c.deletions]).toEqual([4, 2])
    expect(sh(ws.path, "log", "-1", "--format=%s%n%an")).toBe("run 1\nagentlog")
    // The second run sees only its own change.
    writeFileSync(join(ws.path, "new.txt"), "n1\nn2\nn3\n")
    const c2 = await run(commitRun(ws.path, "run 2"))
    expect(c2.files).toEqual([{ path: "new.txt", insertions: 1, deletions: 0, binary: false }])
    expect(sh(ws.path, "rev-parse", "HEAD~1")).toBe(c.sha)
  })

  it("records that a run changed nothing, without an empty commit", async () => {
    const ws = await make("agentlog/n")
    const c = await run(commitRun(ws.path, "nothing"))
    expect(c).toEqual({ sha: ws.baseSha, changed: false, files: [], insertions: 0, deletions: 0 })
  })
})

describe("review", () => {
  it("diffs commits and the live working tree (untracked files too) as text and as hunks", async () => {
    const ws = await make("agentlog/d")
    writeFileSync(join(ws.path, "a.txt"), "one\nTWO\nthree\n")
    const c = await run(commitRun(ws.path, "r1"))
    const files = parseUnifiedDiff(await run(diffCommits(ws.path, ws.baseSha, c.sha)))
    expect(files).toEqual([
      {
        oldPath: "a.txt",
        newPath: "a.txt",
        status: "modified",
        binary: false,
        hunks: [
          {
            header: "@@ -1,3 +1,3 @@",
            oldStart: 1,
            oldLines: 3,
            newStart: 1,
            newLines: 3,
            lines: [
              { kind: "context", text: "one" },
              { kind: "del", text: "two" },
              { kind: "add", text: "TWO" },
              { kind: "context", text: "three" }
            ]
          }
        ]
      }
    ])
    writeFileSync(join(ws.path, "fresh.txt"), "x\n")
    rmSync(join(ws.path, "src", "b.txt"))
    const live = parseUnifiedDiff(await run(diffWorkingTree(ws.path, ws.baseSha)))
    expect(live.map((f) => [f.status, f.oldPath, f.newPath])).toEqual([
      ["modified", "a.txt", "a.txt"],
      ["added", null, "fresh.txt"],
      ["deleted", "src/b.txt", null]
    ])
    // The workspace's own index is untouched by the live diff.
    expect(sh(ws.path, "status", "--porcelain")).toBe("D src/b.txt\n?? fresh.txt")
  })
})

describe("finishing", () => {
  it("fast-forwards the base branch, updating its checkout", async () => {
    const ws = await make("agentlog/ff")
    writeFileSync(join(ws.path, "a.txt"), "ff\n")
    const c = await run(commitRun(ws.path, "r"))
    const m = await run(mergeWorkspace(repo, "agentlog/ff", "main", "merge"))
    expect(m).toEqual({ sha: c.sha, fastForward: true })
    expect(readFileSync(join(repo, "a.txt"), "utf8")).toBe("ff\n")
  })

  it("makes a merge commit when the base moved, and refuses a conflict naming its files, merging nothing", async () => {
    const first = sh(repo, "rev-parse", "main")
    const ws = await make("agentlog/m")
    writeFileSync(join(ws.path, "new.txt"), "mine\n")
    await run(commitRun(ws.path, "r"))
    writeFileSync(join(repo, "src", "b.txt"), "theirs\n")
    sh(repo, "commit", "--quiet", "-am", "base moved")
    const m = await run(mergeWorkspace(repo, "agentlog/m", "main", "merge agentlog/m"))
    expect(m.fastForward).toBe(false)
    expect(sh(repo, "log", "-1", "--format=%P")).toBe(`${sh(repo, "rev-parse", "HEAD~1")} ${sh(ws.path, "rev-parse", "HEAD")}`)
    expect(readFileSync(join(repo, "new.txt"), "utf8")).toBe("mine\n")

    const ws2 = await make("agentlog/conflict", { baseRef: first })
    writeFileSync(join(ws2.path, "src", "b.txt"), "conflicting\n")
    await run(commitRun(ws2.path, "r"))
    const before = repoState()
    const r = await refusal(mergeWorkspace(repo, "agentlog/conflict", "main", "merge"))
    expect(r).toMatchObject({ reason: "conflict", files: ["src/b.txt"] })
    expect(repoState()).toBe(before)
  })

  it("rebases onto a newer base, and undoes a conflicting rebase", async () => {
    const ws = await make("agentlog/r")
    writeFileSync(join(ws.path, "new.txt"), "mine\n")
    await run(commitRun(ws.path, "r"))
    writeFileSync(join(repo, "src", "b.txt"), "base 2\n")
    sh(repo, "commit", "--quiet", "-am", "base 2")
    const head = await run(rebaseWorkspace(ws.path, "main"))
    expect(sh(ws.path, "rev-parse", "HEAD~1")).toBe(sh(repo, "rev-parse", "main"))
    expect(head).toBe(sh(ws.path, "rev-parse", "HEAD"))

    writeFileSync(join(ws.path, "a.txt"), "ws side\n")
    await run(commitRun(ws.path, "r2"))
    writeFileSync(join(repo, "a.txt"), "base side\n")
    sh(repo, "commit", "--quiet", "-am", "base 3")
    const before = sh(ws.path, "rev-parse", "HEAD")
    expect(await refusal(rebaseWorkspace(ws.path, "main"))).toMatchObject({ reason: "conflict", files: ["a.txt"] })
    expect(sh(ws.path, "rev-parse", "HEAD")).toBe(before)
    expect(sh(ws.path, "status", "--porcelain")).toBe("")
  })

  it("resets to an earlier run's commit and discards worktree and branch", async () => {
    const ws = await make("agentlog/x")
    writeFileSync(join(ws.path, "a.txt"), "run 1\n")
    const c1 = await run(commitRun(ws.path, "r1"))
    writeFileSync(join(ws.path, "a.txt"), "run 2\n")
    writeFileSync(join(ws.path, "stray.txt"), "left by run 3\n")
    await run(resetWorkspace(ws.path, c1.sha))
    expect(readFileSync(join(ws.path, "a.txt"), "utf8")).toBe("run 1\n")
    expect(existsSync(join(ws.path, "stray.txt"))).toBe(false)

    await run(discardWorkspace(repo, ws.path, "agentlog/x"))
    expect(existsSync(ws.path)).toBe(false)
    expect(sh(repo, "branch", "--list", "agentlog/x")).toBe("")
    expect((await run(listWorktrees(repo))).length).toBe(1)
    // Discarding again (a retry after a crash) is no error.
    await run(discardWorkspace(repo, ws.path, "agentlog/x"))
  })

  it("carries out a recorded reset once, keeping every head it leaves and what was left uncommitted; a repeat changes nothing", async () => {
    const ws = await make("agentlog/r")
    writeFileSync(join(ws.path, "a.txt"), "run 1\n")
    const c1 = await run(commitRun(ws.path, "r1"))
    writeFileSync(join(ws.path, "a.txt"), "run 2\n")
    const c2 = await run(commitRun(ws.path, "r2"))
    // A reset whose run never started, then another: the worktree is still at run 2's commit.
    const resets = [
      { runId: "r2", sha: c2.sha, previousSha: c2.sha, keptAs: "refs/agentlog/reset/s/1" },
      { runId: "r1", sha: c1.sha, previousSha: c2.sha, keptAs: "refs/agentlog/reset/s/2" }
    ]
    writeFileSync(join(ws.path, "a.txt"), "edited by hand\n")
    writeFileSync(join(ws.path, "new.txt"), "untracked\n")
    expect(await run(applyReset(ws.path, resets))).toBe(true)
    expect(sh(ws.path, "rev-parse", "HEAD")).toBe(c1.sha)
    expect(readFileSync(join(ws.path, "a.txt"), "utf8")).toBe("run 1\n")
    expect(existsSync(join(ws.path, "new.txt"))).toBe(false)
    expect(sh(repo, "rev-parse", "refs/agentlog/reset/s/1", "refs/agentlog/reset/s/2")).toBe(`${c2.sha}\n${c2.sha}`)
    const kept = "refs/agentlog/reset/s/2-uncommitted"
    expect(sh(repo, "show", `${kept}:a.txt`)).toBe("edited by hand")
    expect(sh(repo, "show", `${kept}:new.txt`)).toBe("untracked")
    const refs = sh(repo, "for-each-ref")
    expect(await run(applyReset(ws.path, resets))).toBe(false)
    expect(sh(repo, "for-each-ref")).toBe(refs)
  })
})
