// Property-based fuzzing (fast-check, fixed seeds so a run is reproducible):
// - the HTTP bodies of launch, draft, continue and decision, over real HTTP: arbitrary JSON,
//   valid bodies with fields replaced by arbitrary values or extra fields, arbitrary text
//   and bytes. Never a 5xx; a refusal is problem+json and appends nothing (every request
//   carries its own X-Request-Id, which is the correlationId of whatever it appends).
// - the Claude stream-message parser: any JSON object is recorded by the decider's
//   RecordClaudeMessage, losslessly, never throwing, as an event that passes its schema.
import { randomUUID } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Result, Stream } from "effect"
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { claudeMessageEvent, type ClaudeMessage } from "../../src/domain/claudeMessages.ts"
import { decide } from "../../src/domain/sessionDecider.ts"
import { validateEvent } from "../../src/domain/sessionEvents.ts"
import { startHarness, type Harness } from "../http/httpHarness.ts"
import { runningSession } from "../support/domainFixtures.ts"

const seed = 20_261_125

describe("fuzzing the HTTP bodies", () => {
  let h: Harness
  let cwd: string
  let completed: string
  let approvalId: string

  beforeAll(async () => {
    h = await startHarness({ config: { maxBodyBytes: 65_536 } })
    cwd = mkdtempSync(join(tmpdir(), "agentlog-fuzz-"))
    completed = (await h.seedCompleted()).sessionId
    const running = await h.seedRunning()
    approvalId = randomUUID()
    await h.command({
      kind: "RequestApproval",
      sessionId: running.sessionId,
      runId: running.runId,
      approvalId,
      toolUseId: "toolu_fuzz",
      toolName: "Bash",
      input: {},
      suggestions: []
    })
  })

  afterAll(async () => {
    await h?.close()
    if (cwd) rmSync(cwd, { recursive: true, force: true })
  })

  const json = fc.jsonValue({ maxDepth: 4 })
  const name = fc.oneof(fc.constantFrom("sonnet", "Bash", "Read", "claude-opus-4"), fc.string({ maxLength: 12 }))
  const options: Record<string, fc.Arbitrary<unknown>> = {
    model: name,
    cwd: fc.oneof(fc.constant("/tmp"), fc.string({ maxLength: 20 })),
    additionalDirectories: fc.array(fc.oneof(fc.constant("/tmp"), fc.string({ maxLength: 20 })), { maxLength: 3 }),
    systemPrompt: fc.string({ maxLength: 30 }),
    appendSystemPrompt: fc.string({ maxLength: 30 }),
    allowedTools: fc.array(name, { maxLength: 3 }),
    disallowedTools: fc.array(name, { maxLength: 3 }),
    permissionMode: fc.oneof(fc.constantFrom("default", "acceptEdits", "bypassPermissions", "plan", "dontAsk"), fc.string()),
    maxTurns: fc.oneof(fc.integer({ min: -2, max: 1002 }), fc.double()),
    mcpServers: fc.dictionary(
      fc.string({ maxLength: 8 }),
      fc.oneof(
        fc.record({ command: fc.string({ maxLength: 10 }), args: fc.array(fc.string({ maxLength: 5 }), { maxLength: 2 }) }, { requiredKeys: ["command"] }),
        fc.record({ type: fc.constantFrom("http", "sse", "stdio"), url: fc.oneof(fc.webUrl(), fc.string()) })
      ),
      { maxKeys: 2 }
    ),
    title: fc.string({ maxLength: 20 }),
    includePartialMessages: fc.oneof(fc.boolean(), json),
    approvalTimeoutMs: fc.integer({ min: -1, max: 100_000_000 })
  }
  /** A body of the right shape, with each field valid-ish, arbitrary, or missing, and maybe extra fields. */
  const shaped = (required: Record<string, fc.Arbitrary<unknown>>, optional: Record<string, fc.Arbitrary<unknown>>) => {
    const field = (a: fc.Arbitrary<unknown>) => fc.oneof({ weight: 12, arbitrary: a }, { weight: 1, arbitrary: json })
    return fc
      .subarray(Object.keys(optional), { maxLength: Math.min(4, Object.keys(optional).length) })
      .chain((keys) =>
        fc.tuple(
          fc.record(Object.fromEntries(Object.entries(required).map(([k, a]) => [k, field(a)]))),
          fc.record(Object.fromEntries(keys.map((k) => [k, field(optional[k]!)]))),
          fc.option(fc.dictionary(fc.string({ maxLength: 6 }), json, { minKeys: 1, maxKeys: 2 }), { freq: 8 }),
          fc.nat(20)
        )
      )
      .map(([req, opt, extra, dropRequired]) => {
        const body: Record<string, unknown> = { ...req, ...opt, ...(extra ?? {}) }
        if (dropRequired === 0) for (const k of Object.keys(required)) delete body[k]
        return JSON.stringify(body)
      })
  }
  const launchBodies = shaped({ query: fc.string({ maxLength: 40 }) }, options)
  const draftBodies = shaped({}, { query: fc.string({ maxLength: 40 }), ...options })
  const continueBodies = shaped({ query: fc.string({ maxLength: 40 }) }, Object.fromEntries(Object.entries(options).filter(([k]) => k !== "title")))
  const decisionBodies = shaped(
    { decision: fc.oneof(fc.constantFrom("allow", "deny"), fc.string()) },
    {
      message: fc.string({ maxLength: 20 }),
      updatedInput: fc.oneof(fc.dictionary(fc.string({ maxLength: 5 }), json, { maxKeys: 3 }), json),
      answers: fc.oneof(fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 2 }), json)
    }
  )
  const permissionModeBodies = shaped(
    { mode: options.permissionMode! },
    { expiresInMs: fc.oneof(fc.integer({ min: -1, max: 100_000_000 }), fc.double()) }
  )
  const modelBodies = shaped({ model: fc.oneof(name, fc.string({ maxLength: 30 })) }, {})
  /** Anything at all: arbitrary JSON, text, or bytes. */
  const anything: fc.Arbitrary<string | Uint8Array> = fc.oneof(
    json.map((v) => JSON.stringify(v)),
    fc.string({ unit: "binary", maxLength: 60 }),
    fc.uint8Array({ maxLength: 60 })
  )

  /** What a refusal of a body may say: each names the specific problem, never a generic one. */
  const refusalTypes = new Set(
    ["validation-failed", "malformed-json", "bad-request", "unsupported-media-type", "payload-too-large", "invalid-transition", "approval-already-decided", "session-not-found", "invalid-answer"].map(
      (slug) => `urn:agentlog:problem:${slug}`
    )
  )

  it("never a 5xx; refusals are specific problems (checked against the document) and append nothing", async () => {
    const refused = new Set<string>()
    const sessions = new Set<string>()
    let inputs = 0
    let accepted = 0
    /** The property: asserted for every input, so fast-check reports (and shrinks) the first that breaks it. */
    const send = async (path: string, body: string | Uint8Array) => {
      const requestId = `fuzz-${randomUUID()}`
      // The harness checks every answer against the OpenAPI document (status, content type, body).
      const r = await h.fetch(path, { method: "POST", body, headers: { "content-type": "application/json", "x-request-id": requestId } })
      const text = await r.text()
      inputs++
      expect(r.status, `${path} for ${String(body).slice(0, 200)}: ${text.slice(0, 300)}`).toBeLessThan(500)
      if (r.status >= 400) {
        refused.add(requestId)
        expect(r.headers.get("content-type")).toMatch(/^application\/problem\+json/)
        const problem = JSON.parse(text) as { status: number; type: string }
        expect(problem.status).toBe(r.status)
        expect(refusalTypes, `${path}: ${text.slice(0, 300)}`).toContain(problem.type)
      } else {
        expect(r.status).toBe(202)
        accepted++
        // A decision leaves its (seeded, unsupervised) session running, a draft starts nothing;
        // launches and continues start runs.
        if (!/\/(decision|permission-mode|model)$/.test(path) && path !== "/v1/drafts") sessions.add((JSON.parse(text) as { sessionId: string }).sessionId)
      }
    }
    const routes: Array<[string, fc.Arbitrary<string | Uint8Array>]> = [
      ["/v1/sessions", fc.oneof({ weight: 3, arbitrary: launchBodies }, { weight: 1, arbitrary: anything })],
      ["/v1/drafts", fc.oneof({ weight: 3, arbitrary: draftBodies }, { weight: 1, arbitrary: anything })],
      [`/v1/sessions/${completed}/continue`, fc.oneof({ weight: 3, arbitrary: continueBodies }, { weight: 1, arbitrary: anything })],
      [`/v1/approvals/${approvalId}/decision`, fc.oneof({ weight: 3, arbitrary: decisionBodies }, { weight: 1, arbitrary: anything })],
      [`/v1/sessions/${completed}/permission-mode`, fc.oneof({ weight: 3, arbitrary: permissionModeBodies }, { weight: 1, arbitrary: anything })],
      [`/v1/sessions/${completed}/model`, fc.oneof({ weight: 3, arbitrary: modelBodies }, { weight: 1, arbitrary: anything })]
    ]
    for (const [i, [path, bodies]] of routes.entries()) {
      await fc.assert(
        fc.asyncProperty(bodies, async (body) => {
          await send(path, body)
        }),
        { numRuns: 250, seed: seed + i }
      )
    }
    // Barrier: every run an accepted request started has ended (no claude here: they fail),
    // so everything that will ever be appended for these requests is in the store.
    for (const sessionId of sessions) await h.waitForStatus(sessionId, "failed")
    const events = await Effect.runPromise(Stream.runCollect(h.store.readAll()))
    const fromRefused = events.filter((e) => refused.has(String((e.metadata as { correlationId?: unknown }).correlationId)))
    const internal = h.logs.filter((l) => l.msg === "request failed")
    console.log(
      `HTTP body fuzz: inputs tried ${inputs}, appends from rejected input ${fromRefused.length} ` +
        `(refused ${refused.size}, accepted ${accepted}, internal errors logged ${internal.length})`
    )
    expect(fromRefused).toEqual([])
    expect(internal).toEqual([])
    expect(refused.size).toBeGreaterThan(0)
    expect(accepted).toBeGreaterThan(0)
    expect((await h.fetch("/healthz")).status).toBe(200)
  })
})

