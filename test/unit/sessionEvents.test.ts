import { Result, Schema } from "effect"
import { describe, expect, it } from "vitest"
import {
  EventMetadata,
  type EventOf,
  type EventType,
  eventSchemas,
  eventTypes,
  isEventType,
  schemaVersions,
  type SessionEvent,
  validateEvent
} from "../../src/domain/sessionEvents.ts"
import { decodeStored, upcastStored, upcastStoredJson } from "../../src/domain/storedEvents.ts"
import { isEnvReference, mergeOptions, redacted, redactOptions, type SessionOptions } from "../../src/domain/sessionOptions.ts"
import { evolve, inertEventTypes } from "../../src/domain/sessionState.ts"
import { newId, runningSession } from "../support/domainFixtures.ts"

const runId = newId()
const sessionId = newId()
const approvalId = newId()

/** One valid example of every event in the catalog; the type makes it exhaustive. */
const samples: { [K in EventType]: EventOf<K>["data"] } = {
  SessionLaunched: {
    sessionId,
    runId,
    query: "write a haiku",
    options: {
      model: "claude-sonnet-4-5",
      cwd: "/srv/work",
      systemPrompt: "be brief",
      appendSystemPrompt: "and kind",
      allowedTools: ["Read"],
      disallowedTools: ["Bash"],
      permissionMode: "default",
      maxTurns: 5,
      mcpServers: {
        local: { command: "mcp-local", args: ["--x"], env: { TOKEN: redacted } },
        remote: { type: "http", url: "https://mcp.example.com/x", headers: { Authorization: "${MCP_TOKEN}" } }
      },
      title: "haiku",
      includePartialMessages: true,
      approvalTimeoutMs: 60_000
    }
  },
  SessionForked: { sessionId, runId, parentSessionId: newId(), parentClaudeSessionId: "claude-1", query: "again", options: {} },
  DraftCreated: { sessionId, query: "", options: { cwd: "/srv/work", additionalDirectories: ["/srv/lib"] } },
  DraftEdited: { query: "write a haiku", options: { title: "haiku" } },
  DraftDiscarded: {},
  DraftRestored: {},
  RunStarted: { runId, query: "q", resume: "claude-1", pid: 4242 },
  ClaudeSessionBound: { runId, claudeSessionId: "claude-1" },
  ClaudeSystemEvent: { runId, subtype: "init", message: { type: "system", subtype: "init", session_id: "claude-1" } },
  ClaudeAssistantMessage: { runId, message: { type: "assistant", message: { content: [{ type: "text", text: "hi" }] } } },
  ClaudeUserMessage: { runId, message: { type: "user", message: { content: [{ type: "tool_result", tool_use_id: "t" }] } } },
  ClaudeResult: {
    runId,
    subtype: "success",
    isError: false,
    totalCostUsd: 0.5,
    runCostUsd: 0.25,
    usage: { input_tokens: 1 },
    tokens: { input: 1, output: 0, cacheRead: 0, cacheCreation: 0 },
    numTurns: 3,
    durationMs: 1000,
    permissionDenials: [{ tool_name: "Bash" }],
    message: { type: "result", subtype: "success" }
  },
  ClaudeStreamEvent: { runId, messageType: "stream_event", message: { type: "stream_event", event: { type: "x" } } },
  ApprovalRequested: {
    runId,
    approvalId,
    toolUseId: "toolu_1",
    toolName: "Bash",
    input: { command: "ls" },
    suggestions: [{ type: "addRules" }],
    expiresAt: "2026-01-01T00:00:00.000Z"
  },
  ApprovalDecided: {
    runId,
    approvalId,
    decision: "allow",
    message: "ok",
    updatedInput: { command: "ls -la" },
    decidedBy: "user:alice",
    reason: "timeout"
  },
  ContinueRequested: { runId, query: "more", overrides: { model: "claude-opus-4-1" } },
  InterruptRequested: { runId, requestedBy: "user:alice" },
  RunCompleted: { runId, totalCostUsd: 0.5, runCostUsd: 0.25, usage: {}, numTurns: 3, durationMs: 1000 },
  RunFailed: { runId, error: "exit 1", exitCode: 1 },
  RunInterrupted: { runId },
  RunAbandoned: { runId, reason: "service restarted" },
  SessionArchived: {},
  SessionUnarchived: {},
  SessionRenamed: { title: "a title" },
  WorkspaceCreated: { runId, repo: "/r", baseRef: "main", baseSha: "a".repeat(40), branch: "agentlog/x", path: "/w/x", cwd: "/w/x" },
  WorkspaceCommitted: {
    runId,
    sha: "b".repeat(40),
    parentSha: "a".repeat(40),
    changed: true,
    outcome: "completed",
    files: [{ path: "a.txt", insertions: 1, deletions: 0, binary: false }],
    fileCount: 1,
    insertions: 1,
    deletions: 0
  },
  WorkspaceMerged: { into: "main", sha: "c".repeat(40), fastForward: true },
  WorkspaceRebased: { onto: "main", ontoSha: "d".repeat(40), sha: "e".repeat(40) },
  WorkspaceDiscarded: { reason: "done" },
  WorkspaceReset: {
    runId,
    sha: "a".repeat(40),
    previousSha: "b".repeat(40),
    keptAs: "refs/agentlog/reset/x/1",
    atMessage: "m1",
    claudeSessionId: "c1",
    by: "alice"
  },
  PermissionModeChanged: { mode: "bypassPermissions", previousMode: "acceptEdits", expiresAt: "2026-01-01T00:15:00.000Z", changedBy: "alice" },
  ModelChanged: { model: "claude-opus-4-1", previousModel: "claude-sonnet-4-5", changedBy: "alice" },
  FollowUpQueued: { followUpId: approvalId, runId: newId(), query: "then this", overrides: { model: "claude-haiku-4-5" }, afterRunId: runId },
  FollowUpEdited: { followUpId: approvalId, query: "then that", overrides: {} },
  FollowUpCancelled: { followUpId: approvalId, cancelledBy: "user:alice" },
  FollowUpStarted: { followUpId: approvalId, runId, startedBy: "agentlog" }
}

