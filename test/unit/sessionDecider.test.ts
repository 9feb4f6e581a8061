import { Result } from "effect"
import { describe, expect, it } from "vitest"
import type { ClaudeMessage } from "../../src/domain/claudeMessages.ts"
import { decide, forkSource, type SessionCommand } from "../../src/domain/sessionDecider.ts"
import { type EventType, eventTypes, type SessionEvent, validateEvent } from "../../src/domain/sessionEvents.ts"
import { redacted, type SessionOptions } from "../../src/domain/sessionOptions.ts"
import { endedStatuses, fold, type Session, type SessionState } from "../../src/domain/sessionState.ts"
import {
  assistantText,
  type Cmd,
  endedKinds,
  endedSession,
  Harness,
  newId,
  prng,
  refused,
  resultMessage,
  runningSession,
  streamEvent,
  systemInit,
  types,
  userToolResult
} from "../support/domainFixtures.ts"

const secretOptions: SessionOptions = {
  model: "claude-sonnet-4-5",
  mcpServers: {
    local: { command: "mcp-server", args: ["--port", "1"], env: { API_KEY: "sk-live-123", PATH_REF: "${HOME}" } },
    remote: { type: "http", url: "https://mcp.example.com", headers: { Authorization: "Bearer tok-456", "X-Env": "${MCP_TOKEN}" } }
  }
}
const expectRedacted = (o: SessionOptions) => {
  expect(o.mcpServers).toEqual({
    local: { command: "mcp-server", args: ["--port", "1"], env: { API_KEY: redacted, PATH_REF: "${HOME}" } },
    remote: { type: "http", url: "https://mcp.example.com", headers: { Authorization: redacted, "X-Env": "${MCP_TOKEN}" } }
  })
  expect(JSON.stringify(o)).not.toMatch(/sk-live-123|tok-456/)
}

/** A session waiting on the given number of approvals. */
const waiting = (n = 1): { h: Harness; approvals: Array<string> } => {
  const h = runningSession()
  const approvals = Array.from({ length: n }, () => h.ask())
  return { h, approvals }
}

const interrupt: Cmd = { kind: "RequestInterrupt", requestedBy: "user:test" }

describe("launch", () => {
  it("creates the session: SessionLaunched, status queued, first run", () => {
    const h = new Harness()
    const runId = newId()
    const events = h.run({ kind: "LaunchSession", runId, query: "hello", options: { model: "m", title: "t", maxTurns: 3 } })
    expect(events).toEqual([
      {
        type: "SessionLaunched",
        data: { sessionId: h.sessionId, runId, query: "hello", options: { model: "m", title: "t", maxTurns: 3 } }
      }
    ])
    expect(h.session).toMatchObject({
      sessionId: h.sessionId,
      status: "queued",
      archived: false,
      title: "t",
      runId,
      runQuery: "hello",
      runs: 1,
      claudeSessionId: undefined,
      claudeSessionBound: false,
      parentSessionId: undefined,
      interruptRequested: false,
      lastTotalCostUsd: 0
    })
    expect(h.session.pending.size).toBe(0)
  })

  it("redacts MCP secrets but keeps ${VAR} references, in the event and the state", () => {
    const h = new Harness()
    const [e] = h.launch(secretOptions)
    expect(e!.type).toBe("SessionLaunched")
    if (e!.type === "SessionLaunched") expectRedacted(e!.data.options)
    expectRedacted(h.session.options)
    expectRedacted(h.session.runOptions)
  })

  it("is refused for an existing session, with SessionAlreadyExists", () => {
    const h = runningSession()
    const e = h.refuse({ kind: "LaunchSession", runId: newId(), query: "again", options: {} })
    expect(e).toMatchObject({ _tag: "SessionAlreadyExists", sessionId: h.sessionId })
  })

  it("is refused when an option has the wrong type, with InvalidEvent naming the option", () => {
    const h = new Harness()
    const e = h.refuse({ kind: "LaunchSession", runId: newId(), query: "q", options: { maxTurns: "5" } as unknown as SessionOptions })
    expect(e._tag).toBe("InvalidEvent")
    expect(e._tag === "InvalidEvent" && e.issue).toContain(`["options"]["maxTurns"]`)
    expect(h.state).toBeNull()
  })

  it.each([
    ["an unknown option", { verbose: true }, `["options"]["verbose"]`],
    ["a bad permission mode", { permissionMode: "yolo" }, `["options"]["permissionMode"]`],
    ["a NaN maxTurns", { maxTurns: Number.NaN }, `["options"]["maxTurns"]`],
    ["an empty title", { title: "" }, `["options"]["title"]`],
    ["a non-http MCP url", { mcpServers: { x: { type: "http", url: "file:///etc/passwd" } } }, `["options"]["mcpServers"]["x"]`]
  ])("is refused with %s", (_, options, path) => {
    const e = new Harness().refuse({ kind: "LaunchSession", runId: newId(), query: "q", options: options as SessionOptions })
    expect(e._tag === "InvalidEvent" && e.issue).toContain(path)
  })

  it("is refused when the run id is not a uuid, naming runId", () => {
    const e = new Harness().refuse({ kind: "LaunchSession", runId: "run-1", query: "q", options: {} })
    expect(e._tag === "InvalidEvent" && e.type === "SessionLaunched" && e.issue).toContain(`["runId"]`)
  })
})

describe("fork", () => {
  const fork = (parentClaudeSessionId: string, options: SessionOptions = {}) => {
    const parent = runningSession()
    parent.claude(systemInit(parentClaudeSessionId))
    parent.complete()
    const source = forkSource(parent.state, parent.sessionId)
    expect(Result.isSuccess(source) && source.success).toBe(parentClaudeSessionId)
    const child = new Harness()
    const runId = newId()
    const events = child.run({
      kind: "ForkSession",
      runId,
      parentSessionId: parent.sessionId,
      parentClaudeSessionId: Result.isSuccess(source) ? source.success : "",
      query: "try another way",
      options
    })
    return { parent, child, runId, events }
  }

  it("creates a new session naming its parent, starting from the parent's Claude session", () => {
    const { parent, child, runId, events } = fork("claude-parent")
    expect(events).toEqual([
      {
        type: "SessionForked",
        data: {
          sessionId: child.sessionId,
          runId,
          parentSessionId: parent.sessionId,
          parentClaudeSessionId: "claude-parent",
          query: "try another way",
          options: {}
        }
      }
    ])
    expect(child.session).toMatchObject({
      status: "queued",
      parentSessionId: parent.sessionId,
      claudeSessionId: "claude-parent",
      claudeSessionBound: false,
      runs: 1
    })
  })

  it("binds the fork's own Claude session on its first message, even if Claude repeats the parent's id", () => {
    const { child } = fork("claude-parent")
    child.start()
    expect(types(child.claude(systemInit("claude-parent")))).toEqual(["ClaudeSessionBound", "ClaudeSystemEvent"])
    expect(child.session).toMatchObject({ claudeSessionId: "claude-parent", claudeSessionBound: true })
    const { child: other } = fork("claude-parent")
    other.start()
    const events = other.claude(systemInit("claude-fork"))
    expect(events[0]).toEqual({ type: "ClaudeSessionBound", data: { runId: other.runId, claudeSessionId: "claude-fork" } })
    expect(other.session.claudeSessionId).toBe("claude-fork")
  })

  it("redacts MCP secrets but keeps ${VAR} references", () => {
    const { child, events } = fork("c", secretOptions)
    const e = events[0]!
    if (e.type !== "SessionForked") throw new Error(e.type)
    expectRedacted(e.data.options)
    expectRedacted(child.session.options)
  })

  it("is refused for an existing session, with SessionAlreadyExists", () => {
    const h = runningSession()
    const e = h.refuse({ kind: "ForkSession", runId: newId(), parentSessionId: newId(), parentClaudeSessionId: "c", query: "q", options: {} })
    expect(e._tag).toBe("SessionAlreadyExists")
  })

  it("is refused when the parent is not a session id (InvalidEvent) or its Claude session is empty", () => {
    const h = new Harness()
    const bad = h.refuse({ kind: "ForkSession", runId: newId(), parentSessionId: "nope", parentClaudeSessionId: "c", query: "q", options: {} })
    expect(bad._tag === "InvalidEvent" && bad.issue).toContain(`["parentSessionId"]`)
    const empty = h.refuse({ kind: "ForkSession", runId: newId(), parentSessionId: newId(), parentClaudeSessionId: "", query: "q", options: {} })
    expect(empty._tag === "InvalidEvent" && empty.issue).toContain(`["parentClaudeSessionId"]`)
  })

  it("forkSource refuses an unknown parent and a parent Claude has not named yet", () => {
    const id = newId()
    expect(refused(forkSource(null, id) as never)).toMatchObject({ _tag: "SessionNotFound", sessionId: id })
    const h = runningSession()
    const r = forkSource(h.state, h.sessionId)
    expect(Result.isFailure(r) && r.failure).toMatchObject({ _tag: "InvalidTransition", command: "ForkSession", status: "running" })
  })

  it("forkSource of a fork that has not been bound yet is the fork's parent's Claude session", () => {
    const { child } = fork("claude-parent")
    const r = forkSource(child.state, child.sessionId)
    expect(Result.isSuccess(r) && r.success).toBe("claude-parent")
  })
})

