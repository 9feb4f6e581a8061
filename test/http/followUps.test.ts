// Follow-ups over HTTP, against the real store, decider, supervisor and read side: a
// continue while a run is active is accepted and waits; it is listed, edited, cancelled
// or sent while it waits; the supervisor starts it when the run completes and leaves it
// held (saying why) when the run fails. Refusals append nothing.
import { afterEach, describe, expect, it } from "vitest"
import { encodePosition } from "../../src/eventstore/position.ts"
import { waitForEvents } from "../support/waitFor.ts"
import { expectProblem } from "./expectProblem.ts"
import { startHarness, type Harness } from "./httpHarness.ts"

let h: Harness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

type Json = Record<string, any>
const json = async (r: Response): Promise<Json> => (await r.json()) as Json

const completed = { kind: "completed" as const, totalCostUsd: 0.01, runCostUsd: 0.01, usage: {}, numTurns: 1, durationMs: 5 }

const continueWhileRunning = async (harness: Harness, sessionId: string, body: Json, headers: Record<string, string> = {}) => {
  const r = await harness.fetch(`/v1/sessions/${sessionId}/continue`, { method: "POST", json: body, headers })
  expect(r.status, await r.clone().text()).toBe(202)
  return json(r)
}

const typesOf = async (harness: Harness, sessionId: string) => (await harness.events(sessionId)).map((e) => e.type)

/** The stream once `probe` holds for it. */
const waitForStream = (harness: Harness, sessionId: string, what: string, probe: (types: ReadonlyArray<string>) => boolean) =>
  waitForEvents(what, harness.store, `session-${sessionId}`, async () => {
    const events = await harness.events(sessionId)
    return probe(events.map((e) => e.type)) ? events : undefined
  })