const issueOf = (type: string, data: unknown): string => {
  const r = validateEvent(type, data)
  if (Result.isSuccess(r)) throw new Error(`${type} was accepted: ${JSON.stringify(data)}`)
  expect(r.failure._tag).toBe("InvalidEvent")
  expect(r.failure.type).toBe(type)
  return r.failure.issue
}

describe("the event catalog", () => {
  it("names exactly the events of the design", () => {
    expect([...eventTypes].sort()).toEqual(
      [
        "SessionLaunched",
        "SessionForked",
        "RunStarted",
        "ClaudeSessionBound",
        "ClaudeSystemEvent",
        "ClaudeAssistantMessage",
        "ClaudeUserMessage",
        "ClaudeResult",
        "ClaudeStreamEvent",
        "ApprovalRequested",
        "ApprovalDecided",
        "ContinueRequested",
        "InterruptRequested",
        "RunCompleted",
        "RunFailed",
        "RunInterrupted",
        "RunAbandoned",
        "SessionArchived",
        "SessionUnarchived",
        "SessionRenamed",
        "DraftCreated",
        "DraftEdited",
        "DraftDiscarded",
        "DraftRestored",
        "WorkspaceCreated",
        "WorkspaceCommitted",
        "WorkspaceMerged",
        "WorkspaceRebased",
        "WorkspaceDiscarded",
        "WorkspaceReset",
        "PermissionModeChanged",
        "ModelChanged",
        "FollowUpQueued",
        "FollowUpEdited",
        "FollowUpCancelled",
        "FollowUpStarted"
      ].sort()
    )
  })

  it("has a positive integer schema version for every event type, and none for anything else", () => {
    for (const t of eventTypes) {
      expect(Number.isInteger(schemaVersions[t]), t).toBe(true)
      expect(schemaVersions[t], t).toBeGreaterThanOrEqual(1)
    }
    expect(Object.keys(schemaVersions).sort()).toEqual([...eventTypes].sort())
  })

  it("isEventType knows the catalog and nothing else", () => {
    for (const t of eventTypes) expect(isEventType(t)).toBe(true)
    for (const t of ["", "sessionlaunched", "toString", "constructor", "__proto__", "hasOwnProperty"]) expect(isEventType(t)).toBe(false)
  })

  it.each(eventTypes.map((t) => [t]))("accepts a valid %s, and its JSON round trip", (t) => {
    const data = samples[t]
    const r = validateEvent(t, data)
    if (Result.isFailure(r)) throw new Error(r.failure.message)
    expect(r.success).toEqual({ type: t, data })
    const again = validateEvent(t, JSON.parse(JSON.stringify(data)))
    expect(Result.isSuccess(again) && again.success.data).toEqual(data)
  })

  it.each(eventTypes.filter((t) => Object.keys(samples[t]).length > 0).map((t) => [t]))(
    "refuses a %s with a required field missing, naming it",
    (t) => {
      const schema = eventSchemas[t] as unknown as { fields: Record<string, unknown> }
      const data = samples[t] as Record<string, unknown>
      const required = Object.keys(schema.fields).filter((k) => {
        const { [k]: _, ...rest } = data
        return Result.isFailure(validateEvent(t, rest))
      })
      expect(required.length).toBeGreaterThan(0)
      for (const k of required) {
        const { [k]: _, ...rest } = data
        expect(issueOf(t, rest)).toContain(`["${k}"]`)
      }
    }
  )

  it.each(eventTypes.map((t) => [t]))("refuses a %s with an unknown field, naming it", (t) => {
    expect(issueOf(t, { ...samples[t], surprise: 1 })).toContain(`["surprise"]`)
  })

  it.each([["null"], ["string"], ["array"]])("refuses data that is not an object (%s)", (kind) => {
    const data = kind === "null" ? null : kind === "string" ? "x" : []
    for (const t of eventTypes) issueOf(t, data)
  })

  it("refuses an unknown event type", () => {
    expect(issueOf("SessionExploded", {})).toBe("unknown event type")
    expect(issueOf("__proto__", {})).toBe("unknown event type")
  })

  it("names the failing field of a nested option", () => {
    const options = (o: Record<string, unknown>) => ({ ...samples.SessionLaunched, options: o })
    expect(issueOf("SessionLaunched", options({ maxTurns: "5" }))).toContain(`["options"]["maxTurns"]`)
    expect(issueOf("SessionLaunched", options({ maxTurns: 0 }))).toContain(`["options"]["maxTurns"]`)
    expect(issueOf("SessionLaunched", options({ maxTurns: 1.5 }))).toContain(`["options"]["maxTurns"]`)
    expect(issueOf("SessionLaunched", options({ permissionMode: "yolo" }))).toContain(`["options"]["permissionMode"]`)
    expect(issueOf("SessionLaunched", options({ allowedTools: "Read" }))).toContain(`["options"]["allowedTools"]`)
    expect(issueOf("SessionLaunched", options({ title: "" }))).toContain(`["options"]["title"]`)
    expect(issueOf("SessionLaunched", options({ cwd: "" }))).toContain(`["options"]["cwd"]`)
    expect(issueOf("SessionLaunched", options({ model: 4 }))).toContain(`["options"]["model"]`)
    expect(issueOf("SessionLaunched", options({ includePartialMessages: "yes" }))).toContain(`["options"]["includePartialMessages"]`)
    expect(issueOf("SessionLaunched", options({ approvalTimeoutMs: 0 }))).toContain(`["options"]["approvalTimeoutMs"]`)
    expect(issueOf("SessionLaunched", options({ nope: true }))).toContain(`["options"]["nope"]`)
    expect(issueOf("SessionLaunched", options({ mcpServers: { x: { type: "http", url: "ftp://x" } } }))).toContain(
      `["options"]["mcpServers"]["x"]`
    )
    expect(issueOf("SessionLaunched", options({ mcpServers: { x: { command: "" } } }))).toContain(`["options"]["mcpServers"]["x"]`)
  })

  it("refuses an empty title on rename", () => {
    expect(issueOf("SessionRenamed", { title: "" })).toContain(`["title"]`)
    expect(issueOf("SessionRenamed", { title: "x".repeat(201) })).toContain(`["title"]`)
  })

  it("refuses ids that are not uuids where the catalog asks for one", () => {
    expect(issueOf("SessionLaunched", { ...samples.SessionLaunched, sessionId: "abc" })).toContain(`["sessionId"]`)
    expect(issueOf("RunInterrupted", { runId: "" })).toContain(`["runId"]`)
    expect(issueOf("ApprovalDecided", { ...samples.ApprovalDecided, approvalId: "a1" })).toContain(`["approvalId"]`)
  })

  it("refuses a decision other than allow or deny", () => {
    expect(issueOf("ApprovalDecided", { ...samples.ApprovalDecided, decision: "maybe" })).toContain(`["decision"]`)
  })

  it("refuses negative costs", () => {
    expect(issueOf("RunCompleted", { ...samples.RunCompleted, totalCostUsd: -1 })).toContain(`["totalCostUsd"]`)
    expect(issueOf("ClaudeResult", { ...samples.ClaudeResult, runCostUsd: -0.01 })).toContain(`["runCostUsd"]`)
  })

  // Events are stored as JSON: a number JSON cannot carry would come back as null and no
  // longer match its own schema, so such an event must never pass.
  it.each([
    ["RunCompleted", "totalCostUsd"],
    ["RunCompleted", "runCostUsd"],
    ["RunCompleted", "numTurns"],
    ["RunCompleted", "durationMs"],
    ["ClaudeResult", "totalCostUsd"],
    ["ClaudeResult", "runCostUsd"],
    ["ClaudeResult", "numTurns"],
    ["ClaudeResult", "durationMs"],
    ["RunStarted", "pid"],
    ["RunFailed", "exitCode"]
  ] as const)("refuses NaN and infinities in %s.%s", (t, field) => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(issueOf(t, { ...samples[t], [field]: bad })).toContain(`["${field}"]`)
    }
  })

  it("refuses values that are not JSON inside Claude messages and approval inputs", () => {
    expect(issueOf("ClaudeAssistantMessage", { runId, message: { n: Number.NaN } })).toContain(`["message"]`)
    expect(issueOf("ClaudeAssistantMessage", { runId, message: { u: undefined } })).toContain(`["message"]`)
    expect(issueOf("ClaudeAssistantMessage", { runId, message: { f: () => 1 } })).toContain(`["message"]`)
    expect(issueOf("ApprovalRequested", { ...samples.ApprovalRequested, input: { x: Number.POSITIVE_INFINITY } })).toContain(`["input"]`)
  })

  it("keeps Claude messages losslessly", () => {
    const message = {
      type: "assistant",
      uuid: newId(),
      nested: { deep: [1, "two", null, true, { three: 3.25 }] },
      unicode: "héllo ✓ \u0000 \ud83d\ude00",
      empty: {},
      list: []
    }
    const r = validateEvent("ClaudeAssistantMessage", { runId, message })
    expect(Result.isSuccess(r) && r.success.data).toEqual({ runId, message })
    expect(JSON.stringify(Result.isSuccess(r) && r.success.data)).toBe(JSON.stringify({ runId, message }))
  })

  it("describes event metadata", () => {
    const decode = Schema.decodeUnknownResult(EventMetadata, { onExcessProperty: "error" })
    const ok = { runId, correlationId: "c1", causationId: "c0", schemaVersion: 1, recordedAt: new Date(0).toISOString(), source: "api" }
    expect(Result.isSuccess(decode(ok))).toBe(true)
    const { runId: _r, causationId: _c, ...minimal } = ok
    expect(Result.isSuccess(decode({ ...minimal, source: "claude" }))).toBe(true)
    expect(Result.isSuccess(decode({ ...minimal, source: "supervisor" }))).toBe(true)
    expect(Result.isFailure(decode({ ...ok, source: "cron" }))).toBe(true)
    expect(Result.isFailure(decode({ ...ok, correlationId: "" }))).toBe(true)
    expect(Result.isFailure(decode({ ...ok, schemaVersion: 1.5 }))).toBe(true)
  })
})