describe("starting a run", () => {
  it("moves a queued session to running with RunStarted carrying the run's query", () => {
    const h = new Harness()
    h.launch({}, "the question")
    expect(h.start()).toEqual([{ type: "RunStarted", data: { runId: h.runId, query: "the question" } }])
    expect(h.session.status).toBe("running")
  })

  it("records resume and pid when given", () => {
    const h = new Harness()
    h.launch()
    const events = h.run({ kind: "StartRun", runId: h.runId, resume: "claude-1", pid: 1234 })
    expect(events).toEqual([{ type: "RunStarted", data: { runId: h.runId, query: "hello", resume: "claude-1", pid: 1234 } }])
  })

  it("omits resume and pid given as undefined", () => {
    const h = new Harness()
    h.launch()
    const [e] = h.run({ kind: "StartRun", runId: h.runId, resume: undefined, pid: undefined })
    expect(Object.keys(e!.data).sort()).toEqual(["query", "runId"])
  })

  it("is refused twice", () => {
    const h = runningSession()
    expect(h.refuse({ kind: "StartRun", runId: h.runId })).toMatchObject({ _tag: "InvalidTransition", command: "StartRun", status: "running" })
  })

  it("is refused for a run that is not the current one", () => {
    const h = new Harness()
    h.launch()
    expect(h.refuse({ kind: "StartRun", runId: newId() })).toMatchObject({ _tag: "InvalidTransition", status: "queued" })
  })

  it.each(endedKinds.map((k) => [k]))("is refused once the run ended (%s)", (k) => {
    const h = endedSession(k)
    expect(h.refuse({ kind: "StartRun", runId: h.runId })).toMatchObject({ _tag: "InvalidTransition", status: k })
  })

  it("is refused with a pid that is not an integer, naming pid", () => {
    const h = new Harness()
    h.launch()
    for (const pid of [Number.NaN, 1.5, Number.POSITIVE_INFINITY]) {
      const e = h.refuse({ kind: "StartRun", runId: h.runId, pid })
      expect(e._tag === "InvalidEvent" && e.issue).toContain(`["pid"]`)
    }
  })
})

describe("Claude messages", () => {
  it("bind the Claude session on the first session_id, and only then", () => {
    const h = runningSession()
    expect(types(h.claude(systemInit("c1")))).toEqual(["ClaudeSessionBound", "ClaudeSystemEvent"])
    expect(h.session).toMatchObject({ claudeSessionId: "c1", claudeSessionBound: true })
    expect(types(h.claude(assistantText("c1")))).toEqual(["ClaudeAssistantMessage"])
    expect(types(h.claude(userToolResult("c1")))).toEqual(["ClaudeUserMessage"])
  })

  it("re-bind when Claude names another session", () => {
    const h = runningSession()
    h.claude(systemInit("c1"))
    const events = h.claude(assistantText("c2"))
    expect(events).toEqual([
      { type: "ClaudeSessionBound", data: { runId: h.runId, claudeSessionId: "c2" } },
      { type: "ClaudeAssistantMessage", data: { runId: h.runId, message: (events[1]!.data as { message: unknown }).message } }
    ])
    expect(h.session.claudeSessionId).toBe("c2")
    expect(types(h.claude(assistantText("c2")))).toEqual(["ClaudeAssistantMessage"])
  })

  it("without a session_id do not bind", () => {
    const h = runningSession()
    expect(types(h.claude({ type: "assistant", message: { content: [] } }))).toEqual(["ClaudeAssistantMessage"])
    expect(h.session.claudeSessionBound).toBe(false)
    h.claude(systemInit("c1"))
    expect(types(h.claude({ type: "tool_progress" }))).toEqual(["ClaudeStreamEvent"])
    expect(h.session.claudeSessionId).toBe("c1")
  })

  it.each([
    ["system", systemInit("c"), "ClaudeSystemEvent"],
    ["assistant", assistantText("c"), "ClaudeAssistantMessage"],
    ["user", userToolResult("c"), "ClaudeUserMessage"],
    ["result", resultMessage("c", 0.1), "ClaudeResult"],
    ["stream_event", streamEvent("c"), "ClaudeStreamEvent"],
    ["an unknown type", { type: "brand_new_kind", session_id: "c", x: [1] }, "ClaudeStreamEvent"],
    ["no type at all", { session_id: "c", what: "?" }, "ClaudeStreamEvent"]
  ])("record a %s message losslessly as %s", (_, message, type) => {
    const h = runningSession()
    h.claude(systemInit("c"))
    const events = h.claude(message as ClaudeMessage)
    expect(types(events)).toEqual([type])
    expect(events[0]!.data).toMatchObject({ runId: h.runId, message })
    expect(JSON.stringify((events[0]!.data as { message: unknown }).message)).toBe(JSON.stringify(message))
    expect(h.session.status).toBe("running")
  })

  it("are recorded while an approval is pending, without changing the status", () => {
    const { h } = waiting()
    expect(types(h.claude(assistantText("c")))).toEqual(["ClaudeSessionBound", "ClaudeAssistantMessage"])
    expect(h.session.status).toBe("waiting_approval")
  })

  it("a result does not end the run; FinishRun does", () => {
    const h = runningSession()
    h.claude(resultMessage("c", 0.2))
    expect(h.session.status).toBe("running")
    expect(h.session.lastTotalCostUsd).toBe(0.2)
  })

  it("give each run its own cost: the difference of Claude's cumulative figures", () => {
    const h = runningSession()
    const first = h.claude(resultMessage("c", 0.1)).at(-1)!
    expect(first.type === "ClaudeResult" && [first.data.totalCostUsd, first.data.runCostUsd]).toEqual([0.1, 0.1])
    h.complete(0.1)
    h.continue()
    h.start()
    const second = h.claude(resultMessage("c", 0.35)).at(-1)!
    expect(second.type).toBe("ClaudeResult")
    if (second.type !== "ClaudeResult") return
    expect(second.data.totalCostUsd).toBe(0.35)
    expect(second.data.runCostUsd).toBeCloseTo(0.25, 12)
    expect(h.session.lastTotalCostUsd).toBe(0.35)
    h.complete(0.35)
    h.continue()
    h.start()
    // a fresh Claude session reports a smaller total: the run's share is all of it
    const third = h.claude(resultMessage("c-new", 0.05)).at(-1)!
    expect(third.type === "ClaudeResult" && [third.data.totalCostUsd, third.data.runCostUsd]).toEqual([0.05, 0.05])
  })

  it("are refused while the run is queued (no process yet)", () => {
    const h = new Harness()
    h.launch()
    expect(h.refuse({ kind: "RecordClaudeMessage", runId: h.runId, message: assistantText("c") })).toMatchObject({
      _tag: "InvalidTransition",
      command: "RecordClaudeMessage",
      status: "queued"
    })
  })

  it.each(endedKinds.map((k) => [k]))("are refused once the run ended (%s)", (k) => {
    const h = endedSession(k)
    expect(h.refuse({ kind: "RecordClaudeMessage", runId: h.runId, message: assistantText("c") })._tag).toBe("InvalidTransition")
  })

  it("from a stale run are refused", () => {
    const h = runningSession()
    const old = h.runId
    h.complete()
    h.continue()
    h.start()
    const e = h.refuse({ kind: "RecordClaudeMessage", runId: old, message: assistantText("c") })
    expect(e).toMatchObject({ _tag: "InvalidTransition", status: "running" })
    expect(e._tag === "InvalidTransition" && e.reason).toContain(old)
    expect(h.refuse({ kind: "RecordClaudeMessage", runId: newId(), message: assistantText("c") })._tag).toBe("InvalidTransition")
  })

  it("that are not JSON are refused as InvalidEvent, not recorded half", () => {
    const h = runningSession()
    const e = h.refuse({ kind: "RecordClaudeMessage", runId: h.runId, message: { type: "assistant", session_id: "c", n: Number.NaN } })
    expect(e._tag === "InvalidEvent" && e.issue).toContain(`["message"]`)
    expect(h.session.claudeSessionBound).toBe(false)
  })
})

