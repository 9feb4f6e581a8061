/**
 * The real `claude` binary (bundled with the Agent SDK), driven through `query()` in
 * streaming-input mode, against the scripted fake Messages API. No network, no key.
 * These tests pin down the SDK message shapes the supervisor builds on; see
 * test/support/CLAUDE_PROTOCOL_NOTES.md.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { existsSync, readdirSync } from "node:fs"
import { join } from "node:path"
import {
  query,
  type CanUseTool,
  type Options,
  type Query,
  type SDKAssistantMessage,
  type SDKMessage,
  type SDKResultMessage,
  type SDKSystemMessage,
  type SDKUserMessage
} from "@anthropic-ai/claude-agent-sdk"
import {
  classifyMessagesRequest,
  startFakeAnthropic,
  toolResultsOf,
  lastUserText,
  type FakeAnthropic
} from "../support/fakeAnthropic.ts"
import { claudeBinaryPath, FAKE_API_KEY, makeClaudeEnv, promptQueue, type ClaudeEnv, type PromptQueue } from "../support/claudeEnv.ts"

let fake: FakeAnthropic
let ce: ClaudeEnv

beforeEach(async () => {
  fake = await startFakeAnthropic()
  ce = makeClaudeEnv(fake.url)
})

afterEach(async () => {
  try {
    // every query must have ended its claude process (and the tools' children)
    await ce.waitForNoProcesses(10_000)
  } finally {
    await fake.close()
    ce.cleanup()
  }
})

function baseOptions(extra: Options = {}): Options {
  return { cwd: ce.cwd, env: ce.env, pathToClaudeCodeExecutable: claudeBinaryPath, ...extra }
}

type Run = {
  q: Query
  input: PromptQueue
  messages: SDKMessage[]
  results: SDKResultMessage[]
  error?: Error & { code?: string; errorClass?: string; exitCode?: number }
}

/**
 * Runs one streaming-input query. `onMessage` sees every message; by default the input
 * ends after the first result (claude then exits). Return "keep" to keep the input open.
 */
async function run(
  prompt: string,
  options: Options = {},
  onMessage?: (m: SDKMessage, r: Run) => void | "keep" | Promise<void | "keep">
): Promise<Run> {
  const input = promptQueue(prompt)
  const q = query({ prompt: input.iterable, options: baseOptions(options) })
  const r: Run = { q, input, messages: [], results: [] }
  try {
    for await (const m of q) {
      r.messages.push(m)
      if (m.type === "result") r.results.push(m)
      const verdict = onMessage ? await onMessage(m, r) : undefined
      if (m.type === "result" && verdict !== "keep") input.end()
    }
  } catch (e) {
    r.error = e as Run["error"]
  } finally {
    input.end()
    q.close()
  }
  return r
}

const byType = <T extends SDKMessage["type"]>(r: Run, type: T) =>
  r.messages.filter((m): m is Extract<SDKMessage, { type: T }> => m.type === type)
const assistantBlocks = (r: Run) => byType(r, "assistant").flatMap((m) => (m as SDKAssistantMessage).message.content as any[])
const userBlocks = (r: Run) =>
  byType(r, "user").flatMap((m) => {
    const c = (m as SDKUserMessage).message.content
    return typeof c === "string" ? [{ type: "text", text: c }] : (c as any[])
  })