describe("follow-ups", () => {
  it("a continue while a run is active is queued, edited while it waits, and starts when the run completes", async () => {
    h = await startHarness()
    const { sessionId, runId } = await h.seedRunning()
    const queued = await continueWhileRunning(h, sessionId, { query: "then run the tests", maxTurns: 2 })
    expect(queued).toMatchObject({ sessionId, status: "running", followUpId: expect.any(String) })
    expect(queued.runId).not.toBe(runId)

    const session = await json(await h.fetch(`/v1/sessions/${sessionId}?minPosition=${queued.position}`))
    expect(session.runId).toBe(runId)
    expect(session.followUps).toEqual([
      { followUpId: queued.followUpId, runId: queued.runId, query: "then run the tests", overrides: { maxTurns: 2 }, afterRunId: runId, status: "queued", reason: null }
    ])

    const edited = await h.fetch(`/v1/sessions/${sessionId}/follow-ups/${queued.followUpId}`, {
      method: "PATCH",
      json: { query: "then run all the tests" },
      headers: { "If-Match": `"${queued.revision}"` }
    })
    expect(edited.status).toBe(202)
    expect(await json(edited)).toMatchObject({ followUpId: queued.followUpId, runId: queued.runId, status: "running" })

    await h.command({ kind: "FinishRun", sessionId, runId, outcome: completed })
    const events = await waitForStream(h, sessionId, "the follow-up to start", (t) => t.includes("ContinueRequested"))
    const types = events.map((e) => e.type)
    const at = types.indexOf("RunCompleted")
    expect(types.slice(at, at + 3)).toEqual(["RunCompleted", "FollowUpStarted", "ContinueRequested"])
    const start = events.find((e) => e.type === "FollowUpStarted")!
    const cont = events.find((e) => e.type === "ContinueRequested")!
    expect(start.data).toEqual({ followUpId: queued.followUpId, runId: queued.runId, startedBy: "agentlog" })
    expect(cont.revision).toBe(start.revision + 1n)
    expect(cont.data).toEqual({ runId: queued.runId, query: "then run all the tests", overrides: { maxTurns: 2 } })
    expect(types.filter((t) => t === "FollowUpStarted")).toHaveLength(1)

    // Once started it cannot be edited, cancelled or sent again; nothing is appended.
    const before = await typesOf(h, sessionId)
    const p = await expectProblem(
      await h.fetch(`/v1/sessions/${sessionId}/follow-ups/${queued.followUpId}`, { method: "PATCH", json: { query: "too late" } }),
      409,
      "invalid-transition"
    )
    expect(p.detail).toContain(`started as run ${queued.runId}`)
    await expectProblem(await h.fetch(`/v1/sessions/${sessionId}/follow-ups/${queued.followUpId}/cancel`, { method: "POST" }), 409, "invalid-transition")
    await expectProblem(await h.fetch(`/v1/sessions/${sessionId}/follow-ups/${queued.followUpId}/send`, { method: "POST" }), 409, "invalid-transition")
    expect((await typesOf(h, sessionId)).slice(0, before.length)).toEqual(before)
    expect((await typesOf(h, sessionId)).filter((t) => t.startsWith("FollowUp"))).toEqual(["FollowUpQueued", "FollowUpEdited", "FollowUpStarted"])
    // The transcript notes the follow-up where it was sent and shows its query as the next run's prompt.
    await h.caughtUp()
    const entries = (await json(await h.fetch(`/v1/sessions/${sessionId}/transcript`))).entries as Array<Json>
    expect(entries.filter((e) => e.kind === "system").map((e) => [e.text, e.data.query])).toEqual([
      ["follow_up_queued", "then run the tests"],
      ["follow_up_edited", "then run all the tests"]
    ])
    expect(entries.filter((e) => e.kind === "user_text").map((e) => e.text).at(-1)).toBe("then run all the tests")
  })

  it("when the run fails the follow-up is held and says why; it is sent by hand, and another is cancelled", async () => {
    h = await startHarness()
    const { sessionId, runId } = await h.seedRunning()
    const a = await continueWhileRunning(h, sessionId, { query: "a" })
    const b = await continueWhileRunning(h, sessionId, { query: "b" })
    await expectProblem(await h.fetch(`/v1/sessions/${sessionId}/follow-ups/${a.followUpId}/send`, { method: "POST" }), 409, "invalid-transition")
    const failed = await h.command({ kind: "FinishRun", sessionId, runId, outcome: { kind: "failed", error: "exit 3", exitCode: 3 } })
    expect(failed.state.status).toBe("failed")

    const head = (await h.events(sessionId)).at(-1)!
    const listed = await json(await h.fetch(`/v1/sessions/${sessionId}/follow-ups?minPosition=${encodeURIComponent(encodePosition(head.position))}`))
    expect(listed.items.map((f: Json) => [f.followUpId, f.status, f.reason])).toEqual([
      [a.followUpId, "held", "the run it waited for failed: exit 3"],
      [b.followUpId, "held", "the run it waited for failed: exit 3"]
    ])

    const cancelled = await h.fetch(`/v1/sessions/${sessionId}/follow-ups/${b.followUpId}/cancel`, { method: "POST" })
    expect(cancelled.status).toBe(202)
    const sent = await h.fetch(`/v1/sessions/${sessionId}/follow-ups/${a.followUpId}/send`, { method: "POST" })
    expect(sent.status).toBe(202)
    expect(await json(sent)).toMatchObject({ followUpId: a.followUpId, runId: a.runId, status: "queued" })
    const events = await h.events(sessionId)
    expect(events.find((e) => e.type === "FollowUpCancelled")!.data).toEqual({ followUpId: b.followUpId, cancelledBy: "api" })
    expect(events.find((e) => e.type === "FollowUpStarted")!.data).toEqual({ followUpId: a.followUpId, runId: a.runId, startedBy: "api" })
  })

  it("a keyed continue queued as a follow-up is answered again, not queued twice", async () => {
    h = await startHarness()
    const { sessionId } = await h.seedRunning()
    const first = await continueWhileRunning(h, sessionId, { query: "once" }, { "Idempotency-Key": "fu-1" })
    const again = await h.fetch(`/v1/sessions/${sessionId}/continue`, { method: "POST", json: { query: "once" }, headers: { "Idempotency-Key": "fu-1" } })
    expect(again.status).toBe(202)
    expect(again.headers.get("idempotent-replayed")).toBe("true")
    expect(await json(again)).toMatchObject({ followUpId: first.followUpId, runId: first.runId, revision: first.revision })
    expect((await typesOf(h, sessionId)).filter((t) => t === "FollowUpQueued")).toHaveLength(1)
    await expectProblem(
      await h.fetch(`/v1/sessions/${sessionId}/continue`, { method: "POST", json: { query: "other" }, headers: { "Idempotency-Key": "fu-1" } }),
      422,
      "idempotency-key-reused"
    )
  })

  it("refuses bad requests with problem+json and appends nothing", async () => {
    h = await startHarness()
    const { sessionId } = await h.seedRunning()
    const { followUpId } = await continueWhileRunning(h, sessionId, { query: "a" })
    const before = await typesOf(h, sessionId)
    const base = `/v1/sessions/${sessionId}/follow-ups`
    await expectProblem(await h.fetch(`${base}/${followUpId}`, { method: "PATCH", json: { query: "" } }), 400, "validation-failed", ["/query"])
    await expectProblem(await h.fetch(`${base}/${followUpId}`, { method: "PATCH", json: { surprise: 1 } }), 400, "validation-failed", ["/surprise"])
    await expectProblem(await h.fetch(`${base}/${followUpId}`, { method: "PATCH", json: { title: "no" } }), 400, "validation-failed", ["/title"])
    await expectProblem(
      await h.fetch(`${base}/${followUpId}`, { method: "PATCH", json: { mcpServers: { s: { command: "x", env: { T: "secret" } } } } }),
      400,
      "validation-failed",
      ["/mcpServers"]
    )
    await expectProblem(await h.fetch(`${base}/not-a-uuid/cancel`, { method: "POST" }), 404, "not-found")
    await expectProblem(await h.fetch(`${base}/${crypto.randomUUID()}/cancel`, { method: "POST" }), 404, "follow-up-not-found")
    await expectProblem(await h.fetch(`${base}/${followUpId}/cancel`, { method: "POST", json: { x: 1 } }), 400, "validation-failed")
    await expectProblem(await h.fetch(`${base}/${followUpId}/cancel`, { method: "POST", headers: { "If-Match": '"0"' } }), 412, "precondition-failed")
    await expectProblem(await h.fetch(`/v1/sessions/${crypto.randomUUID()}/follow-ups/${followUpId}/cancel`, { method: "POST" }), 404, "session-not-found")
    expect(await typesOf(h, sessionId)).toEqual(before)
  })

  it("queues a continue carrying MCP secret values like any other, recording them redacted", async () => {
    h = await startHarness()
    const { sessionId } = await h.seedRunning()
    const q = await continueWhileRunning(h, sessionId, { query: "s", mcpServers: { s: { command: "x", env: { T: "s3cr3t-queued" } } } })
    expect(q).toMatchObject({ status: "running", followUpId: expect.any(String), runId: expect.any(String) })
    const [queued] = (await h.events(sessionId)).filter((e) => e.type === "FollowUpQueued")
    expect((queued!.data as Json).overrides).toEqual({ mcpServers: { s: { command: "x", env: { T: "[redacted]" } } } })
    expect(JSON.stringify(await h.events(sessionId), (_k, v) => (typeof v === "bigint" ? String(v) : v))).not.toContain("s3cr3t-queued")
  })
})
