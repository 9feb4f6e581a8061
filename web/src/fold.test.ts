import { describe, expect, it } from "vitest"
import type { EventView } from "./api.ts"
import { emptyFold, fold, foldUntil, mergeNotice, pendingApprovals, spans } from "./fold.ts"

let rev = 0
const ev = (type: string, data: Record<string, unknown>, at = `2026-11-30T10:00:${String(rev).padStart(2, "0")}Z`): EventView => ({
  stream: "session-s",
  sessionId: "s",
  revision: rev++,
  position: String(rev),
  id: `e${rev}`,
  type,
  data,
  metadata: {},
  created: at
})
const runId = "r1"
const assistant = (content: unknown) => ev("ClaudeAssistantMessage", { runId, message: { type: "assistant", message: { content } } })
const user = (content: unknown) => ev("ClaudeUserMessage", { runId, message: { type: "user", message: { content } } })

const session = (): Array<EventView> => {
  rev = 0
  return [
    ev("SessionLaunched", { sessionId: "s", runId, query: "clean up", options: { title: "t", cwd: "/w" } }),
    ev("RunStarted", { runId, query: "clean up" }),
    ev("ClaudeSystemEvent", { runId, subtype: "init", message: { model: "m1", cwd: "/w" } }),
    ev("ClaudeSystemEvent", { runId, subtype: "thinking_tokens", message: {} }),
    ev("ClaudeSystemEvent", { runId, subtype: "thinking_tokens", message: {} }),
    assistant([
      { type: "thinking", thinking: "hmm" },
      { type: "text", text: "I'll remove it." },
      { type: "tool_use", id: "tu1", name: "Bash", input: { command: "rm -rf build" } }
    ]),
    ev("ApprovalRequested", { runId, approvalId: "a1", toolUseId: "tu1", toolName: "Bash", input: { command: "rm -rf build" }, suggestions: [] }),
    ev("ApprovalDecided", { runId, approvalId: "a1", decision: "deny", message: "not build/", decidedBy: "web" }),
    user([{ type: "tool_result", tool_use_id: "tu1", content: "denied: not build/", is_error: true }]),
    assistant([{ type: "text", text: "OK, I won't." }]),
    ev("ClaudeResult", { runId, subtype: "success", isError: false, totalCostUsd: 0.02, runCostUsd: 0.02, usage: { input_tokens: 10, output_tokens: 5 }, numTurns: 2, durationMs: 900, permissionDenials: [], message: { result: "OK" } }),
    ev("RunCompleted", { runId, totalCostUsd: 0.02, runCostUsd: 0.02, usage: {}, numTurns: 2, durationMs: 900 })
  ]
}

