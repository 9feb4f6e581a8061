// Session controls through the real `claude` against the fake Messages API: a question
// answered and a plan rejected then accepted through the approval flow, a live switch to
// acceptEdits (edits then run without asking, and the audit index says how they were let
// through) and of the model, a bypass that ends on the supervisor's clock and a next run in
// the mode it went back to. Assertions are on the events, on what Claude sent the API, and
// on the read models rebuilt from the store.
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { openReadDb } from "../../src/projections/readDb.ts"
import { queries, rebuild } from "../projections/projectionsFixtures.ts"
import { startSupervisorHarness, type SupervisorHarness } from "../support/supervisorHarness.ts"

let h: SupervisorHarness | undefined
let scratch: string | undefined
afterEach(async () => {
  await h?.close()
  if (scratch) rmSync(scratch, { recursive: true, force: true })
  h = scratch = undefined
})

const ended = ["completed", "failed", "interrupted", "abandoned"] as const
type Json = Record<string, any>
const dataOf = async (sessionId: string, type: string) =>
  (await h!.events(sessionId)).filter((e) => e.type === type).map((e) => e.data as Json)
const toolResults = async (sessionId: string) =>
  (await dataOf(sessionId, "ClaudeUserMessage")).flatMap((u) => u.message.message.content).filter((c: Json) => c.type === "tool_result")

/** The read models as the service would show them, rebuilt from the store. */
const readModels = async () => {
  scratch = mkdtempSync(join(tmpdir(), "agentlog-controls-read-"))
  const db = openReadDb(scratch)
  await rebuild(h!.store, db)
  return queries(db)
}

/** Waits for the next pending approval of the session and returns it. */
const pending = async (sessionId: string, seen: number) => {
  await h!.waitFor(sessionId, (s) => s.decided.size + s.pending.size > seen && s.pending.size > 0)
  const asked = await dataOf(sessionId, "ApprovalRequested")
  return asked[asked.length - 1]!
}

const question = {
  questions: [
    {
      question: "Which color?",
      header: "Color",
      multiSelect: false,
      options: [
        { label: "Red", description: "warm" },
        { label: "Blue", description: "cool" }
      ]
    }
  ]
}

describe("questions and plans through the approval flow", () => {
  it("a question reaches the person with its options and Claude reads the answer; a rejected plan's reason is what Claude sees", async () => {
    h = await startSupervisorHarness([
      { toolUse: { name: "AskUserQuestion", id: "toolu_q", input: question } },
      { toolUse: { name: "ExitPlanMode", id: "toolu_p1", input: { plan: "1. write the code" } } },
      { toolUse: { name: "ExitPlanMode", id: "toolu_p2", input: { plan: "1. write the tests\n2. write the code" } } },
      { text: "planned" }
    ])
    const { sessionId } = await h.launch("plan it", { permissionMode: "plan" })

    const q = await pending(sessionId, 0)
    expect(q).toMatchObject({ kind: "question", toolName: "AskUserQuestion", input: question })
    await Effect.runPromise(h.command({ kind: "DecideApproval", sessionId, approvalId: q.approvalId, decision: "allow", answers: { "Which color?": "Blue" }, decidedBy: "alice" }))

    const p1 = await pending(sessionId, 1)
    expect(p1).toMatchObject({ kind: "plan", toolName: "ExitPlanMode", plan: "1. write the code" })
    await Effect.runPromise(h.command({ kind: "DecideApproval", sessionId, approvalId: p1.approvalId, decision: "deny", message: "tests first", decidedBy: "alice" }))

    const p2 = await pending(sessionId, 2)
    expect(p2).toMatchObject({ kind: "plan", plan: "1. write the tests\n2. write the code" })
    await Effect.runPromise(h.command({ kind: "DecideApproval", sessionId, approvalId: p2.approvalId, decision: "allow", decidedBy: "alice" }))
    expect((await h.waitForStatus(sessionId, ended)).status).toBe("completed")

    // What Claude got back: the answer, the rejection's reason (as an error), the acceptance.
    const results = await toolResults(sessionId)
    const byId = (id: string) => results.find((r: Json) => r.tool_use_id === id)
    const answered = byId("toolu_q").content
    expect(typeof answered === "string" ? answered : JSON.stringify(answered)).toContain('"Which color?"="Blue"')
    expect(byId("toolu_p1")).toMatchObject({ content: "tests first", is_error: true })
    expect(byId("toolu_p2").is_error ?? false).toBe(false)
    // ... and sent on to the model.
    expect(JSON.stringify(h.fake.mainRequests()[2]!.body.messages)).toContain("tests first")

    const transcript = (await readModels()).transcript(sessionId) as ReadonlyArray<Json>
    const entry = (id: string) => transcript.find((e) => e.kind === "tool_call" && e.toolUseId === id)!
    expect(entry("toolu_q").data).toEqual({ kind: "question", verdict: "answered", answers: { "Which color?": "Blue" } })
    expect(entry("toolu_p1").data).toEqual({ kind: "plan", verdict: "rejected", plan: "1. write the code", reason: "tests first" })
    expect(entry("toolu_p2").data).toMatchObject({ kind: "plan", verdict: "accepted" })
  })
})

