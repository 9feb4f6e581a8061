// Follow-ups on the session decider: a continue sent while a run is active waits as a
// follow-up; it starts as the next run only when that run completes (StartNextFollowUp,
// the process manager's command), is held and says why when the run fails or is
// interrupted, and can be edited, cancelled or sent only while it waits.
import { describe, expect, it } from "vitest"
import { maxWaitingFollowUps } from "../../src/domain/sessionDecider.ts"
import { redacted } from "../../src/domain/sessionOptions.ts"
import { Harness, newId, runningSession, types } from "../support/domainFixtures.ts"

const queue = (h: Harness, query = "then this", overrides = {}) => {
  const followUpId = newId()
  const runId = newId()
  const events = h.run({ kind: "ContinueSession", runId, query, overrides, followUpId })
  return { followUpId, runId, events }
}

describe("follow-ups", () => {
  it("a continue while a run is active is queued, not started; the active run goes on", () => {
    const h = runningSession()
    const activeRun = h.runId
    const { followUpId, runId, events } = queue(h, "then this", { model: "haiku" })
    expect(events).toEqual([
      { type: "FollowUpQueued", data: { followUpId, runId, query: "then this", overrides: { model: "haiku" }, afterRunId: activeRun } }
    ])
    expect(h.session).toMatchObject({ status: "running", runId: activeRun, runs: 1 })
    expect(h.session.followUps).toEqual([
      { followUpId, runId, query: "then this", overrides: { model: "haiku" }, afterRunId: activeRun, status: "queued", reason: undefined }
    ])
    expect(h.refold()).toEqual(h.state)
  })

  it("without a follow-up id a continue while a run is active is still refused", () => {
    const h = runningSession()
    expect(h.refuse({ kind: "ContinueSession", runId: newId(), query: "x", overrides: {} })._tag).toBe("InvalidTransition")
  })

  it("when the run completes the oldest queued follow-up becomes the next run, once", () => {
    const h = runningSession()
    const first = queue(h, "first")
    const second = queue(h, "second")
    const completedRun = h.runId
    h.complete()
    const started = h.run({ kind: "StartNextFollowUp", afterRunId: completedRun })
    expect(types(started)).toEqual(["FollowUpStarted", "ContinueRequested"])
    expect(started[1]!.data).toEqual({ runId: first.runId, query: "first", overrides: {} })
    expect(h.session).toMatchObject({ status: "queued", runId: first.runId, runs: 2 })
    // The same reaction again (a replay, another instance): the session moved on, nothing is appended.
    expect(h.run({ kind: "StartNextFollowUp", afterRunId: completedRun })).toEqual([])
    // The second waits for the follow-up's own run.
    h.start()
    h.complete()
    const next = h.run({ kind: "StartNextFollowUp", afterRunId: first.runId })
    expect(next[1]!.data).toMatchObject({ runId: second.runId, query: "second" })
    expect(h.session.followUps!.map((f) => f.status)).toEqual(["started", "started"])
  })

  it.each([
    ["fails", (h: Harness) => h.fail("exit 3"), "the run it waited for failed: exit 3"],
    ["is interrupted", (h: Harness) => { h.run({ kind: "RequestInterrupt", requestedBy: "u" }); h.interrupted() }, "the run it waited for was interrupted"],
    ["is abandoned", (h: Harness) => h.abandon("gone"), "the run it waited for was abandoned: gone"]
  ])("when the run %s the follow-up is held, says why, and does not start by itself", (_, end, reason) => {
    const h = runningSession()
    const { followUpId, runId } = queue(h)
    const endedRun = h.runId
    end(h)
    expect(h.session.followUps![0]).toMatchObject({ status: "held", reason })
    expect(h.run({ kind: "StartNextFollowUp", afterRunId: endedRun })).toEqual([])
    // Sent explicitly, it runs.
    const sent = h.run({ kind: "SendFollowUp", followUpId, startedBy: "user:alice" })
    expect(sent[0]).toEqual({ type: "FollowUpStarted", data: { followUpId, runId, startedBy: "user:alice" } })
    expect(h.session).toMatchObject({ status: "queued", runId })
  })

  it("edits replace the fields given; edit, cancel and send are refused once it started or was cancelled", () => {
    const h = runningSession()
    const a = queue(h, "a", { model: "m1", maxTurns: 2 })
    h.run({ kind: "EditFollowUp", followUpId: a.followUpId, query: "a2", overrides: { model: "m2" } })
    expect(h.session.followUps![0]).toMatchObject({ query: "a2", overrides: { model: "m2", maxTurns: 2 } })
    const b = queue(h, "b")
    h.run({ kind: "CancelFollowUp", followUpId: b.followUpId, cancelledBy: "user:bob" })
    const run = h.runId
    h.complete()
    h.run({ kind: "StartNextFollowUp", afterRunId: run })
    for (const id of [a.followUpId, b.followUpId]) {
      const why = id === a.followUpId ? `started as run ${a.runId}` : "cancelled"
      for (const cmd of [
        { kind: "EditFollowUp" as const, followUpId: id, query: "late" },
        { kind: "CancelFollowUp" as const, followUpId: id, cancelledBy: "u" },
        { kind: "SendFollowUp" as const, followUpId: id, startedBy: "u" }
      ]) {
        const e = h.refuse(cmd)
        expect(e._tag).toBe("InvalidTransition")
        expect(e.message).toContain(why)
      }
    }
  })

  it("refuses an unknown follow-up (404), a send while a run is active, a duplicate id, and more than the limit", () => {
    const h = runningSession()
    expect(h.refuse({ kind: "CancelFollowUp", followUpId: newId(), cancelledBy: "u" })._tag).toBe("FollowUpNotFound")
    const { followUpId, runId } = queue(h)
    expect(h.refuse({ kind: "SendFollowUp", followUpId, startedBy: "u" }).message).toContain("a run is active")
    expect(h.refuse({ kind: "ContinueSession", runId, query: "x", overrides: {}, followUpId: newId() }).message).toContain("already exists")
    for (let i = 1; i < maxWaitingFollowUps; i++) queue(h)
    expect(h.refuse({ kind: "ContinueSession", runId: newId(), query: "x", overrides: {}, followUpId: newId() }).message).toContain(
      "already wait"
    )
  })

  it("a draft cannot queue a follow-up; an ended session's continue is a plain continue", () => {
    const d = new Harness()
    d.run({ kind: "CreateDraft", query: "q", options: {} })
    expect(d.refuse({ kind: "ContinueSession", runId: newId(), query: "x", overrides: {}, followUpId: newId() }).message).toContain("draft")
    const h = runningSession()
    h.complete()
    const e = h.run({ kind: "ContinueSession", runId: newId(), query: "x", overrides: {}, followUpId: newId() })
    expect(types(e)).toEqual(["ContinueRequested"])
  })

  it("secrets in a follow-up's overrides are recorded redacted", () => {
    const h = runningSession()
    const { events } = queue(h, "q", { mcpServers: { s: { command: "x", env: { TOKEN: "secret" } } } })
    expect(JSON.stringify(events)).not.toContain("secret")
    expect(JSON.stringify(events)).toContain(redacted)
  })
})
