// The service end to end on the EventStoreDB adapter: the real service process (`node
// src/main.ts`) with AGENTLOG_EVENTSTORE=esdb://127.0.0.1:<port>?tls=false, the real claude
// binary against the fake Messages API (a Bash tool call, then an answer), and the session
// read back through the API: status and totals, the transcript, and the full history
// (/events, as JSON pages and as NDJSON), which must be exactly what the store holds.
//
// It runs against the in-process gRPC stand-in (test/support/esdbStandIn.ts) on every run,
// and also against a real EventStoreDB/KurrentDB when AGENTLOG_TEST_ESDB holds a connection
// string (e.g. esdb://localhost:2113?tls=false).
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { makeClaudeEnv, type ClaudeEnv } from "../support/claudeEnv.ts"
import { startEsdbStandIn, type EsdbStandIn } from "../support/esdbStandIn.ts"
import { startFakeAnthropic, type FakeAnthropic } from "../support/fakeAnthropic.ts"
import { startServiceProcess, type ServiceProcess } from "../support/serviceProcess.ts"
import { jsonCall } from "../support/jsonCall.ts"

const realServer = process.env["AGENTLOG_TEST_ESDB"]

let esdb: EsdbStandIn | undefined
let fake: FakeAnthropic | undefined
let claude: ClaudeEnv | undefined
let service: ServiceProcess | undefined
let dataDir: string | undefined

afterEach(async () => {
  await service?.kill()
  await fake?.close()
  await esdb?.stop()
  claude?.cleanup()
  if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  service = fake = esdb = claude = dataDir = undefined
})

const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  jsonCall(service!.url, method, path, body, headers)

