// The decider on a session's controls (permission mode, bypass expiry, model) and on
// questions and plans: what it records, and what it refuses without appending anything.
import { describe, expect, it } from "vitest"
import { Harness, newId, type Cmd } from "../support/domainFixtures.ts"

const at15 = "2026-01-01T00:15:00.000Z"
const at30 = "2026-01-01T00:30:00.000Z"
const mode = (m: "default" | "acceptEdits" | "plan" | "bypassPermissions", expiresAt?: string): Cmd => ({
  kind: "ChangePermissionMode",
  mode: m,
  ...(expiresAt ? { expiresAt } : {}),
  changedBy: "alice"
})

const running = (options = {}) => {
  const h = new Harness()
  h.launch(options)
  h.start()
  return h
}

describe("permission mode", () => {
  it("records who changed it and what it was; the current run and the next use it", () => {
    const h = running({ permissionMode: "default" })
    expect(h.run(mode("acceptEdits"))).toEqual([
      { type: "PermissionModeChanged", data: { mode: "acceptEdits", previousMode: "default", changedBy: "alice" } }
    ])
    expect(h.session.options.permissionMode).toBe("acceptEdits")
    expect(h.session.runOptions.permissionMode).toBe("acceptEdits")
    h.complete()
    h.run({ kind: "ContinueSession", runId: newId(), query: "more", overrides: {} })
    expect(h.session.runOptions.permissionMode).toBe("acceptEdits")
    expect(h.refold()).toEqual(h.state)
  })

  it("refuses a bypass without an expiry, an expiry on another mode, and the mode it is already in", () => {
    const h = running({ permissionMode: "plan" })
    expect(h.refuse(mode("bypassPermissions")).message).toMatch(/bypassPermissions needs an expiry/)
    expect(h.refuse(mode("acceptEdits", at15)).message).toMatch(/only bypassPermissions has an expiry/)
    expect(h.refuse(mode("plan")).message).toMatch(/already in plan/)
  })

  it("refuses a change on a draft (its options are edited instead)", () => {
    const h = new Harness()
    h.run({ kind: "CreateDraft", query: "q", options: {} })
    expect(h.refuse(mode("acceptEdits"))._tag).toBe("InvalidTransition")
    expect(h.refuse({ kind: "ChangeModel", model: "m", changedBy: "alice" })._tag).toBe("InvalidTransition")
  })

  it("an expired bypass goes back to the mode before it, once, and only the bypass it was for", () => {
    const h = running({ permissionMode: "acceptEdits" })
    h.run(mode("bypassPermissions", at15))
    expect(h.session.bypassExpiresAt).toBe(at15)
    // Extended: the first expiry no longer applies, and the mode to return to stays acceptEdits.
    h.run(mode("bypassPermissions", at30))
    expect(h.refuse({ kind: "ExpireBypass", expiresAt: at15 }).message).toMatch(/no longer in force/)
    expect(h.run({ kind: "ExpireBypass", expiresAt: at30 })).toEqual([
      {
        type: "PermissionModeChanged",
        data: { mode: "acceptEdits", previousMode: "bypassPermissions", changedBy: "agentlog", reason: "expired" }
      }
    ])
    expect(h.session.bypassExpiresAt).toBeUndefined()
    // After a restart the same expiry is seen again: nothing more is recorded.
    expect(h.refuse({ kind: "ExpireBypass", expiresAt: at30 })._tag).toBe("InvalidTransition")
    expect(h.refold()).toEqual(h.state)
  })

  it("a bypass left by hand is not expired later", () => {
    const h = running()
    h.run(mode("bypassPermissions", at15))
    h.run(mode("default"))
    expect(h.session.bypassExpiresAt).toBeUndefined()
    expect(h.refuse({ kind: "ExpireBypass", expiresAt: at15 })._tag).toBe("InvalidTransition")
  })

  it("a session that never named a mode returns to default", () => {
    const h = running()
    h.run(mode("bypassPermissions", at15))
    expect(h.run({ kind: "ExpireBypass", expiresAt: at15 })[0]!.data).toMatchObject({ mode: "default" })
  })
})