describe("session options", () => {
  const withServers = (mcpServers: NonNullable<SessionOptions["mcpServers"]>): SessionOptions => ({ model: "m", mcpServers })

  it("redact MCP env values and headers but keep ${VAR} references", () => {
    const options = withServers({
      local: { command: "srv", args: ["--token", "visible-arg"], env: { API_KEY: "sk-secret", HOME_REF: "${HOME}", EMPTY: "" } },
      remote: { type: "sse", url: "https://x.example/sse", headers: { Authorization: "Bearer abc", "X-Ref": "${MCP_TOKEN}" } },
      bare: { command: "plain" }
    })
    const r = redactOptions(options)
    expect(r).toEqual({
      model: "m",
      mcpServers: {
        local: { command: "srv", args: ["--token", "visible-arg"], env: { API_KEY: redacted, HOME_REF: "${HOME}", EMPTY: redacted } },
        remote: { type: "sse", url: "https://x.example/sse", headers: { Authorization: redacted, "X-Ref": "${MCP_TOKEN}" } },
        bare: { command: "plain" }
      }
    })
    expect(JSON.stringify(r)).not.toContain("sk-secret")
    expect(JSON.stringify(r)).not.toContain("Bearer abc")
    // the caller's options are left as they were
    expect(options.mcpServers!.local).toMatchObject({ env: { API_KEY: "sk-secret" } })
  })

  it("leave options without MCP servers as they are", () => {
    const o: SessionOptions = { model: "m", maxTurns: 3 }
    expect(redactOptions(o)).toEqual(o)
    expect(redactOptions({})).toEqual({})
  })

  it("redaction is idempotent", () => {
    const o = withServers({ a: { command: "x", env: { K: "v", R: "${R}" } } })
    expect(redactOptions(redactOptions(o))).toEqual(redactOptions(o))
  })

  it.each([
    ["${VAR}", true],
    ["${_x1}", true],
    ["${1VAR}", false],
    ["$VAR", false],
    ["${VAR}-suffix", false],
    ["prefix-${VAR}", false],
    ["${VAR", false],
    ["${}", false],
    ["${A B}", false],
    ["", false]
  ])("isEnvReference(%j) is %s", (v, expected) => {
    expect(isEnvReference(v)).toBe(expected)
  })

  it("merge a run's overrides over the session's options", () => {
    expect(mergeOptions({ model: "a", maxTurns: 2, cwd: "/x" }, { model: "b", permissionMode: "plan" })).toEqual({
      model: "b",
      maxTurns: 2,
      cwd: "/x",
      permissionMode: "plan"
    })
    expect(mergeOptions({ model: "a" }, {})).toEqual({ model: "a" })
  })
})

