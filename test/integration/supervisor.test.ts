// Real `claude` runs, supervised and recorded, against the scripted fake Messages API.
// Assertions are on the events in the store, in order.
import { execFileSync } from "node:child_process"
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Stream } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { type EventType, schemaVersions } from "../../src/domain/sessionEvents.ts"
import { startSupervisorHarness, type SupervisorHarness } from "../support/supervisorHarness.ts"

let h: SupervisorHarness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

/** Claude processes this test process started and that are still alive. */
const childClaudes = () =>
  execFileSync("ps", ["-o", "pid=,comm=", "--ppid", String(process.pid)], { encoding: "utf8" })
    .split("\n")
    .filter((l) => /claude/.test(l))

const ended = ["completed", "failed", "interrupted", "abandoned"] as const
const dataOf = async (sessionId: string, type: string) =>
  (await h!.events(sessionId)).filter((e) => e.type === type).map((e) => e.data as Record<string, any>)

describe("supervised Claude runs", () => {
  it("records a text answer from launch to RunCompleted, each Claude message losslessly", async () => {
    h = await startSupervisorHarness([{ text: "Hello from the fake model" }])
    const { sessionId, runId } = await h.launch("say hello", { title: "greeting" })
    const s = await h.waitForStatus(sessionId, ended)
    expect(s.status).toBe("completed")
    const types = await h.types(sessionId)
    // Claude may add status system messages after init; everything else is fixed.
    const systemSubtypes = (await dataOf(sessionId, "ClaudeSystemEvent")).map((d) => d.subtype)
    expect(systemSubtypes).toContain("init")
    expect(types.filter((t, i) => t !== "ClaudeSystemEvent" || types.indexOf(t) === i)).toEqual([
      "SessionLaunched",
      "RunStarted",
      "ClaudeSessionBound",
      "ClaudeSystemEvent",
      "ClaudeAssistantMessage",
      "ClaudeResult",
      "RunCompleted"
    ])
    const events = await h.events(sessionId)
    expect(events.every((e) => (e.metadata as any).schemaVersion === schemaVersions[e.type as EventType])).toBe(true)
    expect(events.slice(1).every((e) => (e.metadata as any).runId === runId)).toBe(true)
    const [assistant] = await dataOf(sessionId, "ClaudeAssistantMessage")
    expect(assistant!.message.message.content).toEqual([{ type: "text", text: "Hello from the fake model" }])
    const [bound] = await dataOf(sessionId, "ClaudeSessionBound")
    expect(bound!.claudeSessionId).toBe(assistant!.message.session_id)
    // The Claude message id doubles as the event id source: a retried append is idempotent.
    const [result] = await dataOf(sessionId, "ClaudeResult")
    const [completed] = await dataOf(sessionId, "RunCompleted")
    expect(result!.isError).toBe(false)
    expect(completed!.numTurns).toBe(result!.numTurns)
    expect(completed!.usage).toEqual(result!.usage)
    expect(completed!.totalCostUsd).toBeGreaterThan(0)
  })

  it("records one tool call and the tool result Claude sent back", async () => {
    h = await startSupervisorHarness([
      { toolUse: { name: "Bash", input: { command: "echo tool-output-42" }, id: "toolu_one" } },
      { text: "The command printed tool-output-42" }
    ])
    const { sessionId } = await h.launch("run echo", { allowedTools: ["Bash"] })
    expect((await h.waitForStatus(sessionId, ended)).status).toBe("completed")
    const users = await dataOf(sessionId, "ClaudeUserMessage")
    const toolResult = users.flatMap((u) => u.message.message.content).find((c: any) => c.type === "tool_result")
    expect(toolResult.tool_use_id).toBe("toolu_one")
    expect(JSON.stringify(toolResult.content)).toContain("tool-output-42")
    const second = h.fake.mainRequests()[1]!.body
    expect(JSON.stringify(second.messages)).toContain("tool-output-42")
  })

  it("records several tool calls in a row, in order", async () => {
    h = await startSupervisorHarness([
      { toolUse: { name: "Bash", input: { command: "echo first" }, id: "toolu_a" } },
      { toolUse: { name: "Bash", input: { command: "echo second" }, id: "toolu_b" } },
      { toolUse: { name: "Bash", input: { command: "echo third" }, id: "toolu_c" } },
      { text: "three done" }
    ])
    const { sessionId } = await h.launch("run three", { allowedTools: ["Bash"] })
    expect((await h.waitForStatus(sessionId, ended)).status).toBe("completed")
    const uses = (await dataOf(sessionId, "ClaudeAssistantMessage"))
      .flatMap((a) => a.message.message.content)
      .filter((c: any) => c.type === "tool_use")
      .map((c: any) => c.id)
    expect(uses).toEqual(["toolu_a", "toolu_b", "toolu_c"])
    const results = (await dataOf(sessionId, "ClaudeUserMessage"))
      .flatMap((u) => u.message.message.content)
      .filter((c: any) => c.type === "tool_result")
      .map((c: any) => c.tool_use_id)
    expect(results).toEqual(["toolu_a", "toolu_b", "toolu_c"])
  })

  it("waits for an approval, and an allowed tool runs", async () => {
    h = await startSupervisorHarness([
      { toolUse: { name: "Write", input: { file_path: "PLACEHOLDER", content: "approved content" }, id: "toolu_w" } },
      { text: "written" }
    ])
    const target = join(h.claude.cwd, "allowed.txt")
    h.fake.setScript([
      { toolUse: { name: "Write", input: { file_path: target, content: "approved content" }, id: "toolu_w" } },
      { text: "written" }
    ])
    const { sessionId } = await h.launch("write a file")
    const waiting = await h.waitForStatus(sessionId, ["waiting_approval", ...ended])
    expect(waiting.status).toBe("waiting_approval")
    const [pending] = [...waiting.pending.values()]
    expect(pending!.toolName).toBe("Write")
    expect(pending!.toolUseId).toBe("toolu_w")
    await Effect.runPromise(
      h.command({ kind: "DecideApproval", sessionId, approvalId: pending!.approvalId, decision: "allow", decidedBy: "alice" })
    )
    expect((await h.waitForStatus(sessionId, ended)).status).toBe("completed")
    expect(existsSync(target)).toBe(true)
    const types = await h.types(sessionId)
    expect(types.indexOf("ApprovalRequested")).toBeLessThan(types.indexOf("ApprovalDecided"))
    const [decided] = await dataOf(sessionId, "ApprovalDecided")
    expect(decided).toMatchObject({ decision: "allow", decidedBy: "alice", approvalId: pending!.approvalId })
    // Deciding twice is refused and appends nothing.
    const before = (await h.events(sessionId)).length
    const again = await Effect.runPromise(
      Effect.flip(h.command({ kind: "DecideApproval", sessionId, approvalId: pending!.approvalId, decision: "deny", decidedBy: "bob" }))
    )
    expect(again._tag).toBe("ApprovalAlreadyDecided")
    expect((await h.events(sessionId)).length).toBe(before)
  })

  it("a denied approval answers Claude with the message and the tool does not run", async () => {
    h = await startSupervisorHarness([])
    const target = join(h.claude.cwd, "denied.txt")
    h.fake.setScript([
      { toolUse: { name: "Write", input: { file_path: target, content: "nope" }, id: "toolu_d" } },
      { text: "ok, not writing" }
    ])
    const { sessionId } = await h.launch("write a file")
    const waiting = await h.waitForStatus(sessionId, ["waiting_approval", ...ended])
    const [pending] = [...waiting.pending.values()]
    await Effect.runPromise(
      h.command({
        kind: "DecideApproval",
        sessionId,
        approvalId: pending!.approvalId,
        decision: "deny",
        message: "not in this repo",
        decidedBy: "carol"
      })
    )
    expect((await h.waitForStatus(sessionId, ended)).status).toBe("completed")
    expect(existsSync(target)).toBe(false)
    const toolResult = (await dataOf(sessionId, "ClaudeUserMessage"))
      .flatMap((u) => u.message.message.content)
      .find((c: any) => c.type === "tool_result")
    expect(toolResult.is_error).toBe(true)
    expect(JSON.stringify(toolResult.content)).toContain("not in this repo")
  })

  it("an approval nobody answers is denied at the timeout and recorded as such", async () => {
    // The timeout on the supervisor's TestClock (test/process/supervisorClock.test.ts times it to the millisecond).
    h = await startSupervisorHarness([], { approvalTimeoutMs: 30_000 }, { testClock: true })
    h.fake.setScript([
      { toolUse: { name: "Write", input: { file_path: join(h.claude.cwd, "t.txt"), content: "x" }, id: "toolu_t" } },
      { text: "gave up" }
    ])
    const { sessionId } = await h.launch("write a file")
    await h.waitForStatus(sessionId, ["waiting_approval"])
    await h.adjust(30_000)
    expect((await h.waitForStatus(sessionId, ended)).status).toBe("completed")
    const [decided] = await dataOf(sessionId, "ApprovalDecided")
    expect(decided).toMatchObject({ decision: "deny", decidedBy: "agentlog", reason: "timeout" })
  })

  it("interrupts a run mid-stream: InterruptRequested then RunInterrupted, the process is gone", async () => {
    h = await startSupervisorHarness([{ slow: { chunks: ["one ", "two ", "three "], delayMs: 100, hold: true } }])
    const { sessionId } = await h.launch("tell a long story")
    await h.fake.waitForSlowChunks(1, 30_000)
    expect(childClaudes().length).toBe(1)
    await Effect.runPromise(h.command({ kind: "RequestInterrupt", sessionId, requestedBy: "dave" }))
    const s = await h.waitForStatus(sessionId, ended)
    expect(s.status).toBe("interrupted")
    const types = await h.types(sessionId)
    expect(types.indexOf("InterruptRequested")).toBeGreaterThan(types.indexOf("RunStarted"))
    expect(types.at(-1)).toBe("RunInterrupted")
    expect(h.supervisor.runningCount()).toBe(0)
    expect(childClaudes()).toEqual([])
    // Interrupting an ended session is refused.
    const refused = await Effect.runPromise(Effect.flip(h.command({ kind: "RequestInterrupt", sessionId, requestedBy: "dave" })))
    expect(refused._tag).toBe("InvalidTransition")
  })

  it("interrupting a session with a pending approval settles the approval", async () => {
    h = await startSupervisorHarness([])
    h.fake.setScript([{ toolUse: { name: "Write", input: { file_path: join(h.claude.cwd, "i.txt"), content: "x" } } }])
    const { sessionId } = await h.launch("write a file")
    await h.waitForStatus(sessionId, ["waiting_approval"])
    await Effect.runPromise(h.command({ kind: "RequestInterrupt", sessionId, requestedBy: "erin" }))
    expect((await h.waitForStatus(sessionId, ended)).status).toBe("interrupted")
    const [decided] = await dataOf(sessionId, "ApprovalDecided")
    expect(decided).toMatchObject({ decision: "deny", reason: "interrupted" })
  })

  it("an API error ends the run with RunFailed and a reason", async () => {
    h = await startSupervisorHarness([
      { error: { status: 400, type: "invalid_request_error", message: "the fake model rejects this request" }, times: Infinity }
    ])
    const { sessionId } = await h.launch("fail please")
    const s = await h.waitForStatus(sessionId, ended)
    expect(s.status).toBe("failed")
    const [failed] = await dataOf(sessionId, "RunFailed")
    expect(failed!.error).toMatch(/the fake model rejects this request/)
  })

  it("a missing claude binary ends the run with RunFailed, never stuck in running", async () => {
    h = await startSupervisorHarness([], { claudePath: "/nonexistent/claude" })
    const { sessionId } = await h.launch("hello?")
    const s = await h.waitForStatus(sessionId, ended)
    expect(s.status).toBe("failed")
    const [failed] = await dataOf(sessionId, "RunFailed")
    expect(failed!.error.length).toBeGreaterThan(0)
  })

  it("a claude that exits non-zero or prints malformed output ends the run with RunFailed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "agentlog-badclaude-"))
    const exits = join(dir, "exits")
    writeFileSync(exits, "#!/bin/sh\necho 'boom' >&2\nexit 3\n", { mode: 0o755 })
    const garbage = join(dir, "garbage")
    writeFileSync(garbage, "#!/bin/sh\necho 'this is not stream-json'\necho '{\"half\": '\nexit 0\n", { mode: 0o755 })
    try {
      for (const claudePath of [exits, garbage]) {
        h = await startSupervisorHarness([], { claudePath })
        const { sessionId } = await h.launch("hello?")
        expect((await h.waitForStatus(sessionId, ended)).status).toBe("failed")
        const [failed] = await dataOf(sessionId, "RunFailed")
        expect(failed!.error.length).toBeGreaterThan(0)
        if (claudePath === exits) expect(failed!.exitCode ?? failed!.error).toSatisfy((x: unknown) => x === 3 || /3/.test(String(x)))
        await h.close()
        h = undefined
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it("continues a completed session: one stream, two runs, the same Claude session resumed", async () => {
    h = await startSupervisorHarness([{ text: "first answer" }, { text: "second answer" }])
    const { sessionId } = await h.launch("first question")
    await h.waitForStatus(sessionId, ended)
    const claudeSessionId = (await h.state(sessionId)).claudeSessionId
    const runId2 = await h.continueSession(sessionId, "second question")
    const s = await h.waitForStatus(sessionId, ended)
    expect(s.status).toBe("completed")
    expect(s.runs).toBe(2)
    const types = await h.types(sessionId)
    expect(types.filter((t) => t === "RunStarted")).toHaveLength(2)
    expect(types.filter((t) => t === "RunCompleted")).toHaveLength(2)
    expect(types.indexOf("ContinueRequested")).toBeGreaterThan(types.indexOf("RunCompleted"))
    const started = await dataOf(sessionId, "RunStarted")
    expect(started[1]).toMatchObject({ runId: runId2, resume: claudeSessionId })
    // The resumed conversation carries the first exchange to the model.
    const last = h.fake.mainRequests().at(-1)!.body
    expect(JSON.stringify(last.messages)).toContain("first answer")
    const results = await dataOf(sessionId, "ClaudeResult")
    expect(results[1]!.runCostUsd).toBeCloseTo(results[1]!.totalCostUsd - results[0]!.totalCostUsd, 10)
  })

  it("refuses to continue while a run is active, appending nothing", async () => {
    h = await startSupervisorHarness([{ slow: { chunks: ["a", "b"], delayMs: 100, hold: true } }])
    const { sessionId } = await h.launch("long")
    await h.fake.waitForSlowChunks(1, 30_000)
    const before = (await h.events(sessionId)).length
    await expect(h.continueSession(sessionId, "again")).rejects.toMatchObject({ _tag: "InvalidTransition" })
    expect((await h.events(sessionId)).length).toBe(before)
    h.fake.release()
    await h.waitForStatus(sessionId, ended)
  })

  it("forks a session into a new one from its Claude session, leaving the parent untouched", async () => {
    h = await startSupervisorHarness([{ text: "parent answer" }, { text: "fork answer" }])
    const parent = await h.launch("parent question")
    await h.waitForStatus(parent.sessionId, ended)
    const parentEvents = (await h.events(parent.sessionId)).length
    const parentClaude = (await h.state(parent.sessionId)).claudeSessionId
    const child = await h.fork(parent.sessionId, "fork question")
    const s = await h.waitForStatus(child.sessionId, ended)
    expect(s.status).toBe("completed")
    const types = await h.types(child.sessionId)
    expect(types[0]).toBe("SessionForked")
    const [forked] = await dataOf(child.sessionId, "SessionForked")
    expect(forked).toMatchObject({ parentSessionId: parent.sessionId, parentClaudeSessionId: parentClaude })
    expect(s.claudeSessionId).not.toBe(parentClaude)
    expect((await h.events(parent.sessionId)).length).toBe(parentEvents)
    expect(JSON.stringify(h.fake.mainRequests().at(-1)!.body.messages)).toContain("parent answer")
  })

  it("runs five sessions with at most two Claude processes at once; the rest wait queued", async () => {
    h = await startSupervisorHarness(
      Array.from({ length: 5 }, () => ({ slow: { chunks: ["x", "y", "z"], delayMs: 150 } })),
      { maxRunning: 2 }
    )
    const sessions: Array<{ sessionId: string }> = []
    for (let i = 0; i < 5; i++) sessions.push(await h.launch(`q${i}`))
    const states = await Promise.all(sessions.map((s) => h!.waitForStatus(s.sessionId, ended, 90_000)))
    expect(states.map((s) => s.status)).toEqual(Array(5).fill("completed"))
    // The store's order says how many runs were in flight at once: every start and every end counted.
    const lifecycle = await Effect.runPromise(
      Stream.runCollect(h.store.readAll({ filter: { eventTypes: ["RunStarted", "RunCompleted", "RunFailed", "RunInterrupted", "RunAbandoned"] } }))
    )
    let inFlight = 0
    let most = 0
    let startedAfterAnEnd = 0
    let ends = 0
    for (const e of lifecycle) {
      if (e.type === "RunStarted") {
        most = Math.max(most, ++inFlight)
        if (ends > 0) startedAfterAnEnd++
      } else {
        inFlight--
        ends++
      }
    }
    expect(most).toBe(2)
    // Three runs waited for a slot: each started only after an earlier run ended.
    expect(startedAfterAnEnd).toBe(3)
  })

  it("MCP server secrets never reach an event; ${VAR} references are kept", async () => {
    h = await startSupervisorHarness([{ text: "ok" }])
    const { sessionId } = await h.launch("hi", {
      mcpServers: { tools: { command: "/nonexistent/mcp", env: { TOKEN: "s3cr3t-value", HOME_REF: "${HOME}" } } }
    })
    await h.waitForStatus(sessionId, ended)
    const all = JSON.stringify(await h.events(sessionId), (_k, v) => (typeof v === "bigint" ? String(v) : v))
    expect(all).not.toContain("s3cr3t-value")
    const [launched] = await dataOf(sessionId, "SessionLaunched")
    expect(launched!.options.mcpServers.tools.env).toEqual({ TOKEN: "[redacted]", HOME_REF: "${HOME}" })
  })

  it("partial token deltas are off by default and recorded when switched on", async () => {
    h = await startSupervisorHarness([{ text: "partial one two three" }, { text: "partial four" }])
    const off = await h.launch("no partials")
    await h.waitForStatus(off.sessionId, ended)
    expect((await h.types(off.sessionId)).includes("ClaudeStreamEvent")).toBe(false)
    const on = await h.launch("partials", { includePartialMessages: true })
    await h.waitForStatus(on.sessionId, ended)
    const streamEvents = await dataOf(on.sessionId, "ClaudeStreamEvent")
    expect(streamEvents.length).toBeGreaterThan(0)
    expect(streamEvents.every((e) => e.messageType === "stream_event")).toBe(true)
  })
})