const waitForStatus = async (sessionId: string, statuses: ReadonlyArray<string>, timeoutMs = 30_000): Promise<any> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const r = await call("GET", `/v1/sessions/${sessionId}`)
    if (r.status === 200 && statuses.includes(r.body.status)) return r.body
    if (Date.now() > deadline) throw new Error(`session ${sessionId} never reached ${statuses.join("/")}: ${r.text}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

const targets: Array<{ readonly name: string; readonly connect: () => Promise<string> }> = [
  {
    name: "the in-process stand-in",
    connect: async () => {
      // 25.1's defaults: 16 MiB per event (one Claude message), 256 MiB per append.
      esdb = await startEsdbStandIn()
      return esdb.connectionString
    }
  },
  ...(realServer ? [{ name: "a real server (AGENTLOG_TEST_ESDB)", connect: async () => realServer }] : [])
]

describe.each(targets)("the service on EventStoreDB: $name", ({ connect }) => {
  it("launches a session with a tool call through the API and reads its transcript and full history back", async () => {
    const connectionString = await connect()
    fake = await startFakeAnthropic([
      { text: "Let me check.", toolUse: { name: "Bash", input: { command: "echo hello from esdb" }, id: "toolu_esdb1" } },
      { text: "The command printed hello from esdb." }
    ])
    claude = makeClaudeEnv(fake.url)
    dataDir = mkdtempSync(join(tmpdir(), "agentlog-esdb-service-"))
    service = await startServiceProcess({ dataDir, claude, env: { AGENTLOG_EVENTSTORE: connectionString } })
    expect(service.logs.find((l) => l.msg === "event store open")).toMatchObject({ store: "esdb" })

    const launched = await call("POST", "/v1/sessions", {
      query: "run echo for me",
      cwd: claude.cwd,
      allowedTools: ["Bash"],
      title: "esdb end to end"
    })
    expect(launched.status).toBe(202)
    const { sessionId, runId } = launched.body
    const session = await waitForStatus(sessionId, ["completed", "failed", "interrupted", "abandoned"])
    expect(session).toMatchObject({ sessionId, status: "completed", runId, runs: 1, title: "esdb end to end", lastError: null })
    expect(session.turns).toBeGreaterThan(0)
    expect(session.inputTokens).toBeGreaterThan(0)
    expect(session.claudeSessionId).toEqual(expect.any(String))

    // The full history, from the store.
    const page = await call("GET", `/v1/sessions/${sessionId}/events?limit=1000`)
    expect(page.status).toBe(200)
    expect(page.body.nextRevision).toBeNull()
    const events: Array<any> = page.body.items
    const types = events.map((e) => e.type)
    expect(types[0]).toBe("SessionLaunched")
    expect(types[1]).toBe("RunStarted")
    expect(types.at(-1)).toBe("RunCompleted")
    expect(types).toEqual(
      expect.arrayContaining(["ClaudeSessionBound", "ClaudeSystemEvent", "ClaudeAssistantMessage", "ClaudeUserMessage", "ClaudeResult"])
    )
    expect(events.map((e) => e.revision)).toEqual(events.map((_, i) => i))
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length)
    expect(new Set(events.map((e) => e.position)).size).toBe(events.length)
    for (const e of events) {
      expect(e).toMatchObject({ stream: `session-${sessionId}`, sessionId })
      expect(e.metadata).toMatchObject({ correlationId: expect.any(String), schemaVersion: expect.any(Number), recordedAt: expect.any(String) })
      expect(["api", "supervisor", "claude"]).toContain(e.metadata.source)
    }
    expect(events[0].metadata.source).toBe("api")
    expect(events[0].data).toMatchObject({ query: "run echo for me" })
    expect(events.filter((e) => e.type.startsWith("Claude")).every((e) => e.metadata.source === "claude" && e.metadata.runId === runId)).toBe(true)

    // Claude's messages are inside the events as Claude emitted them.
    const toolUse = events
      .filter((e) => e.type === "ClaudeAssistantMessage")
      .flatMap((e) => e.data.message.message.content)
      .find((b: any) => b.type === "tool_use")
    expect(toolUse).toMatchObject({ id: "toolu_esdb1", name: "Bash", input: { command: "echo hello from esdb" } })
    const toolResult = events
      .filter((e) => e.type === "ClaudeUserMessage")
      .flatMap((e) => e.data.message.message.content)
      .find((b: any) => b.type === "tool_result")
    expect(toolResult).toMatchObject({ tool_use_id: "toolu_esdb1", is_error: false })
    expect(JSON.stringify(toolResult.content)).toContain("hello from esdb")
    const result = events.find((e) => e.type === "ClaudeResult")
    expect(result.data).toMatchObject({ subtype: "success", isError: false })
    expect(result.data.message.result).toBe("The command printed hello from esdb.")

    // The same history as NDJSON, and in pages.
    const ndjson = await call("GET", `/v1/sessions/${sessionId}/events`, undefined, { accept: "application/x-ndjson" })
    expect(ndjson.status).toBe(200)
    expect(ndjson.text.trim().split("\n").map((l) => JSON.parse(l))).toEqual(events)
    const first = await call("GET", `/v1/sessions/${sessionId}/events?limit=2`)
    expect(first.body.items).toEqual(events.slice(0, 2))
    expect(first.body.nextRevision).toBe(2)
    const rest = await call("GET", `/v1/sessions/${sessionId}/events?fromRevision=2&limit=1000`)
    expect(rest.body.items).toEqual(events.slice(2))

    // The transcript, from the read models the projections built off the esdb subscription.
    const transcript = await call("GET", `/v1/sessions/${sessionId}/transcript`)
    expect(transcript.status).toBe(200)
    expect(transcript.body.revision).toBe(events.length - 1)
    const entries: Array<any> = transcript.body.entries
    expect(entries.map((e) => e.seq)).toEqual([...entries.map((e) => e.seq)].sort((a, b) => a - b))
    const conversation = entries.filter((e) => ["user_text", "assistant_text", "tool_call", "result"].includes(e.kind))
    expect(conversation.map((e) => e.kind)).toEqual(["user_text", "assistant_text", "tool_call", "assistant_text", "result"])
    expect(conversation[0].text).toBe("run echo for me")
    expect(conversation[1].text).toBe("Let me check.")
    expect(conversation[2]).toMatchObject({
      toolUseId: "toolu_esdb1",
      toolName: "Bash",
      input: { command: "echo hello from esdb" },
      result: { isError: false, text: expect.stringContaining("hello from esdb") }
    })
    expect(conversation[3].text).toBe("The command printed hello from esdb.")
    expect(conversation[4].isError).toBe(false)
    for (const e of entries) expect(events[e.revision]).toBeDefined()

    // The tool-call audit and the audit over all streams see the same session.
    const toolCalls = await call("GET", `/v1/tool-calls?session=${sessionId}`)
    expect(toolCalls.body.items).toEqual([expect.objectContaining({ toolUseId: "toolu_esdb1", toolName: "Bash", isError: false })])
    const audit = await call("GET", `/v1/events?session=${sessionId}&limit=500`)
    expect(audit.status).toBe(200)
    expect(audit.body.items.map((e: any) => e.id)).toEqual(events.map((e) => e.id))

    // It really is in EventStoreDB: nothing went to the embedded store.
    expect(existsSync(join(dataDir, "events.db"))).toBe(false)
    if (esdb) {
      const stored = esdb.allEvents().filter((e) => e.stream === `session-${sessionId}`)
      expect(stored.map((e) => e.id)).toEqual(events.map((e) => e.id))
      expect(stored.map((e) => e.type)).toEqual(types)
      expect(esdb.unimplementedCalls).toEqual([])
      expect(esdb.calls["/event_store.client.streams.Streams/BatchAppend"]).toBeGreaterThan(0)
      // Every append names the revision it expects, so a retried one is recognised by a
      // stream read however long ago it was written, never by the server's bounded cache.
      expect(esdb.appendsByExpected["any"] ?? 0).toBe(0)
      expect(esdb.appendsByExpected["revision"]).toBeGreaterThan(0)
    }

    expect((await call("GET", "/readyz")).status).toBe(200)
    expect(await service.stop()).toBe(0)
    expect(service.logs.filter((l) => l.level === "error")).toEqual([])
  })
})

describe("the service on EventStoreDB: a message the server refuses", () => {
  it("a Claude message over the server's MaxAppendEventSize stops the run, recorded as failed with the reason", async () => {
    esdb = await startEsdbStandIn({ maxAppendEventSize: 64 * 1024 })
    fake = await startFakeAnthropic([{ text: "x".repeat(100 * 1024) }])
    claude = makeClaudeEnv(fake.url)
    dataDir = mkdtempSync(join(tmpdir(), "agentlog-esdb-service-"))
    service = await startServiceProcess({ dataDir, claude, env: { AGENTLOG_EVENTSTORE: esdb.connectionString } })
    const launched = await call("POST", "/v1/sessions", { query: "say a lot", cwd: claude.cwd })
    expect(launched.status).toBe(202)
    const s = await waitForStatus(launched.body.sessionId, ["completed", "failed", "interrupted", "abandoned"])
    expect(s.status).toBe("failed")
    expect(s.lastError).toMatch(/could not record a Claude message: .*exceeds the server's maximum event size \(MaxAppendEventSize\)/)
    const events: Array<any> = (await call("GET", `/v1/sessions/${launched.body.sessionId}/events?limit=1000`)).body.items
    expect(events.at(-1).type).toBe("RunFailed")
    expect(events.map((e) => e.type)).not.toContain("ClaudeAssistantMessage")
    expect(claude.processes().filter((pid) => pid !== service!.child.pid)).toEqual([])
    expect(await service.stop()).toBe(0)
  })
})
