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