describe("the fake Messages API by itself", () => {
  it("streams SSE, answers JSON when stream is false, counts tokens, 404s unknown paths", async () => {
    fake.setScript([{ text: "streamed" }, { text: "plain", usage: { input_tokens: 7, output_tokens: 3 } }])
    const body = (stream: boolean) => JSON.stringify({ model: "m", stream, max_tokens: 10, tools: [{ name: "x" }], messages: [{ role: "user", content: "hi" }] })
    const sse = await (await fetch(`${fake.url}/v1/messages?beta=true`, { method: "POST", body: body(true) })).text()
    expect(sse).toMatch(/^event: message_start\ndata: /)
    expect(sse).toContain('"type":"text_delta"')
    expect(sse).toContain("event: message_stop")
    const json = (await (await fetch(`${fake.url}/v1/messages`, { method: "POST", body: body(false) })).json()) as any
    expect(json).toMatchObject({ type: "message", role: "assistant", content: [{ type: "text", text: "plain" }], stop_reason: "end_turn", usage: { input_tokens: 7, output_tokens: 3 } })
    const count = (await (await fetch(`${fake.url}/v1/messages/count_tokens?beta=true`, { method: "POST", body: body(false) })).json()) as any
    expect(count.input_tokens).toBeGreaterThan(0)
    expect((await fetch(`${fake.url}/v1/nope`)).status).toBe(404)
    expect(fake.unknownPaths).toEqual(["GET /v1/nope"])
    expect(fake.requests.map((r) => r.kind)).toEqual(["main", "main", "count_tokens", "other"])
  })

  it("classifies side queries so they never consume scripted turns", () => {
    expect(classifyMessagesRequest({ tools: [{ name: "Bash" }], messages: [{ role: "user", content: "hi" }] })).toBe("main")
    expect(classifyMessagesRequest({ tools: [{ name: "Bash" }], messages: [{ role: "user", content: "[SUGGESTION MODE: Suggest…" }] })).toBe("side")
    expect(classifyMessagesRequest({ tools: [], system: [{ type: "text", text: "You are a Claude agent, built on Anthropic's Claude Agent SDK." }], messages: [] })).toBe("main")
    expect(classifyMessagesRequest({ system: "Generate a short title", messages: [{ role: "user", content: "x" }] })).toBe("side")
  })

  it("a held slow stream finishes on release() and is cut by abortStreams()", async () => {
    fake.setScript([{ slow: { chunks: ["a", "b"], delayMs: 1, hold: true } }, { slow: { chunks: ["c"], delayMs: 1, hold: true } }])
    const post = () => fetch(`${fake.url}/v1/messages`, { method: "POST", body: JSON.stringify({ stream: true, tools: [{ name: "x" }], messages: [] }) })
    const first = await post()
    await fake.waitForSlowChunks(1)
    fake.release()
    const text = await first.text()
    expect(text.match(/"text_delta","text":"(.)"/g)).toHaveLength(2)
    expect(text).toContain("event: message_stop")
    const second = await post()
    await fake.waitForSlowChunks(2)
    fake.abortStreams()
    await expect(second.text()).rejects.toThrow()
    expect(fake.mainRequests()[0]!.aborted).toBeUndefined()
  })

  it("close() ends held streams and open sockets at once", async () => {
    fake.setScript([{ slow: { chunks: ["a"], delayMs: 1, hold: true } }])
    const res = await fetch(`${fake.url}/v1/messages`, { method: "POST", body: JSON.stringify({ stream: true, tools: [{ name: "x" }], messages: [] }) })
    await fake.waitForSlowChunks()
    const started = Date.now()
    await fake.close()
    expect(Date.now() - started).toBeLessThan(1000)
    await expect(res.text()).rejects.toThrow() // the client sees its connection cut
  })
})