describe("model", () => {
  it("records the switch and the model before; the next run uses it; the same model again is refused", () => {
    const h = running({ model: "m-1" })
    expect(h.run({ kind: "ChangeModel", model: "m-2", changedBy: "bob" })).toEqual([
      { type: "ModelChanged", data: { model: "m-2", previousModel: "m-1", changedBy: "bob" } }
    ])
    expect(h.session.runOptions.model).toBe("m-2")
    expect(h.refuse({ kind: "ChangeModel", model: "m-2", changedBy: "bob" }).message).toMatch(/already uses m-2/)
    h.complete()
    h.run({ kind: "ContinueSession", runId: newId(), query: "more", overrides: {} })
    expect(h.session.runOptions.model).toBe("m-2")
  })
})

describe("questions and plans", () => {
  const input = {
    questions: [
      { question: "Which color?", header: "Color", multiSelect: false, options: [{ label: "Red" }, { label: "Blue" }] },
      { question: "How big?", header: "Size", multiSelect: false, options: [{ label: "S" }, { label: "L" }] }
    ]
  }
  const ask = (h: Harness, approvalKind: "question" | "plan", extra: Record<string, unknown> = {}) => {
    const approvalId = newId()
    h.run({
      kind: "RequestApproval",
      runId: h.runId,
      approvalId,
      toolUseId: "toolu_q",
      toolName: approvalKind === "question" ? "AskUserQuestion" : "ExitPlanMode",
      input: approvalKind === "question" ? input : {},
      suggestions: [],
      approvalKind,
      ...extra
    } as Cmd)
    return approvalId
  }

  it("records the kind and the plan; a question is allowed with an answer to each of its questions", () => {
    const h = running()
    const q = ask(h, "question")
    expect(h.events.at(-1)!.data).toMatchObject({ kind: "question", toolName: "AskUserQuestion" })
    const decide = (answers?: Record<string, string>, decision: "allow" | "deny" = "allow"): Cmd => ({
      kind: "DecideApproval",
      approvalId: q,
      decision,
      ...(answers ? { answers } : {}),
      decidedBy: "alice"
    })
    expect(h.refuse(decide()).message).toMatch(/allowed with its answers/)
    expect(h.refuse(decide({ "Which color?": "Blue" })).message).toMatch(/unanswered: "How big\?"/)
    expect(h.refuse(decide({ "Which color?": "Blue", "How big?": "S", "Why?": "x" })).message).toMatch(/no such question: "Why\?"/)
    expect(h.refuse(decide({ "Which color?": "Blue", "How big?": "S" }, "deny"))._tag).toBe("InvalidAnswer")
    const answers = { "Which color?": "Blue", "How big?": "S" }
    expect(h.run(decide(answers))[0]!.data).toMatchObject({ decision: "allow", answers })
  })

  it("answers go to questions only; a plan is rejected with the reason Claude reads", () => {
    const h = running({ permissionMode: "plan" })
    const p = ask(h, "plan", { plan: "1. tests\n2. code" })
    expect(h.events.at(-1)!.data).toMatchObject({ kind: "plan", plan: "1. tests\n2. code" })
    expect(h.refuse({ kind: "DecideApproval", approvalId: p, decision: "allow", answers: { a: "b" }, decidedBy: "alice" })._tag).toBe(
      "InvalidAnswer"
    )
    const [decided] = h.run({ kind: "DecideApproval", approvalId: p, decision: "deny", message: "add tests first", decidedBy: "alice" })
    expect(decided!.data).toMatchObject({ decision: "deny", message: "add tests first" })
    const bash = h.ask()
    expect(h.refuse({ kind: "DecideApproval", approvalId: bash, decision: "allow", answers: {}, decidedBy: "alice" })._tag).toBe("InvalidAnswer")
  })
})