describe("approvals", () => {
  it("a request moves the session to waiting_approval", () => {
    const h = runningSession()
    const approvalId = newId()
    const events = h.run({
      kind: "RequestApproval",
      runId: h.runId,
      approvalId,
      toolUseId: "toolu_9",
      toolName: "Write",
      input: { file_path: "/tmp/x", content: "y" },
      suggestions: [{ type: "setMode", mode: "acceptEdits" }],
      expiresAt: "2030-01-01T00:00:00.000Z"
    })
    expect(events).toEqual([
      {
        type: "ApprovalRequested",
        data: {
          runId: h.runId,
          approvalId,
          toolUseId: "toolu_9",
          toolName: "Write",
          input: { file_path: "/tmp/x", content: "y" },
          suggestions: [{ type: "setMode", mode: "acceptEdits" }],
          expiresAt: "2030-01-01T00:00:00.000Z"
        }
      }
    ])
    expect(h.session.status).toBe("waiting_approval")
    expect([...h.session.pending.values()]).toEqual([{ approvalId, runId: h.runId, toolUseId: "toolu_9", toolName: "Write" }])
  })

  it("a request without expiresAt (or with it undefined) has no expiresAt", () => {
    const h = runningSession()
    const approvalId = newId()
    const [e] = h.run({
      kind: "RequestApproval",
      runId: h.runId,
      approvalId,
      toolUseId: "t",
      toolName: "Bash",
      input: null,
      suggestions: [],
      expiresAt: undefined
    })
    expect(Object.keys(e!.data)).not.toContain("expiresAt")
  })

  it("allow with updatedInput goes back to running", () => {
    const { h, approvals } = waiting()
    const events = h.run({
      kind: "DecideApproval",
      approvalId: approvals[0]!,
      decision: "allow",
      updatedInput: { command: "ls -la" },
      decidedBy: "user:alice"
    })
    expect(events).toEqual([
      {
        type: "ApprovalDecided",
        data: { runId: h.runId, approvalId: approvals[0], decision: "allow", updatedInput: { command: "ls -la" }, decidedBy: "user:alice" }
      }
    ])
    expect(h.session.status).toBe("running")
    expect(h.session.pending.size).toBe(0)
    expect(h.session.decided.get(approvals[0]!)).toBe("allow")
  })

  it("deny with a message goes back to running", () => {
    const { h, approvals } = waiting()
    const [e] = h.run({ kind: "DecideApproval", approvalId: approvals[0]!, decision: "deny", message: "not that file", decidedBy: "user:bob" })
    expect(e).toEqual({
      type: "ApprovalDecided",
      data: { runId: h.runId, approvalId: approvals[0], decision: "deny", message: "not that file", decidedBy: "user:bob" }
    })
    expect(h.session.status).toBe("running")
    expect(h.session.decided.get(approvals[0]!)).toBe("deny")
  })

  it("optional decision fields given as undefined are left out of the event", () => {
    // A caller that copies optional body fields (`message: body.message`) must not be refused.
    const { h, approvals } = waiting()
    const [e] = h.run({
      kind: "DecideApproval",
      approvalId: approvals[0]!,
      decision: "allow",
      message: undefined,
      updatedInput: undefined,
      reason: undefined,
      decidedBy: "user:alice"
    })
    expect(e!.data).toEqual({ runId: h.runId, approvalId: approvals[0], decision: "allow", decidedBy: "user:alice" })
  })

  it("the session stays waiting_approval until no approval is pending", () => {
    const { h, approvals } = waiting(3)
    expect(h.session.pending.size).toBe(3)
    h.answer(approvals[1]!, "deny")
    expect(h.session.status).toBe("waiting_approval")
    h.answer(approvals[0]!)
    expect(h.session.status).toBe("waiting_approval")
    const another = h.ask()
    h.answer(approvals[2]!)
    expect(h.session.status).toBe("waiting_approval")
    h.answer(another)
    expect(h.session.status).toBe("running")
  })

  it("deciding twice is refused with ApprovalAlreadyDecided, carrying the first decision", () => {
    const { h, approvals } = waiting()
    h.answer(approvals[0]!, "deny")
    for (const decision of ["allow", "deny"] as const) {
      expect(h.refuse({ kind: "DecideApproval", approvalId: approvals[0]!, decision, decidedBy: "user:x" })).toMatchObject({
        _tag: "ApprovalAlreadyDecided",
        approvalId: approvals[0],
        decision: "deny"
      })
    }
  })

  it("an unknown approval is refused with ApprovalNotFound", () => {
    const h = runningSession()
    const id = newId()
    expect(h.refuse({ kind: "DecideApproval", approvalId: id, decision: "allow", decidedBy: "u" })).toMatchObject({
      _tag: "ApprovalNotFound",
      approvalId: id
    })
  })

  it("an approval settled by the system cannot be decided afterwards", () => {
    const { h, approvals } = waiting()
    h.complete()
    expect(h.refuse({ kind: "DecideApproval", approvalId: approvals[0]!, decision: "allow", decidedBy: "u" })).toMatchObject({
      _tag: "ApprovalAlreadyDecided",
      decision: "deny"
    })
  })

  it("requesting the same approval twice is refused", () => {
    const { h, approvals } = waiting()
    const again: Cmd = { kind: "RequestApproval", runId: h.runId, approvalId: approvals[0]!, toolUseId: "t", toolName: "Bash", input: {}, suggestions: [] }
    expect(h.refuse(again)._tag).toBe("InvalidTransition")
    h.answer(approvals[0]!)
    expect(h.refuse(again)._tag).toBe("InvalidTransition")
  })

  it("requests are refused while queued, after the run ended, from a stale run, and once an interrupt was requested", () => {
    const ask = (h: Harness, runId = h.runId): Cmd => ({
      kind: "RequestApproval",
      runId,
      approvalId: newId(),
      toolUseId: "t",
      toolName: "Bash",
      input: {},
      suggestions: []
    })
    const queued = new Harness()
    queued.launch()
    expect(queued.refuse(ask(queued))._tag).toBe("InvalidTransition")
    for (const k of endedKinds) {
      const h = endedSession(k)
      expect(h.refuse(ask(h))._tag).toBe("InvalidTransition")
    }
    const stale = runningSession()
    expect(stale.refuse(ask(stale, newId()))._tag).toBe("InvalidTransition")
    const interrupted = runningSession()
    interrupted.run(interrupt)
    expect(interrupted.refuse(ask(interrupted))).toMatchObject({ _tag: "InvalidTransition", reason: "an interrupt was requested" })
  })

  it("a decision with an unknown value or an empty decidedBy is refused as InvalidEvent", () => {
    const { h, approvals } = waiting()
    const bad = h.refuse({ kind: "DecideApproval", approvalId: approvals[0]!, decision: "maybe" as "allow", decidedBy: "u" })
    expect(bad._tag === "InvalidEvent" && bad.issue).toContain(`["decision"]`)
    const anon = h.refuse({ kind: "DecideApproval", approvalId: approvals[0]!, decision: "allow", decidedBy: "" })
    expect(anon._tag === "InvalidEvent" && anon.issue).toContain(`["decidedBy"]`)
    expect(h.session.status).toBe("waiting_approval")
  })
})