describe("permission mode and model, live", () => {
  it("switched to acceptEdits and another model mid-run: the next edit runs without asking, recorded as auto: acceptEdits", async () => {
    h = await startSupervisorHarness([])
    const cwd = h.claude.cwd
    h.fake.setScript([
      { toolUse: { name: "Write", id: "toolu_w1", input: { file_path: join(cwd, "ONE.txt"), content: "one" } } },
      { toolUse: { name: "Write", id: "toolu_w2", input: { file_path: join(cwd, "TWO.txt"), content: "two" } } },
      { text: "written" }
    ])
    const { sessionId } = await h.launch("write two files", { permissionMode: "default" })
    const first = await pending(sessionId, 0)
    expect(first.toolName).toBe("Write")
    await Effect.runPromise(h.command({ kind: "ChangePermissionMode", sessionId, mode: "acceptEdits", changedBy: "alice" }))
    await Effect.runPromise(h.command({ kind: "ChangeModel", sessionId, model: "claude-switched-1", changedBy: "alice" }))
    await Effect.runPromise(h.command({ kind: "DecideApproval", sessionId, approvalId: first.approvalId, decision: "allow", decidedBy: "alice" }))
    expect((await h.waitForStatus(sessionId, ended)).status).toBe("completed")

    expect((await dataOf(sessionId, "ApprovalRequested")).map((a) => a.toolUseId)).toEqual(["toolu_w1"])
    expect(readFileSync(join(cwd, "TWO.txt"), "utf8")).toBe("two")
    const models = h.fake.mainRequests().map((r) => r.body.model)
    expect(models.at(-1)).toBe("claude-switched-1")
    expect(models[0]).not.toBe("claude-switched-1")

    const calls = (await readModels()).toolCalls({ session: sessionId }).items
    const how = Object.fromEntries(calls.map((c) => [c.toolUseId, c.allowedBy]))
    expect(how).toEqual({ toolu_w1: "approval", toolu_w2: "auto: acceptEdits" })
  })

  it("a bypass runs commands without asking until it ends on the supervisor's clock; the next run is back in default", async () => {
    h = await startSupervisorHarness(
      [
        { toolUse: { name: "Bash", id: "toolu_b0", input: { command: "touch asked.txt" } } },
        { toolUse: { name: "Bash", id: "toolu_b1", input: { command: "touch bypassed.txt" } } },
        { text: "done" },
        { toolUse: { name: "Bash", id: "toolu_b2", input: { command: "touch asked-again.txt" } } },
        { text: "done again" }
      ],
      {},
      { testClock: true }
    )
    const { sessionId } = await h.launch("run it", { permissionMode: "default" })
    const first = await pending(sessionId, 0)
    // The supervisor's clock stands at 0: the bypass ends 15 minutes from it.
    const expiresAt = new Date(15 * 60_000).toISOString()
    await Effect.runPromise(h.command({ kind: "ChangePermissionMode", sessionId, mode: "bypassPermissions", expiresAt, changedBy: "alice" }))
    await Effect.runPromise(h.command({ kind: "DecideApproval", sessionId, approvalId: first.approvalId, decision: "allow", decidedBy: "alice" }))
    expect((await h.waitForStatus(sessionId, ended)).status).toBe("completed")
    expect((await dataOf(sessionId, "ApprovalRequested")).map((a) => a.toolUseId)).toEqual(["toolu_b0"])

    await h.adjust(15 * 60_000)
    const back = await h.waitFor(sessionId, (s) => s.options.permissionMode === "default")
    expect(back.bypassExpiresAt).toBeUndefined()
    expect((await dataOf(sessionId, "PermissionModeChanged")).at(-1)).toEqual({
      mode: "default",
      previousMode: "bypassPermissions",
      changedBy: "agentlog",
      reason: "expired"
    })

    await h.continueSession(sessionId, "again")
    const again = await pending(sessionId, 1)
    expect(again.toolUseId).toBe("toolu_b2")
    const inits = (await dataOf(sessionId, "ClaudeSystemEvent")).filter((d) => d.subtype === "init")
    expect(inits.at(-1)!.message.permissionMode).toBe("default")
    await Effect.runPromise(h.command({ kind: "DecideApproval", sessionId, approvalId: again.approvalId, decision: "allow", decidedBy: "alice" }))
    expect((await h.waitForStatus(sessionId, ended)).status).toBe("completed")

    const calls = (await readModels()).toolCalls({ session: sessionId }).items
    expect(Object.fromEntries(calls.map((c) => [c.toolUseId, c.allowedBy]))).toEqual({
      toolu_b0: "approval",
      toolu_b1: "auto: bypassPermissions",
      toolu_b2: "approval"
    })
  })
})
