import { Result } from "effect"
import { describe, expect, it } from "vitest"
import {
  claudeMessageEvent,
  claudeSessionIdOf,
  type ClaudeMessage,
  isResultError,
  resultFigures
} from "../../src/domain/claudeMessages.ts"
import { validateEvent } from "../../src/domain/sessionEvents.ts"
import { assistantText, newId, resultMessage, streamEvent, systemInit, userToolResult } from "../support/domainFixtures.ts"

const runId = newId()
const cs = "claude-session-1"

const valid = (message: ClaudeMessage, previous = 0) => {
  const e = claudeMessageEvent(runId, message, previous)
  const v = validateEvent(e.type, e.data)
  if (Result.isFailure(v)) throw new Error(v.failure.message)
  return e
}

describe("classifying Claude stream messages", () => {
  it("system messages become ClaudeSystemEvent with their subtype", () => {
    const m = systemInit(cs)
    expect(valid(m)).toEqual({ type: "ClaudeSystemEvent", data: { runId, subtype: "init", message: m } })
    const compact: ClaudeMessage = { type: "system", subtype: "compact_boundary", compact_metadata: { trigger: "auto", pre_tokens: 1 } }
    expect(valid(compact)).toEqual({ type: "ClaudeSystemEvent", data: { runId, subtype: "compact_boundary", message: compact } })
  })

  it.each([
    ["missing", {}],
    ["empty", { subtype: "" }],
    ["not a string", { subtype: 7 }]
  ])("a system message whose subtype is %s has subtype unknown, and is kept whole", (_, extra) => {
    const m: ClaudeMessage = { type: "system", ...extra }
    expect(valid(m)).toEqual({ type: "ClaudeSystemEvent", data: { runId, subtype: "unknown", message: m } })
  })

  it("assistant messages become ClaudeAssistantMessage", () => {
    const m = assistantText(cs, "the answer")
    expect(valid(m)).toEqual({ type: "ClaudeAssistantMessage", data: { runId, message: m } })
    const blocks: ClaudeMessage = {
      type: "assistant",
      message: {
        content: [
          { type: "thinking", thinking: "hmm", signature: "sig" },
          { type: "tool_use", id: "toolu_1", name: "Bash", input: { command: "ls" } }
        ]
      }
    }
    expect(valid(blocks)).toEqual({ type: "ClaudeAssistantMessage", data: { runId, message: blocks } })
  })

  it("user messages become ClaudeUserMessage", () => {
    const m = userToolResult(cs)
    expect(valid(m)).toEqual({ type: "ClaudeUserMessage", data: { runId, message: m } })
    const replay: ClaudeMessage = { type: "user", isReplay: true, message: { role: "user", content: "hello" } }
    expect(valid(replay)).toEqual({ type: "ClaudeUserMessage", data: { runId, message: replay } })
  })

  it("result messages become ClaudeResult with their figures", () => {
    const m = resultMessage(cs, 0.12, { permission_denials: [{ tool_name: "Bash", tool_use_id: "t", tool_input: {} }] })
    expect(valid(m)).toEqual({
      type: "ClaudeResult",
      data: {
        runId,
        subtype: "success",
        isError: false,
        totalCostUsd: 0.12,
        runCostUsd: 0.12,
        usage: { input_tokens: 10, output_tokens: 5 },
        tokens: { input: 10, output: 5, cacheRead: 0, cacheCreation: 0 },
        numTurns: 2,
        durationMs: 1234,
        permissionDenials: [{ tool_name: "Bash", tool_use_id: "t", tool_input: {} }],
        message: m
      }
    })
  })

  it("an error result is marked isError, by its flag or by its subtype", () => {
    const byFlag = valid(resultMessage(cs, 0.1, { is_error: true }))
    expect(byFlag.type === "ClaudeResult" && byFlag.data.isError).toBe(true)
    for (const subtype of ["error_max_turns", "error_during_execution", "error_max_budget_usd"]) {
      const e = valid(resultMessage(cs, 0.1, { subtype, is_error: false }))
      expect(e.type === "ClaudeResult" && e.data.isError && e.data.subtype).toBe(subtype)
    }
    expect(isResultError({ type: "result", subtype: "success", is_error: false })).toBe(false)
    expect(isResultError({ type: "result" })).toBe(false)
    expect(isResultError({ type: "result", is_error: "true" })).toBe(false)
  })

  it("a bare result (after an interrupt it may lack most fields) still becomes a valid ClaudeResult", () => {
    const m: ClaudeMessage = { type: "result" }
    expect(valid(m, 0.5)).toEqual({
      type: "ClaudeResult",
      data: {
        runId,
        subtype: "unknown",
        isError: false,
        totalCostUsd: 0,
        runCostUsd: 0,
        usage: {},
        tokens: { input: 0, output: 0, cacheRead: 0, cacheCreation: 0 },
        numTurns: 0,
        durationMs: 0,
        permissionDenials: [],
        message: m
      }
    })
  })

  it("result figures of the wrong type fall back to zero or empty, and the message is still kept whole", () => {
    const m: ClaudeMessage = {
      type: "result",
      subtype: "success",
      total_cost_usd: "0.3",
      usage: [1, 2],
      num_turns: null,
      duration_ms: { ms: 1 },
      permission_denials: "none"
    }
    const e = valid(m)
    expect(e.type).toBe("ClaudeResult")
    if (e.type !== "ClaudeResult") return
    expect(e.data).toMatchObject({ totalCostUsd: 0, runCostUsd: 0, usage: {}, numTurns: 0, durationMs: 0, permissionDenials: [] })
    expect(e.data.message).toBe(m)
  })

  it("a negative cost is clamped to zero", () => {
    expect(resultFigures({ total_cost_usd: -3 }, 0)).toMatchObject({ totalCostUsd: 0, runCostUsd: 0 })
  })

  it.each([
    ["stream_event", streamEvent(cs)],
    ["tool_progress", { type: "tool_progress", tool_use_id: "t", elapsed_time_seconds: 2 }],
    ["auth_status", { type: "auth_status", isAuthenticating: false, output: [] }],
    ["something_new", { type: "something_new", payload: { deep: [1, { x: null }] } }]
  ])("any other type (%s) becomes ClaudeStreamEvent, kept whole", (messageType, m) => {
    expect(valid(m as ClaudeMessage)).toEqual({ type: "ClaudeStreamEvent", data: { runId, messageType, message: m } })
  })

  it.each([
    ["no type", {}],
    ["an empty type", { type: "" }],
    ["a numeric type", { type: 42 }],
    ["a null type", { type: null }],
    ["an object type", { type: { name: "assistant" } }],
    ["an array type", { type: ["assistant"] }]
  ])("a message with %s becomes ClaudeStreamEvent of type unknown", (_, m) => {
    expect(valid(m as ClaudeMessage)).toEqual({ type: "ClaudeStreamEvent", data: { runId, messageType: "unknown", message: m } })
  })

  it("does not treat inherited names as message types", () => {
    for (const type of ["toString", "constructor", "__proto__", "hasOwnProperty"]) {
      expect(valid({ type }).type).toBe("ClaudeStreamEvent")
    }
  })
})