describe("continue", () => {
  it.each(endedKinds.map((k) => [k]))("from %s starts a new queued run", (k) => {
    const h = endedSession(k)
    const before = h.session
    const runId = newId()
    const events = h.run({ kind: "ContinueSession", runId, query: "next", overrides: { model: "other", maxTurns: 9 } })
    expect(events).toEqual([{ type: "ContinueRequested", data: { runId, query: "next", overrides: { model: "other", maxTurns: 9 } } }])
    expect(h.session).toMatchObject({ status: "queued", runId, runQuery: "next", runs: before.runs + 1, interruptRequested: false })
    expect(h.session.runOptions).toEqual({ ...before.options, model: "other", maxTurns: 9 })
    expect(h.session.options).toEqual(before.options)
    h.start()
    expect(h.session.status).toBe("running")
  })

  it("keeps the Claude session to resume", () => {
    const h = runningSession()
    h.claude(systemInit("c1"))
    h.complete()
    h.continue()
    expect(h.session).toMatchObject({ claudeSessionId: "c1", claudeSessionBound: true })
  })

  it("redacts MCP secrets in its overrides but keeps ${VAR} references", () => {
    const h = endedSession("completed")
    const [e] = h.continue("q", secretOptions)
    if (e!.type !== "ContinueRequested") throw new Error(e!.type)
    expectRedacted(e!.data.overrides)
    expectRedacted(h.session.runOptions)
  })

  it.each(["queued", "running", "waiting_approval"] as const)("is refused while %s", (status) => {
    const h = new Harness()
    h.launch()
    if (status !== "queued") h.start()
    if (status === "waiting_approval") h.ask()
    expect(h.session.status).toBe(status)
    expect(h.refuse({ kind: "ContinueSession", runId: newId(), query: "q", overrides: {} })).toMatchObject({
      _tag: "InvalidTransition",
      command: "ContinueSession",
      status,
      sessionId: h.sessionId
    })
  })

  it("is refused with an invalid override, naming it", () => {
    const h = endedSession("completed")
    const e = h.refuse({ kind: "ContinueSession", runId: newId(), query: "q", overrides: { maxTurns: -1 } })
    expect(e._tag === "InvalidEvent" && e.issue).toContain(`["overrides"]["maxTurns"]`)
  })
})

describe("interrupt", () => {
  it("while queued stops the run at once: InterruptRequested then RunInterrupted", () => {
    const h = new Harness()
    h.launch()
    const events = h.run({ kind: "RequestInterrupt", requestedBy: "user:alice" })
    expect(events).toEqual([
      { type: "InterruptRequested", data: { runId: h.runId, requestedBy: "user:alice" } },
      { type: "RunInterrupted", data: { runId: h.runId } }
    ])
    expect(h.session.status).toBe("interrupted")
    expect(h.refuse({ kind: "StartRun", runId: h.runId })._tag).toBe("InvalidTransition")
  })

  it("while running asks the process to stop; the run ends when it does", () => {
    const h = runningSession()
    expect(h.run(interrupt)).toEqual([{ type: "InterruptRequested", data: { runId: h.runId, requestedBy: "user:test" } }])
    expect(h.session).toMatchObject({ status: "running", interruptRequested: true })
    // Claude keeps talking until it stops
    h.claude(assistantText("c"))
    expect(types(h.interrupted())).toEqual(["RunInterrupted"])
    expect(h.session.status).toBe("interrupted")
  })

  it("while waiting_approval denies every pending approval with reason interrupted", () => {
    const { h, approvals } = waiting(2)
    const events = h.run(interrupt)
    expect(types(events)).toEqual(["InterruptRequested", "ApprovalDecided", "ApprovalDecided"])
    for (const [i, approvalId] of approvals.entries()) {
      expect(events[i + 1]).toEqual({
        type: "ApprovalDecided",
        data: { runId: h.runId, approvalId, decision: "deny", message: "denied: interrupted", decidedBy: "agentlog", reason: "interrupted" }
      })
    }
    expect(h.session).toMatchObject({ status: "running", interruptRequested: true })
    expect(h.session.pending.size).toBe(0)
    expect(types(h.interrupted())).toEqual(["RunInterrupted"])
  })

  it("twice is refused", () => {
    const h = runningSession()
    h.run(interrupt)
    expect(h.refuse(interrupt)).toMatchObject({ _tag: "InvalidTransition", reason: "an interrupt was already requested" })
  })

  it.each(endedKinds.map((k) => [k]))("when the session is %s is refused", (k) => {
    const h = endedSession(k)
    expect(h.refuse(interrupt)).toMatchObject({ _tag: "InvalidTransition", command: "RequestInterrupt", status: k })
  })

  it("is allowed again on the next run", () => {
    const h = endedSession("interrupted")
    h.continue()
    h.start()
    expect(types(h.run(interrupt))).toEqual(["InterruptRequested"])
  })
})

