// Workspaces under the real supervisor: the real `claude` against the fake Messages API
// writes files with its Write tool in the session's worktree; each run's changes become
// one commit recorded in the session's stream, sessions on one repository never see each
// other's changes, and a workspace that cannot be made fails the run saying why, leaving
// nothing behind.
import { randomUUID } from "node:crypto"
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { initRepo, sh } from "./gitFixture.ts"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import type { WorkspaceOption } from "../../src/domain/sessionOptions.ts"
import { waitFor } from "../support/waitFor.ts"
import { startSupervisorHarness, type SupervisorHarness } from "../support/supervisorHarness.ts"

let h: SupervisorHarness | undefined
let root: string
let repo: string
let wsRoot: string


beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "agentlog-wsrun-"))
  repo = join(root, "repo")
  wsRoot = join(root, "workspaces")
  initRepo(repo, { "shared.txt": "base\n" })
})

afterEach(async () => {
  await h?.close()
  h = undefined
  rmSync(root, { recursive: true, force: true })
})

const ended = ["completed", "failed", "interrupted", "abandoned"] as const

/** Launches with a chosen session id, so the script can name the file in its worktree. */
const launch = async (sessionId: string, query: string, workspace: WorkspaceOption = { kind: "worktree" }) => {
  const runId = randomUUID()
  await command(h!, { kind: "LaunchSession", sessionId, runId, query, options: { cwd: repo, permissionMode: "bypassPermissions", workspace }, bypass: { expiresAt: new Date(Date.now() + 3_600_000).toISOString(), grantedBy: "test" } })
  return runId
}

const command = (harness: SupervisorHarness, c: Parameters<SupervisorHarness["command"]>[0]) => Effect.runPromise(harness.command(c))

const write = (sessionId: string, file: string, content: string) => ({
  text: `Writing ${file}.`,
  toolUse: { name: "Write", input: { file_path: join(wsRoot, sessionId, file), content } }
})

const committed = async (sessionId: string) =>
  (await h!.events(sessionId)).filter((e) => e.type === "WorkspaceCommitted").map((e) => e.data as Record<string, unknown>)