describe("a run's own cost", () => {
  it("is the whole figure for the first result", () => {
    expect(resultFigures({ total_cost_usd: 0.25 }, 0)).toMatchObject({ totalCostUsd: 0.25, runCostUsd: 0.25 })
  })

  it("is the difference from the previous result when Claude reports cumulatively", () => {
    const f = resultFigures({ total_cost_usd: 0.75 }, 0.25)
    expect(f.totalCostUsd).toBe(0.75)
    expect(f.runCostUsd).toBeCloseTo(0.5, 12)
  })

  it("is zero when the cumulative figure did not move", () => {
    expect(resultFigures({ total_cost_usd: 0.25 }, 0.25).runCostUsd).toBe(0)
  })

  it("is the whole figure when the total went down (a new Claude session began)", () => {
    expect(resultFigures({ total_cost_usd: 0.1 }, 0.25)).toMatchObject({ totalCostUsd: 0.1, runCostUsd: 0.1 })
  })

  it("is never negative, for any pair of totals", () => {
    for (let i = 0; i < 500; i++) {
      const previous = Math.random() * 10
      const total = Math.random() * 10
      const f = resultFigures({ total_cost_usd: total }, previous)
      expect(f.runCostUsd).toBeGreaterThanOrEqual(0)
      expect(f.runCostUsd).toBeLessThanOrEqual(total)
    }
  })

  it("is carried into the ClaudeResult event", () => {
    const e = valid(resultMessage(cs, 1.5), 1)
    expect(e.type === "ClaudeResult" && [e.data.totalCostUsd, e.data.runCostUsd]).toEqual([1.5, 0.5])
  })
})

describe("the Claude session a message names", () => {
  it("is its session_id when that is a non-empty string", () => {
    expect(claudeSessionIdOf(systemInit("abc"))).toBe("abc")
    expect(claudeSessionIdOf(resultMessage("xyz", 0))).toBe("xyz")
  })
  it.each([
    ["missing", {}],
    ["empty", { session_id: "" }],
    ["a number", { session_id: 1 }],
    ["null", { session_id: null }]
  ])("is undefined when session_id is %s", (_, m) => {
    expect(claudeSessionIdOf({ type: "assistant", ...m } as ClaudeMessage)).toBeUndefined()
  })
})