describe("finishing a run", () => {
  it("completed: RunCompleted with the figures, status completed", () => {
    const h = runningSession()
    const outcome = { kind: "completed", totalCostUsd: 0.4, runCostUsd: 0.3, usage: { input_tokens: 5 }, numTurns: 2, durationMs: 99 } as const
    expect(h.run({ kind: "FinishRun", runId: h.runId, outcome })).toEqual([
      { type: "RunCompleted", data: { runId: h.runId, totalCostUsd: 0.4, runCostUsd: 0.3, usage: { input_tokens: 5 }, numTurns: 2, durationMs: 99 } }
    ])
    expect(h.session.status).toBe("completed")
  })

  it("failed: RunFailed with the error and exit code (when there is one)", () => {
    const h = runningSession()
    expect(h.fail("exit 2")).toEqual([{ type: "RunFailed", data: { runId: h.runId, error: "exit 2", exitCode: 1 } }])
    expect(h.session.status).toBe("failed")
    const spawn = new Harness()
    spawn.launch()
    // a spawn failure ends a run that never started
    const events = spawn.run({ kind: "FinishRun", runId: spawn.runId, outcome: { kind: "failed", error: "ENOENT" } })
    expect(events).toEqual([{ type: "RunFailed", data: { runId: spawn.runId, error: "ENOENT" } }])
    expect(spawn.session.status).toBe("failed")
  })

  it("interrupted: RunInterrupted, status interrupted", () => {
    const h = runningSession()
    expect(h.interrupted()).toEqual([{ type: "RunInterrupted", data: { runId: h.runId } }])
    expect(h.session.status).toBe("interrupted")
  })

  it.each([
    ["completed", "run_ended", "completed"],
    ["failed", "run_ended", "failed"],
    ["interrupted", "interrupted", "interrupted"]
  ] as const)("%s while approvals are pending settles them first (reason %s)", (kind, reason, status) => {
    const { h, approvals } = waiting(2)
    const events =
      kind === "completed" ? h.complete() : kind === "failed" ? h.fail() : h.interrupted()
    expect(types(events).slice(0, 2)).toEqual(["ApprovalDecided", "ApprovalDecided"])
    expect(events.slice(0, 2).map((e) => e.data)).toEqual(
      approvals.map((approvalId) => ({ runId: h.runId, approvalId, decision: "deny", message: `denied: ${reason}`, decidedBy: "agentlog", reason }))
    )
    expect(h.session.status).toBe(status)
    expect(h.session.pending.size).toBe(0)
  })

  it("is refused for a stale run and twice", () => {
    const h = runningSession()
    expect(h.refuse({ kind: "FinishRun", runId: newId(), outcome: { kind: "interrupted" } })._tag).toBe("InvalidTransition")
    h.complete()
    expect(h.refuse({ kind: "FinishRun", runId: h.runId, outcome: { kind: "interrupted" } })).toMatchObject({
      _tag: "InvalidTransition",
      status: "completed"
    })
  })

  it.each([
    ["totalCostUsd", Number.NaN],
    ["runCostUsd", Number.POSITIVE_INFINITY],
    ["numTurns", Number.NaN],
    ["durationMs", Number.NEGATIVE_INFINITY],
    ["totalCostUsd", -1]
  ] as const)("is refused when %s is %s, naming it (events are JSON)", (field, value) => {
    const h = runningSession()
    const outcome = { kind: "completed" as const, totalCostUsd: 1, runCostUsd: 1, usage: {}, numTurns: 1, durationMs: 1, [field]: value }
    const e = h.refuse({ kind: "FinishRun", runId: h.runId, outcome })
    expect(e).toMatchObject({ _tag: "InvalidEvent", type: "RunCompleted" })
    expect(e._tag === "InvalidEvent" && e.issue).toContain(`["${field}"]`)
    expect(h.session.status).toBe("running")
  })

  it("is refused with a fractional exit code", () => {
    const h = runningSession()
    const e = h.refuse({ kind: "FinishRun", runId: h.runId, outcome: { kind: "failed", error: "x", exitCode: 1.5 } })
    expect(e._tag === "InvalidEvent" && e.issue).toContain(`["exitCode"]`)
  })
})

describe("abandon", () => {
  it.each(["queued", "running", "waiting_approval"] as const)("while %s ends the session as abandoned", (status) => {
    const h = new Harness()
    h.launch()
    if (status !== "queued") h.start()
    const approvals = status === "waiting_approval" ? [h.ask(), h.ask()] : []
    const events = h.abandon("found running at start-up")
    expect(events.at(-1)).toEqual({ type: "RunAbandoned", data: { runId: h.runId, reason: "found running at start-up" } })
    expect(events.slice(0, -1).map((e) => e.data)).toEqual(
      approvals.map((approvalId) => ({
        runId: h.runId,
        approvalId,
        decision: "deny",
        message: "denied: abandoned",
        decidedBy: "agentlog",
        reason: "abandoned"
      }))
    )
    expect(h.session.status).toBe("abandoned")
    expect(h.session.pending.size).toBe(0)
  })

  it("is refused once the run ended, and for a stale run", () => {
    for (const k of endedKinds) {
      const h = endedSession(k)
      expect(h.refuse({ kind: "AbandonRun", runId: h.runId, reason: "x" })._tag).toBe("InvalidTransition")
    }
    const h = runningSession()
    expect(h.refuse({ kind: "AbandonRun", runId: newId(), reason: "x" })._tag).toBe("InvalidTransition")
  })
})

describe("housekeeping", () => {
  it("archive, unarchive, archive again", () => {
    const h = endedSession("completed")
    expect(h.run({ kind: "ArchiveSession" })).toEqual([{ type: "SessionArchived", data: {} }])
    expect(h.session.archived).toBe(true)
    expect(h.run({ kind: "UnarchiveSession" })).toEqual([{ type: "SessionUnarchived", data: {} }])
    expect(h.session.archived).toBe(false)
    h.run({ kind: "ArchiveSession" })
    expect(h.session.archived).toBe(true)
  })

  it("archive twice is refused", () => {
    const h = runningSession()
    h.run({ kind: "ArchiveSession" })
    expect(h.refuse({ kind: "ArchiveSession" })).toMatchObject({ _tag: "InvalidTransition", reason: "already archived" })
  })

  it("unarchive when not archived is refused", () => {
    const h = runningSession()
    expect(h.refuse({ kind: "UnarchiveSession" })).toMatchObject({ _tag: "InvalidTransition", reason: "not archived" })
  })

  it("archiving does not change the status", () => {
    const { h } = waiting()
    h.run({ kind: "ArchiveSession" })
    expect(h.session.status).toBe("waiting_approval")
  })

  it("rename sets the title, in any status", () => {
    const h = new Harness()
    h.launch({ title: "first" })
    expect(h.run({ kind: "RenameSession", title: "second" })).toEqual([{ type: "SessionRenamed", data: { title: "second" } }])
    expect(h.session.title).toBe("second")
    h.start()
    h.run({ kind: "RenameSession", title: "third" })
    h.complete()
    h.run({ kind: "RenameSession", title: "fourth" })
    expect(h.session.title).toBe("fourth")
    // the launch options are not rewritten
    expect(h.session.options.title).toBe("first")
  })

  it("rename to an empty or too long title is refused with InvalidEvent naming title", () => {
    const h = runningSession()
    for (const title of ["", "x".repeat(201)]) {
      const e = h.refuse({ kind: "RenameSession", title })
      expect(e).toMatchObject({ _tag: "InvalidEvent", type: "SessionRenamed" })
      expect(e._tag === "InvalidEvent" && e.issue).toContain(`["title"]`)
    }
  })
})