describe("the session fold", () => {
  it("turns the events into the transcript: text, thinking, the tool call with its approval and result, the result with its figures", () => {
    const f = fold(emptyFold, session())
    expect(f.status).toBe("completed")
    expect(f.model).toBe("m1")
    expect(f.entries.map((e) => e.kind)).toEqual(["user_text", "system", "thinking", "assistant_text", "tool_call", "assistant_text", "result"])
    const call = f.entries[4]!
    expect(call).toMatchObject({ toolName: "Bash", input: { command: "rm -rf build" }, result: { text: "denied: not build/", isError: true } })
    expect(call.approval).toMatchObject({ decision: "deny", decidedBy: "web", message: "not build/" })
    expect(f.entries[1]!.text).toBe("init (m1) · thinking_tokens ×2")
    expect(f.totals).toMatchObject({ costUsd: 0.02, inputTokens: 10, outputTokens: 5, runs: 1 })
  })

  it("replays to an earlier revision exactly as the session was then", () => {
    const events = session()
    const waiting = foldUntil(events, 6)
    expect(waiting.status).toBe("waiting_approval")
    expect(pendingApprovals(waiting).map((e) => e.toolUseId)).toEqual(["tu1"])
    expect(waiting.entries.map((e) => e.kind)).toEqual(["user_text", "system", "thinking", "assistant_text", "tool_call"])
    expect(foldUntil(events, 7).status).toBe("running")
  })

  it("skips events it has folded already, so a resumed stream neither loses nor repeats an entry", () => {
    const events = session()
    const first = fold(emptyFold, events.slice(0, 7))
    const resumed = fold(first, events.slice(3))
    expect(resumed).toEqual(fold(emptyFold, events))
    expect(fold(resumed, events.slice(0, 5))).toBe(resumed)
  })

  it("draws the tool call and the approval wait as spans on the time axis", () => {
    const s = spans(session())
    expect(s.map((x) => [x.kind, x.label, x.outcome])).toEqual([
      ["run", "run", "completed"],
      ["tool", "Bash", "error"],
      ["approval", "waiting: Bash", "deny"]
    ])
  })

  it("marks each later prompt with Claude's last main-conversation message before it, where a fork from that prompt branches", () => {
    const events = session()
    const msg = (type: string, uuid: string, extra: Record<string, unknown> = {}) =>
      ev(type, { runId, message: { type: type === "ClaudeUserMessage" ? "user" : "assistant", uuid, session_id: "c1", parent_tool_use_id: null, message: { content: [{ type: "text", text: uuid }] }, ...extra } })
    const more = [
      msg("ClaudeAssistantMessage", "u-answer"),
      msg("ClaudeAssistantMessage", "u-subagent", { parent_tool_use_id: "tu9" }),
      ev("ContinueRequested", { runId: "r2", query: "again" }),
      msg("ClaudeAssistantMessage", "u-second"),
      ev("ContinueRequested", { runId: "r3", query: "once more" })
    ]
    const f = fold(emptyFold, [...events, ...more])
    const prompts = f.entries.filter((e) => e.kind === "user_text")
    // The first prompt has nothing before it; a sub-agent's message is not a fork point.
    expect(prompts.map((e) => [e.text, e.forkAt])).toEqual([
      ["clean up", undefined],
      ["again", "u-answer"],
      ["once more", "u-second"]
    ])
  })

  it("folds a draft: its options until launched, discarded and restored, then the launch on the same stream", () => {
    rev = 0
    const f = fold(emptyFold, [
      ev("DraftCreated", { sessionId: "s", query: "", options: { title: "later", cwd: "/w" } }),
      ev("DraftEdited", { query: "do it", options: { title: "later, edited", cwd: "/w" } })
    ])
    expect(f).toMatchObject({ status: "draft", title: "later, edited", cwd: "/w", entries: [] })
    const discarded = fold(f, [ev("DraftDiscarded", {})])
    expect(discarded.status).toBe("discarded")
    const launched = fold(discarded, [ev("DraftRestored", {}), ev("SessionLaunched", { sessionId: "s", runId, query: "do it", options: { title: "later, edited" } })])
    expect(launched.status).toBe("queued")
    expect(launched.entries.map((e) => [e.kind, e.text])).toEqual([["user_text", "do it"]])
  })

  it("shows a follow-up where it was sent, edited and cancelled, and its query as the prompt of the run it became", () => {
    const f = fold(emptyFold, [
      ...session().slice(0, 3),
      ev("FollowUpQueued", { followUpId: "f1", runId: "r2", query: "then this", overrides: {}, afterRunId: runId }),
      ev("FollowUpEdited", { followUpId: "f1", query: "then that", overrides: {} }),
      ev("FollowUpQueued", { followUpId: "f2", runId: "r3", query: "and more", overrides: {}, afterRunId: runId }),
      ev("FollowUpCancelled", { followUpId: "f2", cancelledBy: "alice" }),
      ev("RunCompleted", { runId, totalCostUsd: 0, runCostUsd: 0, usage: {}, numTurns: 1, durationMs: 1 }),
      ev("FollowUpStarted", { followUpId: "f1", runId: "r2", startedBy: "agentlog" }),
      ev("ContinueRequested", { runId: "r2", query: "then that", overrides: {} })
    ])
    expect(f.entries.filter((e) => e.kind === "system" && e.text?.startsWith("follow-up")).map((e) => e.text)).toEqual([
      "follow-up queued: then this",
      "follow-up edited: then that",
      "follow-up queued: and more",
      "follow-up cancelled (by alice)"
    ])
    expect(f.entries.filter((e) => e.kind === "user_text").map((e) => e.text)).toEqual(["clean up", "then that"])
  })

  it("counts repeated notices", () => {
    expect(mergeNotice("init · a", "a")).toBe("init · a ×2")
    expect(mergeNotice("init · a ×2", "a")).toBe("init · a ×3")
    expect(mergeNotice("init · a ×2", "b")).toBe("init · a ×2 · b")
  })
})

describe("the SSE event names the page listens to", () => {
  it("are the domain's event types (the page keeps its own copy: the domain's module would bundle Effect)", async () => {
    const { eventTypes: domain } = await import("../../src/domain/sessionEvents.ts")
    const { eventTypes } = await import("./live.ts")
    expect([...eventTypes].sort()).toEqual([...domain].sort())
    // Loading the domain (Effect) takes seconds on the shared machine.
  }, 30_000)
})
