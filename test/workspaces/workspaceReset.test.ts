// "Retry from here" through the API of the running service, with the real `claude` (fake
// Messages API) editing files in its worktree: after two runs, a reset to the first goes on
// from its commit and from Claude's conversation at its end; what the reset left behind
// stays reachable and named in the record; the refusals are problem+json.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startOfflineService, type OfflineService } from "../support/offlineService.ts"
import { waitFor } from "../support/waitFor.ts"
import { initRepo, sh } from "./gitFixture.ts"
import { serviceCalls } from "./serviceCalls.ts"

let svc: OfflineService
let root: string
let repo: string
let wsRoot: string

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "agentlog-wsreset-"))
  repo = join(root, "repo")
  wsRoot = join(root, "workspaces")
  initRepo(repo, { "notes.txt": "base\n" })
  svc = await startOfflineService("wsreset", { AGENTLOG_WORKSPACE_ROOT: wsRoot })
}, 60_000)

afterAll(async () => {
  await svc?.close()
  rmSync(root, { recursive: true, force: true })
})

const { call, settled } = serviceCalls(() => svc.service.url)

/** A run that writes files with Bash in its cwd (the worktree), then says `answer`. */
const edits = (command: string, answer: string) => [
  { text: "Editing.", toolUse: { name: "Bash", input: { command } } },
  { text: answer }
]

const events = async (sessionId: string) =>
  (await call("GET", `/v1/sessions/${sessionId}/events?limit=1000`)).body!.items as Array<{ type: string; data: Record<string, any> }>

const problemOf = (r: Awaited<ReturnType<typeof call>>) => [r.status, r.type, r.body?.type]