/** One example of every command kind, for a session in any state. */
const everyCommand = (sessionId: string, runId: string): Array<SessionCommand> => [
  { sessionId, kind: "LaunchSession", runId, query: "q", options: {} },
  { sessionId, kind: "ForkSession", runId, parentSessionId: newId(), parentClaudeSessionId: "c", query: "q", options: {} },
  { sessionId, kind: "StartRun", runId },
  { sessionId, kind: "RecordClaudeMessage", runId, message: assistantText("c") },
  { sessionId, kind: "RequestApproval", runId, approvalId: newId(), toolUseId: "t", toolName: "Bash", input: {}, suggestions: [] },
  { sessionId, kind: "DecideApproval", approvalId: newId(), decision: "allow", decidedBy: "u" },
  { sessionId, kind: "ContinueSession", runId, query: "q", overrides: {} },
  { sessionId, kind: "RequestInterrupt", requestedBy: "u" },
  { sessionId, kind: "FinishRun", runId, outcome: { kind: "interrupted" } },
  { sessionId, kind: "AbandonRun", runId, reason: "r" },
  { sessionId, kind: "ArchiveSession" },
  { sessionId, kind: "UnarchiveSession" },
  { sessionId, kind: "RenameSession", title: "t" }
]

describe("refusals that do not depend on the status", () => {
  it("every command but launch and fork on an unknown session is SessionNotFound", () => {
    const sessionId = newId()
    const commands = everyCommand(sessionId, newId()).filter((c) => c.kind !== "LaunchSession" && c.kind !== "ForkSession")
    expect(commands).toHaveLength(11)
    for (const c of commands) {
      expect(refused(decide(c, null)), c.kind).toMatchObject({ _tag: "SessionNotFound", sessionId })
    }
  })

  it("a command for another session than the state's is SessionNotFound", () => {
    const h = runningSession()
    const other = newId()
    for (const c of everyCommand(other, h.runId)) {
      expect(refused(decide(c, h.state)), c.kind).toMatchObject({ _tag: "SessionNotFound", sessionId: other })
    }
  })

  it.each([["not-a-uuid"], [""], ["6B1C0E0A-8A0C-4C0F-9A8E-2B7F5D1E3C4A"], ["../etc"]])(
    "every command with session id %j is InvalidStreamName, whatever the state",
    (sessionId) => {
      const h = runningSession()
      for (const c of everyCommand(sessionId, h.runId)) {
        expect(refused(decide(c, null)), c.kind).toMatchObject({ _tag: "InvalidStreamName", stream: `session-${sessionId}` })
        expect(refused(decide(c, h.state))._tag, c.kind).toBe("InvalidStreamName")
      }
    }
  )

  it("errors carry a readable message", () => {
    const h = runningSession()
    const e = h.refuse({ kind: "ContinueSession", runId: newId(), query: "q", overrides: {} })
    expect(e.message).toBe(`ContinueSession refused: a run is still active (session ${h.sessionId} is running)`)
    expect(refused(decide({ sessionId: h.sessionId, kind: "ArchiveSession" }, null)).message).toBe(`session ${h.sessionId} does not exist`)
  })
})

describe("a whole session's history", () => {
  it("is valid event by event, survives JSON, and folds to the same state as step by step", () => {
    const h = new Harness()
    h.launch(secretOptions)
    h.start()
    h.claude(systemInit("c1"))
    h.claude(assistantText("c1"))
    const a = h.ask()
    h.answer(a)
    h.claude(userToolResult("c1"))
    h.claude(streamEvent("c1"))
    h.claude(resultMessage("c1", 0.2))
    h.complete(0.2)
    h.run({ kind: "RenameSession", title: "renamed" })
    h.continue("more", { permissionMode: "plan" })
    h.start()
    h.ask()
    h.run(interrupt)
    h.interrupted()
    h.continue()
    h.abandon()
    h.continue()
    h.start()
    h.fail()
    h.run({ kind: "ArchiveSession" })
    h.run({ kind: "UnarchiveSession" })
    for (const e of h.events) {
      const v = validateEvent(e.type, JSON.parse(JSON.stringify(e.data)))
      if (Result.isFailure(v)) throw new Error(v.failure.message)
      expect(v.success).toEqual(e)
    }
    expect(h.refold()).toEqual(h.state)
    expect(h.session).toMatchObject({ status: "failed", runs: 4, title: "renamed", archived: false, claudeSessionId: "c1" })
  })
})

// ---------------------------------------------------------------------------------------
// Property: random command sequences. Whatever the decider accepts, folded, keeps the
// session's invariants; whatever it refuses appends nothing.

const checkInvariants = (s: SessionState, where: string) => {
  if (s === null) return
  const ctx = `${where}: ${s.status} with ${s.pending.size} pending`
  if (s.status === "waiting_approval") expect(s.pending.size, ctx).toBeGreaterThan(0)
  if (endedStatuses.includes(s.status)) expect(s.pending.size, ctx).toBe(0)
  if (s.status === "queued") expect(s.pending.size, ctx).toBe(0)
  for (const p of s.pending.values()) {
    expect(p.runId, ctx).toBe(s.runId)
    expect(s.decided.has(p.approvalId), ctx).toBe(false)
  }
  expect(s.lastTotalCostUsd).toBeGreaterThanOrEqual(0)
  // A bypass granted by a mode change always has its end; no other mode has one.
  if (s.bypassExpiresAt !== undefined) expect(s.options.permissionMode, ctx).toBe("bypassPermissions")

  // A draft (or a discarded one) has no run yet; every other session has had one.
  if (s.status === "draft" || s.status === "discarded") expect([s.runs, s.runId, s.pending.size], ctx).toEqual([0, "", 0])
  else expect(s.runs, ctx).toBeGreaterThanOrEqual(1)
  // Follow-ups: a queued one waits only behind an active or just-completed run (else it is held), and each became at most one run.
  for (const f of s.followUps ?? []) {
    if (f.status === "queued") expect(["queued", "running", "waiting_approval", "completed"], ctx).toContain(s.status)
    if (f.status === "held") expect(f.reason, ctx).toBeDefined()
  }
  const started = (s.followUps ?? []).filter((f) => f.status === "started").map((f) => f.runId)
  expect(new Set(started).size, ctx).toBe(started.length)
}

/** Once a command's events are all folded: every bypass has its end (a run opened in it records its grant in the same append). */
const checkBypassEnds = (s: SessionState, ctx: string) => {
  if (s === null || s.status === "draft" || s.status === "discarded") return
  const bypassing = s.options.permissionMode === "bypassPermissions" || s.runOptions.permissionMode === "bypassPermissions"
  if (bypassing) expect(s.bypassExpiresAt, ctx).toBeDefined()
}

const sessionIdsInTest = { main: newId(), other: newId() }