describe("fuzzing the Claude stream-message parser", () => {
  const json = fc.jsonValue({ maxDepth: 5 })
  const type = fc.oneof(
    fc.constantFrom("system", "assistant", "user", "result", "stream_event", "prompt_suggestion", "tool_progress", "auth_status"),
    fc.string(),
    json
  )
  const figure = fc.oneof(fc.double(), fc.integer(), fc.string(), json)
  /** Messages shaped like Claude's (a type, ids, result figures) with anything in any field, and anything at all. */
  const message: fc.Arbitrary<ClaudeMessage> = fc.oneof(
    fc
      .record(
        {
          type,
          subtype: fc.oneof(fc.constantFrom("init", "success", "error_during_execution", "compact_boundary"), fc.string(), json),
          uuid: fc.oneof(fc.uuid(), fc.string(), json),
          session_id: fc.oneof(fc.uuid(), fc.string(), fc.string({ minLength: 150, maxLength: 400 }), json),
          total_cost_usd: figure,
          num_turns: figure,
          duration_ms: figure,
          is_error: fc.oneof(fc.boolean(), json),
          usage: json,
          permission_denials: json,
          message: json,
          result: json
        },
        { requiredKeys: [] }
      )
      .chain((m) => fc.dictionary(fc.string({ maxLength: 10 }), json, { maxKeys: 3 }).map((extra) => ({ ...extra, ...m }))),
    fc.dictionary(fc.string(), json)
  ).map((m) => JSON.parse(JSON.stringify(m)) as ClaudeMessage)

  it("records any JSON object, losslessly, as an event that passes its schema; never throws", () => {
    let inputs = 0
    let throws = 0
    let refusals = 0
    fc.assert(
      fc.property(message, fc.double({ min: 0, max: 100, noNaN: true }), (m, previousCost) => {
        inputs++
        const runId = randomUUID()
        let e
        try {
          e = claudeMessageEvent(runId, m, previousCost)
        } catch (err) {
          throws++
          throw err
        }
        expect(Result.isSuccess(validateEvent(e.type, e.data))).toBe(true)
        expect(JSON.stringify((e.data as { message: unknown }).message)).toBe(JSON.stringify(m))

        // Through the decider, on a running session, with whatever it binds.
        const session = runningSession()
        const decided = decide({ kind: "RecordClaudeMessage", sessionId: session.sessionId, runId: session.runId, message: m }, session.state)
        if (Result.isFailure(decided)) {
          refusals++
          throw new Error(`refused: ${JSON.stringify(decided.failure).slice(0, 300)} for ${JSON.stringify(m).slice(0, 300)}`)
        }
        const recorded = decided.success.at(-1)!
        expect(recorded.type).toBe(e.type)
        expect(JSON.stringify((recorded.data as { message: unknown }).message)).toBe(JSON.stringify(m))
        for (const ev of decided.success) expect(Result.isSuccess(validateEvent(ev.type, ev.data))).toBe(true)
      }),
      { numRuns: 3_000, seed }
    )
    console.log(`stream-message fuzz: inputs tried ${inputs}, throws ${throws}, refusals ${refusals}`)
  })
})