describe("stored events come back through one decode-and-upcast step", () => {
  const { usage: _u, tokens: _t, ...rest } = samples.ClaudeResult
  const v1Result = {
    ...rest,
    usage: { input_tokens: 12, output_tokens: 7, cache_read_input_tokens: 3, cache_creation_input_tokens: 2, service_tier: "x" }
  }
  const meta = (schemaVersion?: number) => ({
    correlationId: "c",
    recordedAt: "2026-01-01T00:00:00.000Z",
    source: "claude",
    ...(schemaVersion !== undefined ? { schemaVersion } : {})
  })

  it("a version-1 ClaudeResult gets the token counts version 2 added, taken from usage", () => {
    for (const metadata of [meta(1), meta(undefined)]) {
      const d = decodeStored({ type: "ClaudeResult", data: v1Result, metadata })
      expect(d._tag).toBe("Decoded")
      if (d._tag !== "Decoded") return
      expect(d.storedVersion).toBe(1)
      expect(d.event.data).toEqual({ ...v1Result, tokens: { input: 12, output: 7, cacheRead: 3, cacheCreation: 2 } })
    }
  })

  it("a current-version event decodes as written: no schema of the catalog transforms", () => {
    for (const t of eventTypes) {
      const metadata = meta(schemaVersions[t])
      expect(decodeStored({ type: t, data: samples[t], metadata }), t).toEqual({
        _tag: "Decoded",
        event: { type: t, data: samples[t] },
        storedVersion: schemaVersions[t]
      })
      const decoded = Schema.decodeUnknownSync(eventSchemas[t] as Schema.Codec<unknown>)(samples[t])
      expect(decoded, t).toEqual(samples[t])
    }
  })

  it("an unknown type is UnknownType; a version from the future or data failing its schema is Undecodable", () => {
    expect(decodeStored({ type: "SomethingNew", data: {}, metadata: meta(1) })._tag).toBe("UnknownType")
    const future = decodeStored({ type: "RunStarted", data: samples.RunStarted, metadata: meta(schemaVersions.RunStarted + 1) })
    expect(future).toMatchObject({ _tag: "Undecodable", type: "RunStarted", issue: expect.stringMatching(/newer/) })
    const broken = decodeStored({ type: "RunStarted", data: { ...samples.RunStarted, runId: 7 }, metadata: meta(1) })
    expect(broken).toMatchObject({ _tag: "Undecodable", type: "RunStarted", issue: expect.stringMatching(/runId/) })
  })

  it("replays show old events upcast, with the version they now have; current ones are passed through untouched", () => {
    const old = { type: "ClaudeResult", data: v1Result as unknown, metadata: meta(1), extra: "kept" }
    const up = upcastStored(old)
    expect(up.extra).toBe("kept")
    expect(up.metadata).toEqual(meta(2))
    expect((up.data as { tokens: unknown }).tokens).toEqual({ input: 12, output: 7, cacheRead: 3, cacheCreation: 2 })
    const current = { type: "ClaudeResult", data: samples.ClaudeResult, metadata: meta(2) }
    expect(upcastStored(current)).toBe(current)
    // The JSON-text path gives exactly what the parsed path gives.
    const json = upcastStoredJson({ type: old.type, dataJson: JSON.stringify(old.data), metadataJson: JSON.stringify(old.metadata) })
    expect(json.dataJson).toBe(JSON.stringify(up.data))
    expect(json.metadataJson).toBe(JSON.stringify(up.metadata))
    const untouched = { type: "RunStarted", dataJson: "{ \"odd\" :1}", metadataJson: "{}" }
    expect(upcastStoredJson(untouched)).toBe(untouched)
  })

  it("every version above 1 has a step from each older version", () => {
    for (const t of eventTypes) {
      for (let v = 1; v < schemaVersions[t]; v++) {
        const d = decodeStored({ type: t, data: {}, metadata: meta(v) })
        // An empty body fails the schema, but through the steps, not on a missing one.
        expect(d._tag, `${t} v${v}`).toBe("Undecodable")
      }
    }
  })
})

describe("inert event types", () => {
  it("are exactly the ones evolve leaves the state alone for (folds skip reading them)", () => {
    // With a workspace, so the workspace events have one to move.
    const s = evolve(runningSession().state, { type: "WorkspaceCreated", data: samples.WorkspaceCreated } as SessionEvent)
    for (const t of eventTypes) {
      const e = { type: t, data: samples[t] } as SessionEvent
      expect(evolve(s, e) === s, t).toBe(inertEventTypes.has(t))
    }
  })
})