const randomCommands = (seed: number, steps: number) => {
  const r = prng(seed)
  const sessionId = sessionIdsInTest.main
  let state: SessionState = null
  const runIds: Array<string> = []
  const approvalIds: Array<string> = []
  const followUpIds: Array<string> = []
  const followUpId = (): string => (followUpIds.length > 0 && r.chance(0.8) ? r.pick(followUpIds) : r.uuid())
  const claudeIds = ["c-1", "c-2", "c-3"]
  const log: Array<{ command: SessionCommand; result: "accepted" | string; events: ReadonlyArray<SessionEvent> }> = []

  const runId = (): string => {
    const current = state?.runId
    if (current && r.chance(0.8)) return current
    if (runIds.length > 0 && r.chance(0.6)) return r.pick(runIds)
    return r.uuid()
  }
  const approvalId = (): string => {
    const pending = state ? [...state.pending.keys()] : []
    if (pending.length > 0 && r.chance(0.6)) return r.pick(pending)
    if (approvalIds.length > 0 && r.chance(0.7)) return r.pick(approvalIds)
    return r.uuid()
  }
  const num = (): number => (r.chance(0.03) ? r.pick([Number.NaN, Number.POSITIVE_INFINITY, -1]) : Math.round(r.next() * 1000) / 1000)
  const options = (): SessionOptions => {
    const o: Record<string, unknown> = {}
    if (r.chance(0.3)) o.model = r.pick(["m1", "m2"])
    if (r.chance(0.2)) o.maxTurns = r.chance(0.1) ? "5" : 1 + r.int(10)
    if (r.chance(0.2)) o.mcpServers = { s: { command: "x", env: { K: r.pick(["secret", "${REF}"]) } } }
    if (r.chance(0.1)) o.title = r.pick(["", "t"])
    if (r.chance(0.15)) o.permissionMode = r.pick(["bypassPermissions", "plan"])
    return o as SessionOptions
  }
  /** A bypass's grant, mostly where the options ask for bypass (its absence, or one for another mode, is refused). */
  const grant = (o: SessionOptions) =>
    r.chance(o.permissionMode === "bypassPermissions" ? 0.9 : 0.05)
      ? { bypass: { expiresAt: r.pick(["2026-01-01T00:15:00.000Z", "2026-01-01T00:30:00.000Z"]), grantedBy: "user:prop" } }
      : {}
  const withGrant = (c: SessionCommand): SessionCommand =>
    ({ ...c, ...grant("options" in c ? c.options : "overrides" in c ? (c.overrides ?? {}) : {}) }) as SessionCommand
  const message = (): ClaudeMessage => {
    const sid = r.chance(0.7) ? r.pick(claudeIds) : undefined
    const base: ClaudeMessage = sid === undefined ? {} : { session_id: sid }
    switch (r.int(6)) {
      case 0:
        return { ...systemInit(sid ?? "c-1"), ...base }
      case 1:
        return { type: "assistant", ...base, message: { content: [{ type: "text", text: "x" }] } }
      case 2:
        return { type: "user", ...base, message: { content: [] } }
      case 3:
        return { type: "result", subtype: r.pick(["success", "error_max_turns"]), ...base, total_cost_usd: r.next() }
      case 4:
        return { type: "stream_event", ...base, event: {} }
      default:
        return { type: r.pick(["mystery", "", "tool_progress"]), ...base }
    }
  }

  const next = (): SessionCommand => {
    const sid = r.chance(0.03) ? r.pick([sessionIdsInTest.other, "bogus"]) : sessionId
    // 20: RenameSession (default); 21-24 workspaces; 25-28 session controls; 29-32 follow-ups.
    const k = r.int(33)
    const base = { sessionId: sid }
    const sha = () => r.pick(["a", "b", "c"]).repeat(40)
    const committed = state?.workspace?.commits ?? []
    const reset = (): SessionCommand => {
      const toRunId = committed.length > 0 && r.chance(0.8) ? r.pick(committed).runId : runId()
      return { ...base, kind: "ResetToRun", toRunId, runId: r.uuid(), query: "q", atMessage: "m", claudeSessionId: "c-1", by: "user:prop" }
    }
    // Workspaces with commits are rare in random sequences: once one has ended, a reset is tried more often.
    if (committed.length > 0 && state !== null && endedStatuses.includes(state.status) && r.chance(0.2)) return reset()
    switch (k) {
      case 21:
        return {
          ...base,
          kind: "RecordWorkspaceCreated",
          data: { runId: runId(), repo: "/r", baseRef: "main", baseSha: sha(), branch: "agentlog/b", path: "/w", cwd: "/w" }
        }
      case 22:
      case 23: {
        const changed = r.chance(0.5)
        const outcome = r.pick(["completed", "failed", "interrupted", "abandoned"] as const)
        return {
          ...base,
          kind: "RecordWorkspaceCommitted",
          data: { runId: runId(), sha: sha(), parentSha: sha(), changed, outcome, files: [], fileCount: 0, insertions: 0, deletions: 0 }
        }
      }
      case 24: {
        const which = r.int(4)
        if (which === 3) return reset()
        return which === 0
          ? { ...base, kind: "RecordWorkspaceMerged", data: { into: "main", sha: sha(), fastForward: r.chance(0.5) } }
          : which === 1
            ? { ...base, kind: "RecordWorkspaceRebased", data: { onto: "main", ontoSha: sha(), sha: sha() } }
            : { ...base, kind: "RecordWorkspaceDiscarded", data: { reason: "asked" } }
      }
      case 0:
        return withGrant({ ...base, kind: "LaunchSession", runId: r.uuid(), query: "q", options: options() })
      case 1:
        return withGrant({ ...base, kind: "ForkSession", runId: r.uuid(), parentSessionId: r.uuid(), parentClaudeSessionId: "c-0", query: "q", options: options() })
      case 2:
        return { ...base, kind: "StartRun", runId: runId(), ...(r.chance(0.3) ? { pid: r.chance(0.1) ? Number.NaN : r.int(1000) } : {}) }
      case 3:
      case 4:
        return { ...base, kind: "RecordClaudeMessage", runId: runId(), message: message() }
      case 5:
      case 6: {
        const id = r.chance(0.8) ? r.uuid() : approvalId()
        approvalIds.push(id)
        return { ...base, kind: "RequestApproval", runId: runId(), approvalId: id, toolUseId: "t", toolName: "Bash", input: { n: r.int(5) }, suggestions: [] }
      }
      case 7:
      case 8:
        return {
          ...base,
          kind: "DecideApproval",
          approvalId: approvalId(),
          decision: r.pick(["allow", "deny"] as const),
          message: r.chance(0.5) ? "because" : undefined,
          ...(r.chance(0.3) ? { updatedInput: { n: 1 } } : {}),
          decidedBy: "user:prop"
        }
      case 9: {
        // Half of them offer a follow-up id: queued while a run is active.
        const id = r.uuid()
        if (r.chance(0.5)) followUpIds.push(id)
        return withGrant({ ...base, kind: "ContinueSession", runId: r.uuid(), query: "q", overrides: options(), ...(followUpIds.at(-1) === id ? { followUpId: id } : {}) })
      }
      case 10:
        return { ...base, kind: "RequestInterrupt", requestedBy: "user:prop" }
      case 11: {
        const kind = r.pick(["completed", "failed", "interrupted"] as const)
        const outcome =
          kind === "completed"
            ? { kind, totalCostUsd: num(), runCostUsd: num(), usage: {}, numTurns: num(), durationMs: num() }
            : kind === "failed"
              ? { kind, error: "e", ...(r.chance(0.5) ? { exitCode: r.int(3) } : {}) }
              : { kind }
        return { ...base, kind: "FinishRun", runId: runId(), outcome }
      }
      case 12:
        return { ...base, kind: "AbandonRun", runId: runId(), reason: "restart" }
      case 13:
        return { ...base, kind: "ArchiveSession" }
      case 14:
        return { ...base, kind: "UnarchiveSession" }
      case 15:
        return { ...base, kind: "CreateDraft", query: r.pick(["", "q"]), options: options() }
      case 16:
        return { ...base, kind: "EditDraft", ...(r.chance(0.5) ? { query: r.pick(["", "q2"]) } : {}), options: options() }
      case 17:
        return { ...base, kind: "LaunchDraft", runId: r.uuid(), ...grant(state?.options ?? {}) }
      case 18:
        return { ...base, kind: "DiscardDraft" }
      case 19:
        return { ...base, kind: "RestoreDraft" }
      // Session controls: mode (a bypass with or without an end), its expiry, the model, questions.
      case 25: {
        const mode = r.pick(["default", "acceptEdits", "plan", "bypassPermissions"] as const)
        const expiresAt = r.chance(0.8) === (mode === "bypassPermissions") ? r.pick(["2026-01-01T00:15:00.000Z", "2026-01-01T00:30:00.000Z"]) : undefined
        return { ...base, kind: "ChangePermissionMode", mode, ...(expiresAt ? { expiresAt } : {}), changedBy: "user:prop" }
      }
      case 26:
        return { ...base, kind: "ExpireBypass", expiresAt: r.pick(["2026-01-01T00:15:00.000Z", "2026-01-01T00:30:00.000Z"]) }
      case 27:
        return { ...base, kind: "ChangeModel", model: r.pick(["m-1", "m-2"]), changedBy: "user:prop" }
      case 28: {
        if (r.chance(0.5)) {
          const id = r.uuid()
          approvalIds.push(id)
          const input = { questions: [{ question: "Which?", header: "h", multiSelect: false, options: [{ label: "a" }, { label: "b" }] }] }
          return { ...base, kind: "RequestApproval", runId: runId(), approvalId: id, toolUseId: "q", toolName: "AskUserQuestion", input, suggestions: [], approvalKind: "question" }
        }
        const answers = r.pick<Record<string, string>>([{ "Which?": "a" }, { Other: "x" }, {}])
        return { ...base, kind: "DecideApproval", approvalId: approvalId(), decision: r.pick(["allow", "deny"] as const), answers, decidedBy: "user:prop" }
      }
      // Follow-ups: edit, cancel, send, and the supervisor's start after a completed run.
      case 29:
        return withGrant({ ...base, kind: "EditFollowUp", followUpId: followUpId(), ...(r.chance(0.5) ? { query: "q3" } : {}), overrides: options() })
      case 30:
        return { ...base, kind: "CancelFollowUp", followUpId: followUpId(), cancelledBy: "user:prop" }
      case 31:
        return { ...base, kind: "SendFollowUp", followUpId: followUpId(), startedBy: "user:prop" }
      case 32:
        return { ...base, kind: "StartNextFollowUp", afterRunId: runId() }
      default:
        return { ...base, kind: "RenameSession", title: r.pick(["", "a", "b"]) }
    }
  }

  const accepted: Array<SessionEvent> = []
  for (let i = 0; i < steps; i++) {
    // Launch first most of the time, so most sequences explore an existing session.
    const command: SessionCommand =
      state === null && r.chance(0.8)
        ? r.chance(0.75)
          ? withGrant({ sessionId, kind: "LaunchSession", runId: r.uuid(), query: "q", options: options() })
          : { sessionId, kind: "CreateDraft", query: r.pick(["", "q"]), options: options() }
        : next()
    const before = state
    const result = decide(command, state)
    if (Result.isFailure(result)) {
      log.push({ command, result: result.failure._tag, events: [] })
      expect(state).toBe(before)
      continue
    }
    for (const e of result.success) {
      const v = validateEvent(e.type, e.data)
      if (Result.isFailure(v)) throw new Error(`seed ${seed} step ${i}: ${v.failure.message}`)
      const json = JSON.parse(JSON.stringify(e.data))
      expect(json, `seed ${seed} step ${i}: ${e.type} survives JSON`).toEqual(e.data)
      state = fold([e], state)
      checkInvariants(state, `seed ${seed} step ${i} ${command.kind} -> ${e.type}`)
      accepted.push(e)
    }
    checkBypassEnds(state, `seed ${seed} step ${i} ${command.kind}`)
    if (state && state.runId !== runIds.at(-1)) runIds.push(state.runId)
    log.push({ command, result: "accepted", events: result.success })
    // the stream replayed from scratch is the state we hold
    if (i % 10 === 0) expect(fold(accepted)).toEqual(state)
  }
  expect(fold(accepted)).toEqual(state)
  return { log, state, accepted }
}

