// The record's rules for a session's worktree: made once, by the running run; each run's
// commit recorded while that run is still active (before its end); merge, rebase and
// discard only when no run is working in it, and nothing after a discard.
import { describe, expect, it } from "vitest"
import { Harness } from "../support/domainFixtures.ts"

const sha = (c: string) => c.repeat(40)
const created = (runId: string) =>
  ({ kind: "RecordWorkspaceCreated", data: { runId, repo: "/r", baseRef: "main", baseSha: sha("a"), branch: "agentlog/x", path: "/w/x", cwd: "/w/x" } }) as const
const committed = (runId: string, s = "b") =>
  ({
    kind: "RecordWorkspaceCommitted",
    data: { runId, sha: sha(s), parentSha: sha("a"), changed: true, outcome: "completed", files: [], fileCount: 0, insertions: 0, deletions: 0 }
  }) as const
const finish = (runId: string) => ({ kind: "FinishRun", runId, outcome: { kind: "interrupted" } }) as const
const merged = { kind: "RecordWorkspaceMerged", data: { into: "main", sha: sha("c"), fastForward: true } } as const
const discarded = { kind: "RecordWorkspaceDiscarded", data: { reason: "asked" } } as const

describe("the workspace's record", () => {
  it("is made by the running run, once; each run's commit comes before its end and moves the head", () => {
    const h = new Harness()
    h.launch({ workspace: { kind: "worktree" } })
    expect(h.refuse(created(h.runId))._tag).toBe("InvalidTransition") // queued: not claimed yet
    h.start()
    h.run(created(h.runId))
    expect(h.refuse(created(h.runId))._tag).toBe("InvalidTransition")
    expect(h.refuse(committed("00000000-0000-4000-8000-000000000000"))._tag).toBe("InvalidTransition")
    h.run(committed(h.runId))
    expect(h.session.workspace).toMatchObject({ head: sha("b"), status: "active", commits: [{ runId: h.runId, sha: sha("b") }] })
    h.run(finish(h.runId))
    expect(h.refuse(committed(h.runId, "c"))._tag).toBe("InvalidTransition") // ended: too late
    expect(h.refold()).toEqual(h.state)
  })

  it("merges, rebases and discards only while no run works in it; nothing after a discard", () => {
    const h = new Harness()
    h.launch({ workspace: { kind: "worktree" } })
    h.start()
    expect(h.refuse(merged)._tag).toBe("InvalidTransition") // no workspace yet
    h.run(created(h.runId))
    expect(h.refuse(merged)).toMatchObject({ reason: "a run is active in the workspace" })
    h.run(finish(h.runId))
    h.run(merged)
    expect(h.session.workspace?.merged).toEqual({ into: "main", sha: sha("c") })
    h.run(discarded)
    expect(h.session.workspace?.status).toBe("discarded")
    for (const c of [merged, discarded]) expect(h.refuse(c)).toMatchObject({ reason: "the workspace was discarded" })
  })
})

describe("a reset to an earlier run", () => {
  const reset = (toRunId: string, runId = "00000000-0000-4000-8000-00000000000f") =>
    ({ kind: "ResetToRun", toRunId, runId, query: "again", atMessage: "m-1", claudeSessionId: "claude-1", by: "alice" }) as const

  it("records what it resets away under a ref of its own, then queues the next run resumed at the run's end", () => {
    const h = new Harness()
    h.launch({ workspace: { kind: "worktree" } })
    h.start()
    const run1 = h.runId
    h.run(created(run1))
    h.run(committed(run1, "b"))
    h.complete()
    h.continue("second")
    h.start()
    h.run(committed(h.runId, "c"))
    const run2 = h.runId
    expect(h.refuse(reset(run1))).toMatchObject({ _tag: "InvalidTransition", reason: "a run is active in the workspace" })
    h.complete()
    const events = h.run(reset(run1))
    expect(events.map((e) => e.type)).toEqual(["WorkspaceReset", "ContinueRequested"])
    expect(events[0]!.data).toEqual({
      runId: run1,
      sha: sha("b"),
      previousSha: sha("c"),
      keptAs: `refs/agentlog/reset/${h.session.sessionId}/1`,
      atMessage: "m-1",
      claudeSessionId: "claude-1",
      by: "alice"
    })
    expect(h.session).toMatchObject({ status: "queued", runId: "00000000-0000-4000-8000-00000000000f", claudeSessionId: "claude-1", resumeAt: "m-1" })
    expect(h.session.workspace).toMatchObject({ head: sha("b"), resets: [{ runId: run1, sha: sha("b"), previousSha: sha("c") }] })
    // Claude names the forked conversation: the next runs resume it from its end.
    h.start()
    h.claude({ type: "system", subtype: "init", session_id: "claude-2", uuid: "u-1" })
    expect(h.session).toMatchObject({ claudeSessionId: "claude-2", resumeAt: undefined })
    h.complete()
    // Each reset its own ref.
    expect(h.run(reset(run2, "00000000-0000-4000-8000-00000000001f"))[0]!.data).toMatchObject({
      keptAs: `refs/agentlog/reset/${h.session.sessionId}/2`,
      previousSha: sha("b")
    })
    expect(h.refold()).toEqual(h.state)
  })

  it("refuses a run without a commit, a session without a workspace, and a discarded workspace", () => {
    const bare = new Harness()
    bare.launch()
    bare.start()
    bare.complete()
    expect(bare.refuse(reset(bare.runId))).toMatchObject({ reason: "the session has no workspace" })
    const h = new Harness()
    h.launch({ workspace: { kind: "worktree" } })
    h.start()
    h.run(created(h.runId))
    h.fail()
    expect(h.refuse(reset(h.runId))).toMatchObject({ _tag: "RunWithoutCommit", runId: h.runId })
    h.run(discarded)
    expect(h.refuse(reset(h.runId))).toMatchObject({ reason: "the workspace was discarded" })
  })
})