describe("real claude against the fake", () => {
  it("(a) plain text answer: system init, assistant text, result success with usage and cost", async () => {
    fake.setScript([{ text: "Hello from the fake", usage: { input_tokens: 123, output_tokens: 45 } }])
    const r = await run("say hello")
    expect(r.error).toBeUndefined()

    const [init, ...rest] = r.messages
    expect(init).toMatchObject({ type: "system", subtype: "init", cwd: ce.cwd, apiKeySource: "ANTHROPIC_API_KEY", permissionMode: "default" })
    const sessionId = (init as SDKSystemMessage).session_id
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/)
    expect((init as SDKSystemMessage).uuid).toMatch(/^[0-9a-f-]{36}$/)
    expect((init as SDKSystemMessage).tools).toContain("Bash")

    expect(rest.map((m) => m.type)).toEqual(["assistant", "result"])
    const assistant = rest[0] as SDKAssistantMessage
    expect(assistant.message.content).toEqual([{ type: "text", text: "Hello from the fake" }])
    expect(assistant.message.stop_reason).toBeNull() // per-block message; the turn's stop reason is on the result
    expect(assistant).toMatchObject({ session_id: sessionId, parent_tool_use_id: null })
    expect(assistant.uuid).toMatch(/^[0-9a-f-]{36}$/)

    const result = r.results[0]!
    expect(result).toMatchObject({
      type: "result",
      subtype: "success",
      is_error: false,
      result: "Hello from the fake",
      num_turns: 1,
      stop_reason: "end_turn",
      terminal_reason: "completed",
      session_id: sessionId,
      permission_denials: [],
      usage: { input_tokens: 123, output_tokens: 45 }
    })
    expect(result.total_cost_usd).toBeGreaterThan(0)
    expect(result.duration_ms).toBeGreaterThanOrEqual(0)
    expect(result.duration_api_ms).toBeGreaterThanOrEqual(0)
    expect(Object.values(result.modelUsage)[0]).toMatchObject({ inputTokens: 123, outputTokens: 45 })

    // what the fake saw
    const [req] = fake.mainRequests()
    expect(fake.requests).toHaveLength(1)
    expect(req).toMatchObject({ method: "POST", url: "/v1/messages?beta=true", kind: "main", turnIndex: 0 })
    expect(req!.headers["x-api-key"]).toBe(FAKE_API_KEY)
    expect(req!.headers["x-claude-code-session-id"]).toBe(sessionId)
    expect(req!.body.stream).toBe(true)
    expect(lastUserText(req!.body)).toContain("say hello")
    expect(fake.unknownPaths).toEqual([])
  })

  it("(b) one tool call (bypassPermissions): tool_use, tool_result, and the result flows back to the API", async () => {
    fake.setScript([
      { text: "running it", toolUse: { name: "Bash", input: { command: "echo hi", description: "say hi" }, id: "toolu_fixed_1" } },
      { text: "it said hi" }
    ])
    const r = await run("run echo hi", { permissionMode: "bypassPermissions", allowDangerouslySkipPermissions: true })
    expect(r.error).toBeUndefined()
    expect(r.messages.map((m) => m.type)).toEqual(["system", "assistant", "assistant", "user", "assistant", "result"])

    // one assistant message per content block, sharing message.id
    const assistants = byType(r, "assistant") as SDKAssistantMessage[]
    expect(assistants[0]!.message.id).toBe(assistants[1]!.message.id)
    expect(assistantBlocks(r)).toEqual([
      { type: "text", text: "running it" },
      { type: "tool_use", id: "toolu_fixed_1", name: "Bash", input: { command: "echo hi", description: "say hi" } },
      { type: "text", text: "it said hi" }
    ])
    const user = byType(r, "user")[0] as SDKUserMessage & { tool_use_result?: any }
    expect(user.message.content).toEqual([{ type: "tool_result", tool_use_id: "toolu_fixed_1", content: "hi", is_error: false }])
    expect(user.tool_use_result).toMatchObject({ stdout: "hi", stderr: "", interrupted: false })
    expect(r.results[0]).toMatchObject({ subtype: "success", is_error: false, num_turns: 2, result: "it said hi" })

    const reqs = fake.mainRequests()
    expect(reqs).toHaveLength(2)
    expect(toolResultsOf(reqs[1]!.body)).toMatchObject([{ type: "tool_result", tool_use_id: "toolu_fixed_1", content: "hi", is_error: false }])
  })

  it("(b) several tool uses in one response and in a row (allowedTools)", async () => {
    fake.setScript([
      { toolUse: [{ name: "Bash", input: { command: "echo one" }, id: "toolu_1" }, { name: "Bash", input: { command: "echo two" }, id: "toolu_2" }] },
      { toolUse: { name: "Bash", input: { command: "echo three" } } },
      { text: "all done" }
    ])
    const r = await run("three echoes", { allowedTools: ["Bash"] })
    expect(r.error).toBeUndefined()
    const results = userBlocks(r).filter((b) => b.type === "tool_result")
    // parallel tools run concurrently: their tool_result messages come in completion order
    expect(results.map((b) => b.content).sort()).toEqual(["one", "three", "two"])
    const reqs = fake.mainRequests()
    expect(reqs).toHaveLength(3)
    // …and in that order in the next request too: match results to calls by tool_use_id
    const second = Object.fromEntries(toolResultsOf(reqs[1]!.body).map((b) => [b.tool_use_id, b.content]))
    expect(second).toEqual({ toolu_1: "one", toolu_2: "two" })
    expect(toolResultsOf(reqs[2]!.body).map((b) => b.content)).toEqual(["three"])
    // num_turns is not the number of API requests: observed 1 + the number of tool_use blocks
    expect(r.results[0]).toMatchObject({ subtype: "success", num_turns: 4, result: "all done" })
  })

  it("(c) canUseTool: allow runs the tool, deny sends the message back as an error tool_result", async () => {
    fake.setScript([
      { toolUse: { name: "Bash", input: { command: "touch allowed.txt" }, id: "toolu_allow" } },
      { toolUse: { name: "Bash", input: { command: "touch denied.txt" }, id: "toolu_deny" } },
      { text: "ok" }
    ])
    const calls: Array<{ toolName: string; input: Record<string, unknown>; options: any }> = []
    const canUseTool: CanUseTool = async (toolName, input, options) => {
      calls.push({ toolName, input, options })
      return calls.length === 1
        ? { behavior: "allow", updatedInput: input }
        : { behavior: "deny", message: "not today" }
    }
    const r = await run("touch two files", { permissionMode: "default", canUseTool })
    expect(r.error).toBeUndefined()

    expect(calls.map((c) => [c.toolName, c.input.command, c.options.toolUseID])).toEqual([
      ["Bash", "touch allowed.txt", "toolu_allow"],
      ["Bash", "touch denied.txt", "toolu_deny"]
    ])
    expect(calls[0]!.options.signal).toBeInstanceOf(AbortSignal)
    expect(Array.isArray(calls[0]!.options.suggestions)).toBe(true)
    expect(calls[0]!.options.suggestions[0]).toMatchObject({ type: "addRules", behavior: "allow", rules: [{ toolName: "Bash" }] })
    expect(existsSync(join(ce.cwd, "allowed.txt"))).toBe(true)
    expect(existsSync(join(ce.cwd, "denied.txt"))).toBe(false)

    const reqs = fake.mainRequests()
    expect(toolResultsOf(reqs[1]!.body)).toMatchObject([{ tool_use_id: "toolu_allow", is_error: false }])
    // on deny the API gets the deny message as the tool_result content, with is_error
    expect(toolResultsOf(reqs[2]!.body)).toMatchObject([{ tool_use_id: "toolu_deny", content: "not today", is_error: true }])
    const denyEcho = byType(r, "user")[1] as SDKUserMessage & { tool_use_result?: unknown }
    expect(denyEcho.message.content).toMatchObject([{ type: "tool_result", tool_use_id: "toolu_deny", content: "not today", is_error: true }])
    expect(denyEcho.tool_use_result).toBe("Error: not today")

    expect(r.results[0]).toMatchObject({
      subtype: "success",
      is_error: false,
      permission_denials: [{ tool_name: "Bash", tool_use_id: "toolu_deny", tool_input: { command: "touch denied.txt" } }]
    })
  })

  it("(d) interrupt mid-stream: aborted assistant, interrupt marker, error result without `result`; process lives on", async () => {
    fake.setScript([{ slow: { chunks: ["one ", "two "], delayMs: 20, hold: true } }, { text: "after the interrupt" }])
    let interruptReply: unknown
    let aliveAfterInterrupt = 0
    const r = await run("talk slowly", { includePartialMessages: true }, async (m, run) => {
      if (m.type === "stream_event" && (m as any).event.type === "message_start") {
        await fake.waitForSlowChunks()
        interruptReply = await run.q.interrupt()
      }
      if (m.type === "result" && run.results.length === 1) {
        aliveAfterInterrupt = ce.processes().length
        run.input.push("go on")
        return "keep"
      }
    })
    expect(r.error).toBeUndefined() // the last result was a success, so ending the input ends cleanly
    expect(interruptReply).toEqual({ still_queued: [] })

    const firstResultAt = r.messages.indexOf(r.results[0]!)
    // System messages (init, status, …) come and go with timing; the rest of the turn is fixed.
    const turn1 = r.messages.slice(0, firstResultAt + 1).filter((m) => m.type !== "stream_event" && m.type !== "system")
    expect(turn1.map((m) => m.type)).toEqual(["assistant", "user", "result"])
    const aborted = turn1[0] as SDKAssistantMessage
    expect(aborted.aborted).toBe(true)
    // On a busy machine claude may not have read every streamed chunk when the interrupt lands.
    expect(aborted.message.content).toEqual([{ type: "text", text: expect.stringMatching(/^one (two )?$/) }])
    expect((turn1[1] as SDKUserMessage).message.content).toEqual([{ type: "text", text: "[Request interrupted by user]" }])
    const result = r.results[0]!
    expect(result).toMatchObject({ type: "result", subtype: "error_during_execution", is_error: true, terminal_reason: "aborted_streaming", stop_reason: null })
    expect("result" in result).toBe(false)
    expect((result as any).errors).toEqual([expect.stringContaining("[ede_diagnostic]")])
    expect(fake.mainRequests()[0]!.aborted).toBe(true) // claude closed the streaming request
    expect(aliveAfterInterrupt).toBeGreaterThan(0)

    // the same process and session carry on with the next message
    expect(r.results[1]).toMatchObject({ subtype: "success", is_error: false, result: "after the interrupt", session_id: result.session_id })
    const next = fake.mainRequests()[1]!.body
    expect(JSON.stringify(next.messages)).toContain("[Request interrupted by user]")
    expect(lastUserText(next)).toContain("go on")
  })

  it("(d) ending the input right after an interrupt: the iterator throws after yielding the error result", async () => {
    fake.setScript([{ slow: { chunks: ["x"], delayMs: 10, hold: true } }])
    const input = promptQueue("talk slowly")
    const r0: Run = { q: query({ prompt: input.iterable, options: baseOptions() }), input, messages: [], results: [] }
    void fake.waitForSlowChunks().then(() => r0.q.interrupt())
    try {
      for await (const m of r0.q) {
        r0.messages.push(m)
        if (m.type === "result") input.end()
      }
    } catch (e) {
      r0.error = e as Error
    } finally {
      r0.q.close()
    }
    expect(r0.messages.at(-1)).toMatchObject({ type: "result", subtype: "error_during_execution" })
    expect(r0.error?.message).toMatch(/^Claude Code returned an error result: \[ede_diagnostic\]/)
    expect(r0.error?.errorClass).toBe("error_result")
  })

  it("(d) interrupt while canUseTool is pending: its signal aborts, the tool is rejected, error result", async () => {
    fake.setScript([{ toolUse: { name: "Bash", input: { command: "touch never.txt" }, id: "toolu_pending" } }])
    let aborted = false
    let q: Query | undefined
    const canUseTool: CanUseTool = (_name, _input, { signal }) =>
      new Promise((resolve) => {
        signal.addEventListener("abort", () => {
          aborted = true
          resolve({ behavior: "deny", message: "aborted" }) // ignored: the CLI already gave up on it
        })
        void q!.interrupt()
      })
    const input = promptQueue("touch it")
    q = query({ prompt: input.iterable, options: baseOptions({ permissionMode: "default", canUseTool }) })
    const messages: SDKMessage[] = []
    let error: Error | undefined
    try {
      for await (const m of q) {
        messages.push(m)
        if (m.type === "result") input.end()
      }
    } catch (e) {
      error = e as Error
    } finally {
      q.close()
    }
    expect(aborted).toBe(true)
    const users = messages.filter((m) => m.type === "user") as SDKUserMessage[]
    expect(users[0]!.message.content).toMatchObject([{ type: "tool_result", tool_use_id: "toolu_pending", is_error: true, content: expect.stringContaining("The user doesn't want to proceed") }])
    expect(users[1]!.message.content).toEqual([{ type: "text", text: "[Request interrupted by user for tool use]" }])
    expect(messages.at(-1)).toMatchObject({ type: "result", subtype: "error_during_execution", is_error: true, stop_reason: "tool_use" })
    expect(error?.message).toMatch(/^Claude Code returned an error result:/)
    expect(existsSync(join(ce.cwd, "never.txt"))).toBe(false)
    expect(fake.mainRequests()).toHaveLength(1)
  })

  it("(e) API 500 without retries: synthetic assistant error, result is_error, then the iterator throws", async () => {
    fake.setScript([{ error: { status: 500, type: "api_error", message: "fake boom" } }])
    const r = await run("fail please")
    const assistant = byType(r, "assistant")[0] as SDKAssistantMessage & Record<string, unknown>
    expect(assistant).toMatchObject({ error: "server_error", is_api_error_message: true, api_error_status: 500, api_error_type: "api_error" })
    expect(assistant.message.model).toBe("<synthetic>")
    expect((assistant.message.content[0] as any).text).toMatch(/^API Error: 500 fake boom/)
    expect(r.results[0]).toMatchObject({
      subtype: "success",
      is_error: true,
      api_error_status: 500,
      terminal_reason: "api_error",
      total_cost_usd: 0,
      result: expect.stringMatching(/^API Error: 500 fake boom/)
    })
    expect(r.error?.message).toMatch(/^Claude Code returned an error result: API Error: 500 fake boom/)
    expect(fake.mainRequests()).toHaveLength(1)
  })

  it("(e) 529 with CLAUDE_CODE_MAX_RETRIES=1: a system/api_retry message, then the retry succeeds", async () => {
    ce.env.CLAUDE_CODE_MAX_RETRIES = "1"
    fake.setScript([{ error: { status: 529, type: "overloaded_error", message: "Overloaded" } }, { text: "recovered" }])
    const r = await run("try hard")
    expect(r.error).toBeUndefined()
    const retry = r.messages.find((m) => m.type === "system" && (m as any).subtype === "api_retry")
    expect(retry).toMatchObject({ attempt: 1, max_retries: 1, error_status: 529, error: "overloaded" })
    expect((retry as any).retry_delay_ms).toBeGreaterThan(0)
    expect(r.results[0]).toMatchObject({ subtype: "success", is_error: false, result: "recovered" })
    expect(fake.mainRequests()).toHaveLength(2)
  })

  it("(e) a 400 is re-sent with fewer betas before it becomes an error result", async () => {
    fake.setScript([{ error: { status: 400, type: "invalid_request_error", message: "bad request" }, times: Infinity }])
    const r = await run("be invalid")
    expect(r.results[0]).toMatchObject({ is_error: true, api_error_status: 400, terminal_reason: "api_error" })
    expect(fake.mainRequests().length).toBeGreaterThan(1)
    expect(r.error?.message).toMatch(/API Error: 400 bad request/)
  })

  it("(f) resume continues the same session; forkSession gives a new one with the same history", async () => {
    fake.setScript([{ text: "first answer" }])
    const a = await run("first question")
    const sid = a.results[0]!.session_id
    const projects = join(ce.configDir, "projects")
    expect(readdirSync(projects, { recursive: true }).map(String)).toContainEqual(expect.stringMatching(new RegExp(`${sid}\\.jsonl$`)))

    fake.setScript([{ text: "second answer" }])
    const b = await run("second question", { resume: sid })
    expect(b.error).toBeUndefined()
    expect(new Set(b.messages.map((m) => m.session_id))).toEqual(new Set([sid]))
    const resumed = fake.mainRequests().at(-1)!.body
    expect(JSON.stringify(resumed.messages)).toContain("first question")
    expect(JSON.stringify(resumed.messages)).toContain("first answer")
    expect(lastUserText(resumed)).toContain("second question")
    // cost is cumulative over the resumed session
    expect(b.results[0]!.total_cost_usd).toBeGreaterThan(a.results[0]!.total_cost_usd)

    fake.setScript([{ text: "forked answer" }])
    const c = await run("fork question", { resume: sid, forkSession: true })
    expect(c.error).toBeUndefined()
    const forkId = c.results[0]!.session_id
    expect(forkId).not.toBe(sid)
    expect(new Set(c.messages.map((m) => m.session_id))).toEqual(new Set([forkId]))
    const forked = fake.mainRequests().at(-1)!
    expect(forked.headers["x-claude-code-session-id"]).toBe(forkId)
    expect(JSON.stringify(forked.body.messages)).toContain("second answer")
    expect(c.results[0]!.total_cost_usd).toBeGreaterThan(b.results[0]!.total_cost_usd)

    const missing = await run("nobody home", { resume: "00000000-0000-4000-8000-000000000000" })
    expect(missing.error?.message).toMatch(/No conversation found with session ID: 00000000-0000-4000-8000-000000000000/)
  })

  it("(g) a missing binary: query() throws ENOENT before any message", async () => {
    const r = await run("hi", { pathToClaudeCodeExecutable: join(ce.root, "no-such-claude") })
    expect(r.messages).toEqual([])
    expect(r.error?.message).toMatch(/Claude Code native binary not found at .*no-such-claude/)
    expect(r.error).toMatchObject({ code: "ENOENT", errorClass: "executable_not_found" })
    expect(fake.requests).toHaveLength(0)
  })

  it("(g) a binary that exits non-zero: 'process exited with code N' with exitCode", async () => {
    const r = await run("hi", { pathToClaudeCodeExecutable: "/bin/false" })
    expect(r.messages).toEqual([])
    expect(r.error?.message).toBe("Claude Code process exited with code 1")
    expect(r.error).toMatchObject({ exitCode: 1, errorClass: "process_exited_nonzero" })
  })

  it("side queries (prompt suggestions) do not consume scripted turns; tools: [] still counts as main", async () => {
    fake.setScript([{ text: "one" }, { text: "two" }])
    let suggestion: SDKMessage | undefined
    const r = await run("first", { promptSuggestions: true, tools: [] }, (m, run) => {
      if (m.type === "result" && run.results.length === 1) {
        run.input.push("second")
        return "keep"
      }
      if (m.type === "result") {
        // the suggestion comes after the 2nd result (never after the 1st); give it a moment
        setTimeout(() => run.input.end(), 5000)
        return "keep"
      }
      if (m.type === "prompt_suggestion") {
        suggestion = m
        run.input.end()
      }
    })
    expect(r.error).toBeUndefined()
    expect(r.results.map((x) => (x as any).result)).toEqual(["one", "two"])
    expect(fake.mainRequests().map((x) => x.turnIndex)).toEqual([0, 1])
    expect(fake.mainRequests()[0]!.body.tools ?? []).toEqual([])
    expect(suggestion).toMatchObject({ type: "prompt_suggestion", suggestion: "OK" })
    const side = fake.requests.filter((x) => x.kind === "side")
    expect(side.length).toBeGreaterThan(0)
    expect(lastUserText(side[0]!.body)).toMatch(/^\[SUGGESTION MODE:/)
  })
})