describe("property: random command sequences", () => {
  const seeds = Array.from({ length: 300 }, (_, i) => i * 7919 + 1)

  it("never leave waiting_approval without a pending approval, nor pending approvals in an ended status", () => {
    const emitted = new Set<EventType>()
    const refusals = new Set<string>()
    const acceptedKinds = new Set<string>()
    for (const seed of seeds) {
      const { log } = randomCommands(seed, 80)
      for (const l of log) {
        for (const e of l.events) emitted.add(e.type)
        if (l.result === "accepted") acceptedKinds.add(l.command.kind)
        else refusals.add(l.result)
      }
    }
    // the generator explores the whole catalog and every kind of refusal
    expect([...emitted].sort()).toEqual([...eventTypes].sort())
    expect([...refusals].sort()).toEqual(
      ["ApprovalAlreadyDecided", "ApprovalNotFound", "FollowUpNotFound", "InvalidAnswer", "InvalidEvent", "InvalidStreamName", "InvalidTransition", "RunWithoutCommit", "SessionAlreadyExists", "SessionNotFound"].sort()
    )
    expect(acceptedKinds.size).toBe(31)
  })

  it("accepts continue exactly when the last run ended, and interrupt exactly when a run is active and not yet interrupted", () => {
    for (const seed of seeds.slice(0, 100)) {
      const r = prng(seed ^ 0x5eed)
      const h = new Harness()
      h.launch()
      for (let i = 0; i < 60; i++) {
        const s: Session = h.session
        const cont: Cmd = { kind: "ContinueSession", runId: newId(), query: "q", overrides: {} }
        expect(Result.isSuccess(h.decide(cont))).toBe(endedStatuses.includes(s.status))
        const canInterrupt = ["queued", "running", "waiting_approval"].includes(s.status) && !s.interruptRequested && s.runResult === undefined
        expect(Result.isSuccess(h.decide(interrupt))).toBe(canInterrupt)
        const step = r.int(8)
        const attempt = (c: Cmd) => (Result.isSuccess(h.decide(c)) ? h.run(c) : [])
        if (step === 0) attempt(cont)
        else if (step === 1) attempt(interrupt)
        else if (step === 2) attempt({ kind: "StartRun", runId: s.runId })
        else if (step === 3) attempt({ kind: "RequestApproval", runId: s.runId, approvalId: newId(), toolUseId: "t", toolName: "Bash", input: {}, suggestions: [] })
        else if (step === 4 && s.pending.size > 0) attempt({ kind: "DecideApproval", approvalId: r.pick([...s.pending.keys()]), decision: "allow", decidedBy: "u" })
        else if (step === 5) attempt({ kind: "FinishRun", runId: s.runId, outcome: r.pick([{ kind: "interrupted" }, { kind: "failed", error: "x" }] as const) })
        else if (step === 6) attempt({ kind: "AbandonRun", runId: s.runId, reason: "r" })
        else attempt({ kind: "RecordClaudeMessage", runId: s.runId, message: assistantText(r.pick(["c1", "c2"])) })
        checkInvariants(h.state, `seed ${seed} step ${i}`)
      }
      expect(h.refold()).toEqual(h.state)
    }
  })
})
