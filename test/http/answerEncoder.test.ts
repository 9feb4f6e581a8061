// The adapter encodes answers with a compiled check (src/http/answerEncoder.ts) instead of
// the schema's general decoder: it must give the decoder's answer for every body the
// decoder accepts, refuse (so the decoder throws) every body it refuses, and cover every
// JSON answer of the route table (none left to the slow path by accident).
import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import { answerEncoder, compiledAnswer } from "../../src/http/answerEncoder.ts"
import * as R from "../../src/http/responses.ts"
import { routes } from "../../src/http/routes.ts"

const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`
const at = "2026-11-30T07:00:00.000Z"

const session = {
  sessionId: uuid(1),
  status: "completed",
  archived: false,
  title: null,
  query: "hello",
  model: "claude-sonnet-5",
  cwd: "/tmp",
  options: { allowedTools: ["Bash"] },
  parentSessionId: null,
  forkedAt: null,
  claudeSessionId: "abc",
  runId: "r1",
  runs: 1,
  turns: 2,
  costUsd: 0.25,
  inputTokens: 10,
  outputTokens: 20,
  cacheReadTokens: 0,
  cacheCreationTokens: 0,
  pendingApprovals: 0,
  lastError: null,
  createdAt: at,
  updatedAt: at,
  lastRevision: 7,
  lastPosition: "p7",
  // not in the schema: left out of the answer
  internalNote: "x"
}

const entry = {
  sessionId: uuid(1),
  seq: 0,
  revision: 3,
  runId: "r1",
  kind: "tool_call",
  text: null,
  messageUuid: null,
  parentToolUseId: null,
  toolUseId: "t1",
  toolName: "Bash",
  input: { command: "ls" },
  result: { text: "ok", content: [{ type: "text" }], isError: false, revision: 4, at, extra: 1 },
  approval: null,
  isError: null,
  data: null,
  createdAt: at
}

const event = {
  stream: `session-${uuid(1)}`,
  sessionId: uuid(1),
  revision: 0,
  position: "p1",
  id: uuid(9),
  type: "SessionLaunched",
  data: { query: "hi", nested: { a: [1, 2] } },
  metadata: { source: "api" },
  created: at
}

const valid: ReadonlyArray<[string, Schema.Top, unknown]> = [
  ["a sessions page", R.SessionsPage, { items: [session, { ...session, sessionId: uuid(2) }], nextCursor: null }],
  ["a session", R.Session, { ...session, revision: 7, queuePosition: 2, children: [{ sessionId: uuid(3), forkedAt: null, status: "queued", title: null }] }],
  ["a transcript", R.Transcript, { sessionId: uuid(1), revision: 3, entries: [entry, { ...entry, seq: 1, result: null }], nextAfterSeq: 1 }],
  ["an events page", R.EventsPage, { items: [event], nextCursor: "c" }],
  ["a stream page", R.StreamEventsPage, { items: [event, { ...event, revision: 1 }], nextRevision: null }],
  ["an accepted command", R.CommandAccepted, { sessionId: uuid(1), runId: null, status: "queued", position: null, revision: null, queuePosition: 1 }]
]

const invalid: ReadonlyArray<[string, Schema.Top, unknown]> = [
  ["a session id that is not a UUID", R.SessionsPage, { items: [{ ...session, sessionId: "nope" }], nextCursor: null }],
  ["a status not in the list", R.SessionsPage, { items: [{ ...session, status: "sleeping" }], nextCursor: null }],
  ["a negative count", R.SessionsPage, { items: [{ ...session, turns: -1 }], nextCursor: null }],
  ["a fractional revision", R.Session, { ...session, revision: 1.5 }],
  ["a required field missing", R.Session, (({ query: _, ...rest }) => ({ ...rest, children: [], revision: 7 }))(session)],
  ["a required field undefined", R.Session, { ...session, children: [], revision: 7, title: undefined }],
  ["an optional key set to undefined", R.Session, { ...session, children: [], revision: 7, queuePosition: undefined }],
  ["a time that is not a date-time", R.EventsPage, { items: [{ ...event, created: "yesterday" }], nextCursor: null }],
  ["data that is not an object", R.EventsPage, { items: [{ ...event, data: [1] }], nextCursor: null }],
  ["a nested struct of the wrong shape", R.Transcript, { sessionId: uuid(1), revision: 3, entries: [{ ...entry, result: { text: 1 } }], nextAfterSeq: null }],
  ["items that are not an array", R.SessionsPage, { items: {}, nextCursor: null }]
]

describe("answers encoded with a compiled check", () => {
  it.each(valid)("%s: the same answer as the schema's decoder (fields it does not name dropped)", (_, schema, body) => {
    const expected = Schema.decodeUnknownSync(schema as Schema.Decoder<unknown>)(body)
    expect(compiledAnswer(schema)!(body)).toStrictEqual(expected)
    expect(JSON.stringify(answerEncoder(schema)(body))).toBe(JSON.stringify(expected))
  })

  it("leaves out what the schema does not name", () => {
    const out = answerEncoder(R.SessionsPage)({ items: [session], nextCursor: null }) as { items: Array<object> }
    expect(out.items[0]).not.toHaveProperty("internalNote")
  })

  it.each(invalid)("%s: refused, and the schema's decoder throws", (_, schema, body) => {
    expect(compiledAnswer(schema)!(body)).toBeUndefined()
    expect(() => answerEncoder(schema)(body)).toThrow()
  })

  it("covers every JSON answer of the route table", () => {
    const schemas = Object.values(routes).flatMap((r) =>
      Object.values(r.responses).flatMap((s) =>
        // Problems and bulk results (which embed problems: a record with named fields) are
        // rare answers, left to the schema's decoder.
        s.schema !== undefined && s.schema !== R.Problem && s.schema !== R.BulkResult ? [[r.operationId, s.schema] as const] : []
      )
    )
    expect(schemas.length).toBeGreaterThan(10)
    for (const [operation, schema] of schemas) expect(compiledAnswer(schema), operation).not.toBeNull()
  })
})