describe("reset to a run", () => {
  it("goes on from the run's commit and Claude's conversation at its end, keeping what it reset away", async () => {
    svc.fake.setScript([
      ...edits("printf 'one\\n' > notes.txt && printf 'r1\\n' > run1.txt", "first answer"),
      ...edits("printf 'two\\n' > notes.txt && printf 'r2\\n' > run2.txt", "second answer")
    ])
    const launched = await call("POST", "/v1/sessions", {
      query: "first question",
      cwd: repo,
      permissionMode: "bypassPermissions",
      workspace: { kind: "worktree" }
    })
    const id = launched.body!.sessionId as string
    const run1 = launched.body!.runId as string
    expect(await settled(id, 1)).toMatchObject({ status: "completed" })
    const run2 = (await call("POST", `/v1/sessions/${id}/continue`, { query: "second question" })).body!.runId as string
    expect(await settled(id, 2)).toMatchObject({ status: "completed" })
    const { workspace: w, commits } = (await call("GET", `/v1/sessions/${id}/commits`)).body!
    const [c1, c2] = commits as Array<{ runId: string; sha: string }>
    expect([c1!.runId, c2!.runId]).toEqual([run1, run2])
    expect(readFileSync(join(w.path, "notes.txt"), "utf8")).toBe("two\n")

    svc.fake.setScript(edits("printf 'three\\n' >> notes.txt && printf 'r3\\n' > run3.txt", "third answer"))
    const reset = await call("POST", `/v1/sessions/${id}/workspace/reset`, { run: run1, query: "third question" })
    expect(reset.status).toBe(202)
    const keptAs = `refs/agentlog/reset/${id}/1`
    expect(reset.body).toMatchObject({ sessionId: id, status: "queued", sha: c1!.sha, previousSha: c2!.sha, keptAs })
    const run3 = reset.body!.runId as string
    expect(await settled(id, 3)).toMatchObject({ status: "completed" })

    // The worktree: run 1's content, then the new run's edits; nothing of run 2.
    expect(readFileSync(join(w.path, "notes.txt"), "utf8")).toBe("one\nthree\n")
    expect(readFileSync(join(w.path, "run1.txt"), "utf8")).toBe("r1\n")
    expect(readFileSync(join(w.path, "run3.txt"), "utf8")).toBe("r3\n")
    expect(existsSync(join(w.path, "run2.txt"))).toBe(false)
    const c3 = ((await call("GET", `/v1/sessions/${id}/commits`)).body!.commits as Array<Record<string, any>>).at(-1)!
    expect(c3).toMatchObject({ runId: run3, parentSha: c1!.sha, changed: true })
    expect(sh(repo, "rev-parse", `${c3.sha}^`)).toBe(c1!.sha)
    expect(sh(repo, "rev-parse", w.branch)).toBe(c3.sha)

    // What was reset away is still reachable, by the ref the record names.
    expect(sh(repo, "rev-parse", keptAs)).toBe(c2!.sha)
    expect(sh(repo, "show", `${keptAs}:run2.txt`)).toBe("r2")
    const all = await events(id)
    const types = all.map((e) => e.type)
    const at = types.indexOf("WorkspaceReset")
    expect(types[at + 1]).toBe("ContinueRequested")
    expect(all[at]!.data).toMatchObject({ runId: run1, sha: c1!.sha, previousSha: c2!.sha, keptAs, by: "api" })

    // Claude resumed at run 1's last message: the new run's conversation has run 1, not run 2.
    const run1Last = all.filter((e) => e.type === "ClaudeAssistantMessage" && JSON.stringify(e.data).includes("first answer")).at(-1)!
    expect(all[at]!.data.atMessage).toBe(run1Last.data.message.uuid)
    const sent = JSON.stringify(svc.fake.mainRequests().at(-1)!.body.messages)
    expect(sent).toContain("first question")
    expect(sent).toContain("first answer")
    expect(sent).toContain("third question")
    expect(sent).not.toContain("second question")
    expect(sent).not.toContain("second answer")
    // As a fork of that conversation: the one reset away stays as it was, under its own id.
    const bound = all.filter((e) => e.type === "ClaudeSessionBound").map((e) => e.data.claudeSessionId as string)
    expect(bound).toHaveLength(2)
    expect(new Set(bound).size).toBe(2)

    // The next run goes on from the new conversation's end.
    svc.fake.setScript([{ text: "fourth answer" }])
    await call("POST", `/v1/sessions/${id}/continue`, { query: "fourth question" })
    expect(await settled(id, 4)).toMatchObject({ status: "completed" })
    const fourth = JSON.stringify(svc.fake.mainRequests().at(-1)!.body.messages)
    expect(fourth).toContain("third answer")
    expect(fourth).not.toContain("second answer")
  }, 300_000)

  it("refuses an unknown run, a run without a commit, a session without a workspace, and an active run, with problem+json", async () => {
    // A session without a workspace.
    svc.fake.setScript([{ text: "plain" }])
    const plain = (await call("POST", "/v1/sessions", { query: "plain", cwd: repo })).body!
    await settled(plain.sessionId, 1)
    const noWorkspace = await call("POST", `/v1/sessions/${plain.sessionId}/workspace/reset`, { run: plain.runId, query: "x" })
    expect(problemOf(noWorkspace)).toEqual([404, "application/problem+json", "urn:agentlog:problem:not-found"])

    // A session with a workspace whose second run failed before it had one to work in.
    svc.fake.setScript(edits("printf 'b\\n' > b.txt", "b done"))
    const b = (await call("POST", "/v1/sessions", { query: "b", cwd: repo, permissionMode: "bypassPermissions", workspace: { kind: "worktree" } })).body!
    await settled(b.sessionId, 1)
    const bw = (await call("GET", `/v1/sessions/${b.sessionId}/commits`)).body!.workspace
    await call("POST", `/v1/sessions/${b.sessionId}/archive`)
    await waitFor("the archived session's worktree to go", () => (existsSync(bw.path) ? undefined : true))
    sh(repo, "branch", "-D", bw.branch)
    await call("POST", `/v1/sessions/${b.sessionId}/unarchive`)
    const failedRun = (await call("POST", `/v1/sessions/${b.sessionId}/continue`, { query: "cannot check out" })).body!.runId as string
    expect((await settled(b.sessionId, 2)).status).toBe("failed")
    const noCommit = await call("POST", `/v1/sessions/${b.sessionId}/workspace/reset`, { run: failedRun, query: "x" })
    expect(problemOf(noCommit)).toEqual([409, "application/problem+json", "urn:agentlog:problem:run-without-commit"])
    expect(noCommit.body).toMatchObject({ runId: failedRun })
    const unknown = await call("POST", `/v1/sessions/${b.sessionId}/workspace/reset`, { run: plain.runId, query: "x" })
    expect(problemOf(unknown)).toEqual([404, "application/problem+json", "urn:agentlog:problem:run-not-found"])

    // An active run: waiting for a person to allow its Bash call.
    svc.fake.setScript(edits("printf 'c\\n' > c.txt", "c done"))
    const c = (await call("POST", "/v1/sessions", { query: "c", cwd: repo, permissionMode: "default", workspace: { kind: "worktree" } })).body!
    await waitFor("the run to wait for approval", async () => ((await call("GET", `/v1/sessions/${c.sessionId}`)).body!.status === "waiting_approval" ? true : undefined), {
      timeoutMs: 90_000
    })
    const active = await call("POST", `/v1/sessions/${c.sessionId}/workspace/reset`, { run: c.runId, query: "x" })
    expect(problemOf(active)).toEqual([409, "application/problem+json", "urn:agentlog:problem:invalid-transition"])
    expect(active.body!.detail).toContain("a run is active")
    await call("POST", `/v1/sessions/${c.sessionId}/interrupt`)
    await settled(c.sessionId, 1)
    // None of the refusals appended anything.
    for (const s of [plain.sessionId, b.sessionId, c.sessionId]) expect((await events(s)).map((e) => e.type)).not.toContain("WorkspaceReset")
  }, 300_000)
})