describe("a session's runs in its own worktree", () => {
  it("keeps two sessions on one repository apart, and commits each run's edits, exactly, on its branch", async () => {
    const a = randomUUID()
    const b = randomUUID()
    h = await startSupervisorHarness(
      [
        // The Bash command names no directory: it lands in the worktree only if Claude runs there.
        { ...write(a, "shared.txt", "from a\n"), toolUse: [write(a, "shared.txt", "from a\n").toolUse, { name: "Bash", input: { command: "printf 'by bash\\n' > by-bash.txt" } }] },
        { text: "a done" },
        write(b, "shared.txt", "from b\n"),
        { text: "b done" }
      ],
      { workspaceRoot: wsRoot }
    )
    await launch(a, "change shared.txt (a)")
    expect((await h.waitForStatus(a, ended)).status).toBe("completed")
    await launch(b, "change shared.txt (b)")
    expect((await h.waitForStatus(b, ended)).status).toBe("completed")

    const [sa, sb] = [await h.state(a), await h.state(b)]
    // Each worktree holds its own edit; the repository's own checkout holds neither.
    expect(readFileSync(join(sa.workspace!.path, "shared.txt"), "utf8")).toBe("from a\n")
    expect(readFileSync(join(sb.workspace!.path, "shared.txt"), "utf8")).toBe("from b\n")
    expect(readFileSync(join(repo, "shared.txt"), "utf8")).toBe("base\n")
    expect(sh(repo, "status", "--porcelain")).toBe("")
    expect(readFileSync(join(sa.workspace!.path, "by-bash.txt"), "utf8")).toBe("by bash\n")

    // The record: created, then committed before the run's end, naming the file and the counts.
    const types = await h.types(a)
    expect(types.indexOf("WorkspaceCreated")).toBeGreaterThan(types.indexOf("RunStarted"))
    expect(types.indexOf("WorkspaceCommitted")).toBeLessThan(types.indexOf("RunCompleted"))
    const [ca] = await committed(a)
    expect(ca).toMatchObject({
      changed: true,
      outcome: "completed",
      parentSha: sh(repo, "rev-parse", "main"),
      files: [
        { path: "by-bash.txt", insertions: 1, deletions: 0, binary: false },
        { path: "shared.txt", insertions: 1, deletions: 1, binary: false }
      ],
      fileCount: 2
    })
    expect(sh(repo, "rev-parse", sa.workspace!.branch)).toBe(ca!.sha)
    expect(sh(repo, "show", `${ca!.sha as string}:shared.txt`)).toBe("from a")
    expect(sh(repo, "log", "--format=%B", "-1", ca!.sha as string)).toContain(`run ${sa.runId} (completed)`)
    const [cb] = await committed(b)
    expect(sh(repo, "show", `${cb!.sha as string}:shared.txt`)).toBe("from b")
    expect(sb.workspace!.branch).toBe(`agentlog/${b.slice(0, 8)}`)

    // A second run of a: its commit holds that run's edit and nothing of the first.
    h.fake.setScript([write(a, "second.txt", "two\n"), { text: "second done" }])
    await h.continueSession(a, "add second.txt")
    await h.waitFor(a, (s) => s.runs === 2 && ended.includes(s.status as (typeof ended)[number]))
    const [, second] = await committed(a)
    expect(second).toMatchObject({ parentSha: ca!.sha, changed: true, files: [{ path: "second.txt", insertions: 1, deletions: 0 }] })
    expect(sh(repo, "diff", "--name-only", ca!.sha as string, second!.sha as string)).toBe("second.txt")

    // A run that changes nothing says so, and its head stays.
    h.fake.setScript([{ text: "nothing to do" }])
    await h.continueSession(a, "look only")
    await h.waitFor(a, (s) => s.runs === 3 && ended.includes(s.status as (typeof ended)[number]))
    const [, , third] = await committed(a)
    expect(third).toMatchObject({ changed: false, sha: second!.sha, parentSha: second!.sha, files: [], fileCount: 0 })
  }, 180_000)

  it("cleans up: an archived session's worktree goes (its branch stays, a continue checks it out again); at start a worktree nobody recorded is removed and a recorded one that is gone is reported", async () => {
    const a = randomUUID()
    const c = randomUUID()
    const lines: Array<{ msg: string; fields: Record<string, unknown> }> = []
    const logger = { log: (_: unknown, msg: string, fields: Record<string, unknown> = {}) => void lines.push({ msg, fields }) }
    h = await startSupervisorHarness(
      [write(a, "one.txt", "1\n"), { text: "a done" }, write(c, "c.txt", "c\n"), { text: "c done" }, write(a, "two.txt", "2\n"), { text: "again" }],
      { workspaceRoot: wsRoot },
      { logger }
    )
    await launch(a, "a")
    await h.waitForStatus(a, ended)
    await launch(c, "c")
    await h.waitForStatus(c, ended)
    const aw = (await h.state(a)).workspace!
    const cw = (await h.state(c)).workspace!

    await command(h, { kind: "ArchiveSession", sessionId: a })
    await waitFor("the archived session's worktree to go", () => (existsSync(aw.path) ? undefined : true))
    expect(sh(repo, "rev-parse", aw.branch)).toBe(aw.head)

    // A crash between making a worktree and recording it leaves one nobody recorded.
    const stray = join(wsRoot, randomUUID())
    sh(repo, "worktree", "add", "--quiet", "-b", "agentlog/stray", stray, "main")
    rmSync(cw.path, { recursive: true, force: true })
    await h.restart()
    expect(existsSync(stray)).toBe(false)
    expect(sh(repo, "branch", "--list", "agentlog/stray")).toBe("")
    expect(lines.find((l) => l.msg === "a recorded workspace is missing from disk")?.fields).toMatchObject({ sessionId: c, branchKept: true })
    expect(sh(repo, "worktree", "list", "--porcelain")).not.toContain(stray)

    await command(h, { kind: "UnarchiveSession", sessionId: a })
    await h.continueSession(a, "add two.txt")
    await h.waitFor(a, (s) => s.runs === 2 && ended.includes(s.status as (typeof ended)[number]))
    expect(readFileSync(join(aw.path, "one.txt"), "utf8")).toBe("1\n")
    const [, second] = await committed(a)
    expect(second).toMatchObject({ parentSha: aw.head, files: [{ path: "two.txt" }] })
  }, 180_000)

  it("fails the run saying which when the workspace cannot be made, and leaves nothing behind", async () => {
    h = await startSupervisorHarness([], { workspaceRoot: wsRoot })
    const before = [sh(repo, "for-each-ref"), sh(repo, "worktree", "list", "--porcelain")].join("\n")
    const cases: Array<[WorkspaceOption, string]> = [
      [{ kind: "worktree", baseRef: "no-such-ref" }, "no-such-ref names no commit"],
      [{ kind: "worktree", branch: "main" }, "branch main already exists"],
      [{ kind: "worktree", branch: "bad..name" }, "bad..name is not a valid branch name"]
    ]
    for (const [workspace, says] of cases) {
      const id = randomUUID()
      await launch(id, "never runs", workspace)
      const s = await h.waitForStatus(id, ended)
      expect(s.status).toBe("failed")
      expect(s.lastError).toContain(says)
      expect(s.workspace).toBeUndefined()
      expect(existsSync(join(wsRoot, id))).toBe(false)
    }
    writeFileSync(join(repo, "shared.txt"), "dirty\n")
    const dirty = randomUUID()
    await launch(dirty, "never runs")
    expect((await h.waitForStatus(dirty, ended)).lastError).toContain("uncommitted changes")
    sh(repo, "checkout", "--", "shared.txt")
    const notRepo = randomUUID()
    const plain = join(root, "plain")
    mkdirSync(plain)
    await command(h, {
      kind: "LaunchSession",
      sessionId: notRepo,
      runId: randomUUID(),
      query: "never runs",
      options: { cwd: plain, workspace: { kind: "worktree" } }
    })
    expect((await h.waitForStatus(notRepo, ended)).lastError).toContain("is not inside a git repository")
    expect(h.fake.mainRequests()).toHaveLength(0)
    expect([sh(repo, "for-each-ref"), sh(repo, "worktree", "list", "--porcelain")].join("\n")).toBe(before)
  }, 120_000)
})
