// Who did it: a flow with two approvers and an operator over HTTP, then the audit queries
// by person (events by actor, tool calls and approvals by decider) return exactly who did
// what; the supervisor's and Claude's events name them; key changes are in the keys stream.
import { randomUUID } from "node:crypto"
import { join } from "node:path"
import { Effect, Stream } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { RecordedEvent } from "../../src/eventstore/eventStore.ts"
import { addKey, revokeKey } from "../../src/principals/keyFile.ts"
import { keysStream } from "../../src/principals/keyEvents.ts"
import { startHarness, type Harness } from "../http/httpHarness.ts"
import { waitForEvents } from "../support/waitFor.ts"

const token = "actor-test-token-0123456789"
let h: Harness
const key: Record<string, string> = {}

const get = async (path: string, as = token) => {
  const r = await h.fetch(path, { token: as })
  expect(r.status, path).toBe(200)
  return (await r.json()) as { items: Array<Record<string, any>>; nextCursor: string | null }
}

const keysEvents = () =>
  Effect.runPromise(
    h.store.readStream(keysStream).pipe(
      Stream.runCollect,
      Effect.map((c) => [...c] as Array<RecordedEvent>),
      Effect.catchTag("StreamNotFound", () => Effect.succeed([] as Array<RecordedEvent>))
    )
  )

beforeAll(async () => {
  h = await startHarness({ config: { apiToken: token } })
  const file = join(h.dataDir, "keys.json")
  key.alice = addKey(file, "alice", "approver", new Date(), "root-op").key
  key.bob = addKey(file, "bob", "approver").key
  key.olga = addKey(file, "olga", "operator").key
})
afterAll(async () => {
  await h?.close()
})

const approvalIn = async (sessionId: string, runId: string, toolUseId: string) => {
  const approvalId = randomUUID()
  await h.command({ kind: "RequestApproval", sessionId, runId, approvalId, toolUseId, toolName: "Bash", input: { command: toolUseId }, suggestions: [] })
  return approvalId
}

describe("the actor of every recorded command", () => {
  it("two approvers and an operator: the audit queries say exactly who did what", async () => {
    const one = await h.seedRunning()
    const two = await h.seedRunning()
    const a1 = await approvalIn(one.sessionId, one.runId, "toolu_a1")
    const b1 = await approvalIn(one.sessionId, one.runId, "toolu_b1")
    const a2 = await approvalIn(two.sessionId, two.runId, "toolu_a2")
    const post = (path: string, as: string, json: unknown) => h.fetch(path, { method: "POST", token: key[as], json })
    expect((await post(`/v1/approvals/${a1}/decision`, "alice", { decision: "allow" })).status).toBe(202)
    expect((await post(`/v1/approvals/${b1}/decision`, "bob", { decision: "deny", message: "no" })).status).toBe(202)
    expect((await post(`/v1/approvals/${a2}/decision`, "alice", { decision: "deny" })).status).toBe(202)
    expect((await post(`/v1/sessions/${two.sessionId}/interrupt`, "olga", {})).status).toBe(202)
    const launched = await post("/v1/sessions", "olga", { query: "hello" })
    expect(launched.status).toBe(202)
    const { sessionId: olgas } = (await launched.json()) as { sessionId: string }
    // The supervisor tries the run (there is no claude here: it fails) and says so.
    await h.waitForStatus(olgas, "failed")
    await h.caughtUp()

    const byAlice = await get("/v1/events?actor=alice")
    expect(byAlice.items.map((e) => [e.type, e.data.approvalId, e.data.decidedBy, e.metadata.actor])).toEqual([
      ["ApprovalDecided", a1, "alice", "alice"],
      ["ApprovalDecided", a2, "alice", "alice"]
    ])
    const byOlga = await get("/v1/events?actor=olga")
    expect(byOlga.items.map((e) => [e.type, e.sessionId])).toEqual([
      ["InterruptRequested", two.sessionId],
      ["SessionLaunched", olgas]
    ])
    expect(byOlga.items[0]!.data.requestedBy).toBe("olga")
    expect((await get("/v1/events?actor=bob")).items.map((e) => e.data.approvalId)).toEqual([b1])
    const bySupervisor = await get(`/v1/events?actor=supervisor&session=${olgas}`)
    expect(bySupervisor.items.map((e) => e.type)).toEqual(expect.arrayContaining(["RunFailed"]))
    expect(bySupervisor.items.every((e) => e.metadata.source === "supervisor")).toBe(true)

    const calls = await get("/v1/tool-calls?decidedBy=alice")
    expect(calls.items.map((c) => [c.toolUseId, c.decision]).sort()).toEqual([["toolu_a1", "allow"], ["toolu_a2", "deny"]])
    expect((await get("/v1/tool-calls?decidedBy=bob")).items.map((c) => c.toolUseId)).toEqual(["toolu_b1"])
    const approvals = await get("/v1/approvals?decidedBy=alice")
    expect(approvals.items.map((a) => a.approvalId).sort()).toEqual([a1, a2].sort())
    expect(approvals.items.every((a) => a.decidedBy === "alice" && a.stream === `session-${a.sessionId}`)).toBe(true)
    expect((await get("/v1/approvals?decidedBy=bob")).items).toMatchObject([{ approvalId: b1, status: "denied", message: "no" }])
    expect((await get("/v1/approvals?decidedBy=nobody")).items).toEqual([])
    // A viewer may read who did what; the approvers' names are in the record, their keys are not.
    const everything = JSON.stringify(await get("/v1/events?limit=500"))
    for (const k of Object.values(key)) expect(everything).not.toContain(k)
  })

  it("key changes are recorded in the keys stream, with who made them and never the key or its hash", async () => {
    const file = join(h.dataDir, "keys.json")
    revokeKey(file, "bob", new Date(), "root-op")
    const events = await waitForEvents("bob's revocation recorded", h.store, keysStream, async () => {
      const all = await keysEvents()
      return all.some((e) => e.type === "KeyRevoked") ? all : undefined
    })
    expect(events.map((e) => [e.type, (e.data as any).name, (e.data as any).role])).toEqual([
      ["KeyAdded", "alice", "approver"],
      ["KeyAdded", "bob", "approver"],
      ["KeyAdded", "olga", "operator"],
      ["KeyRevoked", "bob", "approver"]
    ])
    expect(events[0]!.metadata).toMatchObject({ actor: "root-op" })
    expect(events[3]!.data).toMatchObject({ by: "root-op" })
    const text = JSON.stringify(events, (_k, v) => (typeof v === "bigint" ? String(v) : v))
    for (const k of Object.values(key)) expect(text).not.toContain(k)
    expect(text).not.toMatch(/[0-9a-f]{64}/)
  })
})
