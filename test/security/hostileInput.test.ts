// A corpus of hostile requests over real HTTP (127.0.0.1, the whole service: store,
// decider, supervisor, read models, bearer auth on): malformed JSON, wrong types, huge
// bodies, deep nesting, unknown fields, invalid UUIDs, path traversal in URLs and in cwd,
// control characters and invalid UTF-8, header injection and smuggling, wrong or missing
// tokens, a foreign Host (DNS rebinding) or Origin (cross-site), replayed idempotency keys
// with other bodies. Each must get its 4xx as application/problem+json, append nothing (the
// store's head does not move), and leave the service answering. Prints: inputs tried, 5xx
// seen, appends from rejected input.
import { randomUUID } from "node:crypto"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startHarness, type Harness } from "../http/httpHarness.ts"
import { rawRequest, Tally } from "./hostileSupport.ts"

const token = "hostile-suite-token-0123456789"
let h: Harness
let scratch: string
let completed: string
let approvalId: string
let replayKey: string
let webhookId: string
let runningId: string
let followUpId: string

/** The Host a client of this service sends (the guard refuses any other). */
const authority = () => new URL(h.url).host
const head = async (): Promise<bigint> => (await Effect.runPromise(h.store.headPosition()))?.commit ?? 0n

beforeAll(async () => {
  h = await startHarness({ config: { apiToken: token, maxBodyBytes: 65_536 } })
  scratch = mkdtempSync(join(tmpdir(), "agentlog-hostile-"))
  writeFileSync(join(scratch, "a-file"), "not a directory")
  completed = (await h.seedCompleted()).sessionId
  const running = await h.seedRunning()
  approvalId = randomUUID()
  await h.command({
    kind: "RequestApproval",
    sessionId: running.sessionId,
    runId: running.runId,
    approvalId,
    toolUseId: "toolu_hostile",
    toolName: "Bash",
    input: { command: "ls" },
    suggestions: []
  })
  // A follow-up waiting behind that run.
  runningId = running.sessionId
  followUpId = randomUUID()
  await h.command({ kind: "ContinueSession", sessionId: runningId, runId: randomUUID(), query: "later", overrides: {}, followUpId })
  // A launch with an idempotency key, whose run fails at once (there is no claude here).
  replayKey = `replay-${randomUUID()}`
  const first = await h.fetch("/v1/sessions", { method: "POST", json: { query: "first" }, headers: { "idempotency-key": replayKey } })
  expect(first.status).toBe(202)
  await h.waitForStatus(((await first.json()) as { sessionId: string }).sessionId, "failed")
  const hook = await h.fetch("/v1/webhooks", { method: "POST", json: { url: "http://127.0.0.1:9/hook", events: ["approval.decided"], secret: "hostile-webhook-secret-01" } })
  webhookId = ((await hook.json()) as { id: string }).id
  await h.caughtUp()
})

afterAll(async () => {
  await h?.close()
  if (scratch) rmSync(scratch, { recursive: true, force: true })
})

interface Sent {
  readonly status: number
  readonly contentType: string
  readonly body: string
  readonly requestId?: string | null
}

interface Case {
  readonly name: string
  readonly expect: ReadonlyArray<number>
  readonly send: () => Promise<Sent>
}

const viaFetch = async (path: string, init: RequestInit & { json?: unknown; token?: string | null } = {}): Promise<Sent> => {
  const r = await h.fetch(path, init)
  return { status: r.status, contentType: r.headers.get("content-type") ?? "", body: await r.text(), requestId: r.headers.get("x-request-id") }
}
const post = (path: string, body: string | Uint8Array, headers: Record<string, string> = { "content-type": "application/json" }) => () =>
  viaFetch(path, { method: "POST", body, headers })
const postJson = (path: string, json: unknown, headers: Record<string, string> = {}) => () =>
  viaFetch(path, { method: "POST", json, headers })
const get = (path: string, headers: Record<string, string> = {}) => () => viaFetch(path, { headers })
const raw = (request: string | Buffer) => async (): Promise<Sent> => {
  const r = await rawRequest(h.url, request)
  return { status: r.status, contentType: r.headers["content-type"] ?? "", body: r.body, requestId: r.headers["x-request-id"] }
}
const rawReq = (head: string, body = "") =>
  raw(`${head}\r\nHost: ${authority()}\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n${body ? `Content-Length: ${Buffer.byteLength(body)}\r\n` : ""}\r\n${body}`)

/** A request with the given Host (and the right token); fetch would send the URL's own. */
const rawHost = (host: string, requestLine: string, body = "", extra: Record<string, string> = {}) =>
  raw(
    `${requestLine}\r\nHost: ${host}\r\nAuthorization: Bearer ${token}\r\n${Object.entries(extra).map(([k, v]) => `${k}: ${v}\r\n`).join("")}` +
      `${body ? `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` : ""}Connection: close\r\n\r\n${body}`
  )
/** What issue 19 saw a rebinding page launch: Claude with Bash in a directory of its choosing. */
const rebindingAttack = { query: "run this", cwd: "/tmp", allowedTools: ["Bash"] }

const L = "/v1/sessions"
const C = () => `/v1/sessions/${completed}/continue`
const D = () => `/v1/approvals/${approvalId}/decision`

const nested = (depth: number, open: string, close: string, inner = "1") => open.repeat(depth) + inner + close.repeat(depth)

const corpus = (): Array<Case> => [
  // ---- malformed JSON ----
  ...[
    '{"query":',
    '{query:"x"}',
    '{"query":"x",}',
    "{'query':'x'}",
    '{"query":"x"}{"query":"y"}',
    '{"query":"x"} trailing',
    "NaN",
    '{"query":"\\x41"}',
    '{"query":"unterminated}'
  ].map((body): Case => ({ name: `malformed JSON ${JSON.stringify(body)}`, expect: [400], send: post(L, body) })),
  { name: "malformed JSON on continue", expect: [400], send: post(C(), "{") },
  { name: "malformed JSON on a decision", expect: [400], send: post(D(), "{") },
  // ---- not an object, wrong types ----
  ...["[]", "null", '"query"', "42", "true", "[{\"query\":\"x\"}]"].map(
    (body): Case => ({ name: `launch body ${body}`, expect: [400], send: post(L, body) })
  ),
  ...[
    {},
    { query: "" },
    { query: 42 },
    { query: null },
    { query: ["x"] },
    { query: { text: "x" } },
    { query: "x", maxTurns: "10" },
    { query: "x", maxTurns: 1.5 },
    { query: "x", maxTurns: 0 },
    { query: "x", maxTurns: -1 },
    { query: "x", maxTurns: 1e308 },
    { query: "x", allowedTools: "Bash" },
    { query: "x", allowedTools: [1, 2] },
    { query: "x", allowedTools: [""] },
    { query: "x", permissionMode: "yolo" },
    { query: "x", model: "" },
    { query: "x", model: "m".repeat(201) },
    { query: "x", includePartialMessages: "yes" },
    { query: "x", approvalTimeoutMs: 0 },
    { query: "x", mcpServers: [] },
    { query: "x", mcpServers: { s: { command: 42 } } },
    { query: "x", mcpServers: { s: { type: "http", url: "javascript:alert(1)" } } },
    { query: "x", mcpServers: { s: { type: "sse", url: "http://x y" } } },
    { query: "x", mcpServers: { s: { command: "x", env: { K: 1 } } } },
    { query: "x", title: "" },
    { query: "x", workspace: { kind: "svn" } },
    { query: "x", workspace: { kind: "worktree", baseRef: "" } },
    { query: "x", workspace: { kind: "worktree", branch: "a\u0000b" } },
    { query: "x", workspace: { kind: "worktree", startAt: "--upload-pack=x" } },
    { query: "x", workspace: { kind: "worktree", extra: 1 } },
    { query: "x", permissionMode: "bypassPermissions", bypassExpiresInMs: -1 },
    { query: "x", permissionMode: "bypassPermissions", bypassExpiresInMs: 1e12 },
    { query: "x", permissionMode: "bypassPermissions", bypassExpiresInMs: "900000" },
    { query: "x", permissionMode: "plan", bypassExpiresInMs: 60_000 },
    { query: "x", bypassExpiresInMs: 60_000 }
  ].map((json): Case => ({ name: `launch ${JSON.stringify(json).slice(0, 80)}`, expect: [400], send: postJson(L, json) })),
  ...[
    {},
    { query: 1 },
    { query: "x", title: "renamed in a continue" },
    { query: "x", permissionMode: "bypassPermissions", bypassExpiresInMs: 1e12 },
    { query: "x", permissionMode: "acceptEdits", bypassExpiresInMs: 60_000 },
    { query: "x", bypassExpiresInMs: 0.5 }
  ].map(
    (json): Case => ({ name: `continue ${JSON.stringify(json)}`, expect: [400], send: postJson(C(), json) })
  ),
  ...[{}, { decision: "maybe" }, { decision: "ALLOW" }, { decision: "allow", updatedInput: [] }, { decision: "deny", message: 5 }].map(
    (json): Case => ({ name: `decision ${JSON.stringify(json)}`, expect: [400], send: postJson(D(), json) })
  ),
  { name: "rename with a number", expect: [400], send: () => viaFetch(`/v1/sessions/${completed}`, { method: "PATCH", json: { title: 7 } }) },
  // ---- session controls: permission mode, model, a question's answers ----
  ...[
    {},
    { mode: "root" },
    { mode: "bypassPermissions", expiresInMs: -1 },
    { mode: "bypassPermissions", expiresInMs: 1e12 },
    { mode: "bypassPermissions", expiresInMs: "900000" },
    { mode: "default", expiresInMs: 60_000 },
    { mode: "default", expiresAt: "2099-01-01T00:00:00Z" },
    { mode: "default", changedBy: "admin" },
    { mode: ["default"] }
  ].map((json): Case => ({ name: `permission mode ${JSON.stringify(json)}`, expect: [400], send: postJson(`/v1/sessions/${completed}/permission-mode`, json) })),
  ...[{}, { model: "" }, { model: 7 }, { model: "a\u0000b" }, { model: "x\u202eevil" }, { model: "x".repeat(201) }, { model: "m", changedBy: "admin" }].map(
    (json): Case => ({ name: `model ${JSON.stringify(json).slice(0, 80)}`, expect: [400], send: postJson(`/v1/sessions/${completed}/model`, json) })
  ),
  ...[
    { decision: "allow", answers: [] },
    { decision: "allow", answers: { q: 1 } },
    { decision: "allow", answers: { "": "a" } },
    { decision: "allow", answers: "Blue" }
  ].map((json): Case => ({ name: `decision ${JSON.stringify(json)}`, expect: [400], send: postJson(D(), json) })),
  { name: "answers to a tool's permission (not a question)", expect: [422], send: postJson(D(), { decision: "allow", answers: { "Which?": "a" } }) },
  { name: "archive with a body", expect: [400], send: postJson(`/v1/sessions/${completed}/archive`, { force: true }) },
  ...[{ into: "" }, { into: "-f" }, { into: 1 }, { onto: "x" }].map(
    (json): Case => ({ name: `merge ${JSON.stringify(json)}`, expect: [400], send: postJson(`/v1/sessions/${completed}/workspace/merge`, json) })
  ),
  ...[{ onto: "--exec=x" }, { into: "main" }].map(
    (json): Case => ({ name: `rebase ${JSON.stringify(json)}`, expect: [400], send: postJson(`/v1/sessions/${completed}/workspace/rebase`, json) })
  ),
  { name: "discard with a body", expect: [400], send: postJson(`/v1/sessions/${completed}/workspace/discard`, { force: true }) },
  ...[
    {},
    { query: "x" },
    { run: "not-a-uuid", query: "x" },
    { run: "00000000-0000-4000-8000-000000000000" },
    { run: "00000000-0000-4000-8000-000000000000", query: "" },
    { run: "00000000-0000-4000-8000-000000000000", query: "x", sha: "HEAD~1" },
    { run: "--hard", query: "x" },
    { run: ["00000000-0000-4000-8000-000000000000"], query: "x" }
  ].map((json): Case => ({ name: `reset ${JSON.stringify(json)}`, expect: [400], send: postJson(`/v1/sessions/${completed}/workspace/reset`, json) })),
  ...["?from=--output=x&to=abc1234", "?run=nope", "?bogus=1"].map(
    (q): Case => ({ name: `diff ${q}`, expect: [400], send: () => viaFetch(`/v1/sessions/${completed}/diff${q}`) })
  ),
  // ---- unknown fields, prototype keys ----
  ...[
    '{"query":"x","bogus":1}',
    '{"query":"x","__proto__":{"admin":true}}',
    '{"query":"x","constructor":{"prototype":{"admin":true}}}',
    '{"query":"x","mcpServers":{"s":{"command":"x","shell":true}}}',
    '{"query":"x","mcpServers":{"__proto__":{"command":"evil"}}}',
    '{"query":"x","query":"y","sessionId":"00000000-0000-4000-8000-000000000000"}'
  ].map((body): Case => ({ name: `unknown field ${body}`, expect: [400], send: post(L, body) })),
  { name: "decision with an unknown field", expect: [400], send: postJson(D(), { decision: "allow", approvedBy: "root" }) },
  { name: "decision that names who decided", expect: [400], send: postJson(D(), { decision: "allow", decidedBy: "admin" }) },
  // ---- media types ----
  { name: "text/plain body", expect: [415], send: post(L, '{"query":"x"}', { "content-type": "text/plain" }) },
  { name: "form body", expect: [415], send: post(L, "query=x", { "content-type": "application/x-www-form-urlencoded" }) },
  { name: "multipart body", expect: [415], send: post(L, "--b\r\n\r\nx\r\n--b--", { "content-type": "multipart/form-data; boundary=b" }) },
  { name: "json-looking type", expect: [415], send: post(L, '{"query":"x"}', { "content-type": "application/jsonx" }) },
  // ---- huge bodies ----
  { name: "a body over the limit", expect: [413], send: postJson(L, { query: "x".repeat(70_000) }) },
  { name: "a body over the limit on a decision", expect: [413], send: postJson(D(), { decision: "allow", message: "y".repeat(70_000) }) },
  {
    name: "a chunked body over the limit (no Content-Length)",
    expect: [413],
    send: () =>
      viaFetch(L, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: new ReadableStream({
          start(c) {
            c.enqueue(new TextEncoder().encode('{"query":"'))
            for (let i = 0; i < 20; i++) c.enqueue(new TextEncoder().encode("z".repeat(8192)))
            c.enqueue(new TextEncoder().encode('"}'))
            c.close()
          }
        }),
        duplex: "half"
      } as RequestInit)
  },
  {
    name: "a Content-Length of 10^12",
    expect: [413],
    send: raw(`POST ${L} HTTP/1.1\r\nHost: ${authority()}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 1000000000000\r\nConnection: close\r\n\r\n{"query":"x"}`)
  },
  // ---- deep nesting (within the size limit) ----
  { name: "arrays nested 20,000 deep", expect: [400], send: post(L, `{"query":"x","allowedTools":${nested(20_000, "[", "]")}}`) },
  { name: "objects nested 10,000 deep in mcpServers", expect: [400], send: post(L, `{"query":"x","mcpServers":${nested(10_000, '{"a":', "}")}}`) },
  { name: "objects nested 10,000 deep in updatedInput", expect: [400], send: post(D(), `{"decision":"allow","updatedInput":${nested(10_000, '{"a":', "}")}}`) },
  { name: "arrays nested 10,000 deep in updatedInput", expect: [400], send: post(D(), `{"decision":"allow","updatedInput":{"a":${nested(10_000, "[", "]")}}}`) },
  // ---- invalid UUIDs and path traversal in the URL ----
  ...[
    "/v1/sessions/not-a-uuid/continue",
    "/v1/sessions/00000000-0000-0000-0000-00000000000g/continue",
    `/v1/sessions/${randomUUID()}x/continue`,
    `/v1/sessions/${randomUUID()}%00/continue`,
    `/v1/sessions/${randomUUID()}/continue`,
    "/v1/sessions/..%2F..%2Fetc%2Fpasswd/continue",
    `/v1/approvals/${randomUUID()}/decision`,
    "/v1/approvals/%2e%2e/decision"
  ].map((path): Case => ({ name: `POST ${path}`, expect: [404], send: postJson(path, path.endsWith("/decision") ? { decision: "allow" } : { query: "x" }) })),
  ...["/v1/sessions/not-a-uuid", "/v1/sessions/%00", "/v1/sessions/' OR '1'='1", "/v1/sessions/../../../etc/passwd", "/v1/approvals/x"].map(
    (path): Case => ({ name: `GET ${path}`, expect: [404], send: get(path) })
  ),
  { name: "raw GET /v1/sessions/../../etc/passwd", expect: [404], send: rawReq("GET /v1/sessions/../../etc/passwd HTTP/1.1") },
  { name: "raw GET /../../../../etc/passwd", expect: [404], send: rawReq("GET /../../../../etc/passwd HTTP/1.1") },
  { name: "raw absolute-form URL", expect: [404], send: rawReq("GET http://evil.example/etc/passwd HTTP/1.1") },
  // ---- cwd: traversal, missing, not a directory, not a path ----
  ...[
    "/definitely/not/here",
    "/tmp/../definitely-not-here",
    "../../../../../../../../etc",
    "relative/dir",
    ".",
    "~",
    "/etc/passwd",
    "\u0000",
    "/tmp/\u0000/x",
    "/tmp/\ud800",
    "file:///tmp"
  ]
    .map((cwd) => (cwd === "/etc/passwd" ? join(scratch, "a-file") : cwd))
    .flatMap((cwd): Array<Case> => [
      { name: `launch cwd ${JSON.stringify(cwd)}`, expect: [400], send: postJson(L, { query: "x", cwd }) },
      { name: `continue cwd ${JSON.stringify(cwd)}`, expect: [400], send: postJson(C(), { query: "x", cwd }) }
    ]),
  // ---- control characters and invalid UTF-8 ----
  { name: "invalid UTF-8 in the body", expect: [400], send: post(L, Buffer.concat([Buffer.from('{"query":"'), Buffer.from([0xff, 0xfe, 0xc0, 0xaf]), Buffer.from('"}')])) },
  { name: "overlong UTF-8 encoding of /", expect: [400], send: post(L, Buffer.concat([Buffer.from('{"query":"x","cwd":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('tmp"}')])) },
  { name: "a UTF-16 body", expect: [400, 415], send: post(L, Buffer.from('{"query":"x"}', "utf16le"), { "content-type": "application/json; charset=utf-16" }) },
  { name: "raw control characters inside a JSON string", expect: [400], send: post(L, '{"query":"a\u0001b\nc"}') },
  { name: "model with a NUL", expect: [400], send: postJson(L, { query: "x", model: "son\u0000net" }) },
  { name: "model with a newline", expect: [400], send: postJson(L, { query: "x", model: "sonnet\n--dangerously-skip-permissions" }) },
  { name: "tool name with an escape sequence", expect: [400], send: postJson(L, { query: "x", allowedTools: ["Bash\u001b[2J"] }) },
  { name: "MCP command with a NUL", expect: [400], send: postJson(L, { query: "x", mcpServers: { s: { command: "/bin/sh\u0000-c" } } }) },
  { name: "MCP server name with a newline", expect: [400], send: postJson(L, { query: "x", mcpServers: { "a\nb": { command: "x" } } }) },
  { name: "MCP env name with '='", expect: [400], send: postJson(L, { query: "x", mcpServers: { s: { command: "x", env: { "PATH=/tmp:X": "1" } } } }) },
  { name: "MCP env value with a NUL", expect: [400], send: postJson(L, { query: "x", mcpServers: { s: { command: "x", env: { K: "a\u0000b" } } } }) },
  { name: "title with a NUL", expect: [400], send: () => viaFetch(`/v1/sessions/${completed}`, { method: "PATCH", json: { title: "a\u0000b" } }) },
  { name: "invalid UTF-8 in the request line", expect: [400, 404], send: raw(Buffer.concat([Buffer.from("GET /v1/sessions/"), Buffer.from([0xff, 0xc0]), Buffer.from(` HTTP/1.1\r\nHost: ${authority()}\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`)])) },
  { name: "a NUL in the request line", expect: [400], send: raw(`GET /v1/sessions\u0000 HTTP/1.1\r\nHost: ${authority()}\r\nConnection: close\r\n\r\n`) },
  // ---- query strings ----
  ...[
    "/v1/sessions?limit=0",
    "/v1/sessions?limit=-1",
    "/v1/sessions?limit=201",
    "/v1/sessions?limit=1e3",
    "/v1/sessions?limit=abc",
    "/v1/sessions?limit=1&limit=2",
    "/v1/sessions?status=bogus",
    "/v1/sessions?archived=yes",
    `/v1/sessions?q=${"q".repeat(201)}`,
    "/v1/sessions?minPosition=-1",
    "/v1/sessions?minPosition=abc",
    "/v1/sessions?minPosition=99999999999999999999999",
    "/v1/events?cursor=abc",
    // Beyond int64 (both stores' positions are signed 64-bit): 400, not a bind error or a wait.
    "/v1/events?cursor=9223372036854775808",
    "/v1/events?cursor=1-9223372036854775808",
    "/v1/events?minPosition=9223372036854775808",
    "/v1/sessions?minPosition=18446744073709551615",
    `/v1/sessions/${completed}/events?minPosition=9223372036854775808`,
    "/v1/events?after=yesterday",
    "/v1/events?session=not-a-uuid",
    "/v1/events?limit=501",
    `/v1/sessions/${completed}/events?fromRevision=-1`,
    `/v1/sessions/${completed}/events?fromRevision=1.5`,
    `/v1/sessions/${completed}/transcript?limit=0`,
    "/v1/tool-calls?decision=maybe",
    "/v1/approvals?status=all"
  ].map((path): Case => ({ name: `GET ${path.slice(0, 90)}`, expect: [400], send: get(path) })),
  // ---- headers: injection, junk, smuggling ----
  { name: "If-Match junk", expect: [400], send: postJson(C(), { query: "x" }, { "if-match": "junk" }) },
  { name: "If-Match weak", expect: [400], send: postJson(C(), { query: "x" }, { "if-match": 'W/"3"' }) },
  { name: "If-Match list", expect: [400], send: postJson(C(), { query: "x" }, { "if-match": '"1", "2"' }) },
  { name: "If-Match negative", expect: [400], send: postJson(C(), { query: "x" }, { "if-match": '"-1"' }) },
  { name: "If-Match too large", expect: [400], send: postJson(C(), { query: "x" }, { "if-match": '"99999999999999999999999"' }) },
  { name: "Idempotency-Key with spaces", expect: [400], send: postJson(L, { query: "x" }, { "idempotency-key": "a key" }) },
  { name: "Idempotency-Key of 256 characters", expect: [400], send: postJson(L, { query: "x" }, { "idempotency-key": "k".repeat(256) }) },
  { name: "Idempotency-Key empty", expect: [400], send: rawReq(`POST ${L} HTTP/1.1\r\nContent-Type: application/json\r\nIdempotency-Key: `, '{"query":"x"}') },
  { name: "Idempotency-Key not ASCII", expect: [400], send: raw(Buffer.concat([Buffer.from(`POST ${L} HTTP/1.1\r\nHost: ${authority()}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nIdempotency-Key: k`), Buffer.from([0xe2, 0x80, 0xa8]), Buffer.from(`\r\nContent-Length: 13\r\nConnection: close\r\n\r\n{"query":"x"}`)])) },
  { name: "Last-Event-ID junk", expect: [400], send: get(`/v1/sessions/${completed}/events/live`, { "last-event-id": "abc" }) },
  { name: "lastEventId junk", expect: [400], send: get(`/v1/sessions/${completed}/events/live?lastEventId=-1`) },
  { name: "header injection through X-Request-Id (CRLF)", expect: [400], send: rawReq("GET /v1/nope HTTP/1.1\r\nX-Request-Id: a\rSet-Cookie: x=1") },
  { name: "a header with a NUL", expect: [400], send: rawReq("GET /v1/sessions HTTP/1.1\r\nX-Note: a\u0000b") },
  { name: "a header line without a colon", expect: [400], send: rawReq("GET /v1/sessions HTTP/1.1\r\nNoColonHere") },
  { name: "obsolete line folding", expect: [400], send: rawReq("GET /v1/sessions HTTP/1.1\r\nX-Folded: a\r\n b") },
  { name: "two different Content-Lengths", expect: [400], send: raw(`POST ${L} HTTP/1.1\r\nHost: ${authority()}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 13\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{"query":"x"}`) },
  { name: "Content-Length and chunked (smuggling)", expect: [400], send: raw(`POST ${L} HTTP/1.1\r\nHost: ${authority()}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\nGET /v1/sessions HTTP/1.1\r\n\r\n`) },
  { name: "a negative Content-Length", expect: [400], send: raw(`POST ${L} HTTP/1.1\r\nHost: ${authority()}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: -1\r\nConnection: close\r\n\r\n`) },
  { name: "an unknown transfer coding", expect: [400, 501], send: raw(`POST ${L} HTTP/1.1\r\nHost: ${authority()}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nTransfer-Encoding: gzip, chunked\r\nConnection: close\r\n\r\n0\r\n\r\n`) },
  { name: "headers over 16 KB", expect: [431], send: rawReq(`GET /v1/sessions HTTP/1.1\r\nX-Big: ${"b".repeat(20_000)}`) },
  { name: "a URL over 16 KB", expect: [414, 431], send: rawReq(`GET /v1/sessions?q=${"u".repeat(20_000)} HTTP/1.1`) },
  { name: "not HTTP at all", expect: [400], send: raw("HELLO THERE\r\n\r\n") },
  { name: "HTTP/0.9-style request", expect: [400, 401, 403], send: raw("GET /v1/sessions\r\n\r\n") },
  { name: "an unknown method", expect: [400, 405, 501], send: rawReq("BREW /v1/sessions HTTP/1.1") },
  { name: "DELETE a session", expect: [405], send: () => viaFetch(`/v1/sessions/${completed}`, { method: "DELETE" }) },
  { name: "PUT the list", expect: [405], send: () => viaFetch(L, { method: "PUT", json: { query: "x" } }) },
  { name: "TRACE", expect: [405], send: rawReq("TRACE /v1/sessions HTTP/1.1") },
  // ---- tokens ----
  ...[
    { name: "no token", headers: {}, token: null },
    { name: "a wrong token", headers: { authorization: "Bearer wrong-token-0123456789abcdef" } },
    { name: "the token with one more character", headers: { authorization: `Bearer ${token}x` } },
    { name: "a prefix of the token", headers: { authorization: `Bearer ${token.slice(0, -1)}` } },
    { name: "Basic with the token", headers: { authorization: `Basic ${Buffer.from(`x:${token}`).toString("base64")}` } },
    { name: "the bare token", headers: { authorization: token } },
    { name: "Bearer and nothing", headers: { authorization: "Bearer " } },
    { name: "two tokens", headers: { authorization: `Bearer ${token} ${token}` } },
    { name: "the token in X-Api-Key", headers: { "x-api-key": token } }
  ].flatMap((t): Array<Case> => [
    { name: `launch with ${t.name}`, expect: [401], send: () => viaFetch(L, { method: "POST", json: { query: "x" }, token: null, headers: t.headers }) },
    { name: `decision with ${t.name}`, expect: [401], send: () => viaFetch(D(), { method: "POST", json: { decision: "allow" }, token: null, headers: t.headers }) },
    { name: `list with ${t.name}`, expect: [401], send: () => viaFetch(L, { token: null, headers: t.headers }) }
  ]),
  { name: "the token in the query string", expect: [401], send: () => viaFetch(`${L}?access_token=${token}`, { token: null }) },
  { name: "SSE without the token", expect: [401], send: () => viaFetch(`/v1/sessions/${completed}/events/live`, { token: null }) },
  // ---- foreign Host (DNS rebinding) and foreign Origin (cross-site), with the right token ----
  ...[
    "attacker.example.com",
    `attacker.example.com:${new URL(h.url).port}`,
    `localhost:${Number(new URL(h.url).port) + 1}`,
    `127.0.0.1.nip.io:${new URL(h.url).port}`,
    `[::ffff:127.0.0.1]:${new URL(h.url).port}`,
    `evil.example@127.0.0.1:${new URL(h.url).port}`
  ].flatMap((host): Array<Case> => [
    { name: `rebinding launch with Host ${host}`, expect: [400, 403], send: rawHost(host, `POST ${L} HTTP/1.1`, JSON.stringify(rebindingAttack), { Origin: `http://${host}` }) },
    { name: `list with Host ${host}`, expect: [400, 403], send: rawHost(host, `GET ${L} HTTP/1.1`) },
    { name: `SSE with Host ${host}`, expect: [400, 403], send: rawHost(host, `GET /v1/sessions/${completed}/events/live HTTP/1.1`) },
    { name: `page with Host ${host}`, expect: [400, 403], send: rawHost(host, "GET / HTTP/1.1") }
  ]),
  { name: "a request without Host", expect: [403], send: raw(`POST ${L} HTTP/1.0\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{"query":"x"}`) },
  { name: "two Host headers", expect: [400, 403], send: raw(`POST ${L} HTTP/1.1\r\nHost: ${authority()}\r\nHost: attacker.example.com\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 13\r\nConnection: close\r\n\r\n{"query":"x"}`) },
  ...["http://attacker.example.com", `http://localhost:${Number(new URL(h.url).port) + 1}`, "null", "file://", "junk"].flatMap((origin): Array<Case> => [
    { name: `launch from Origin ${origin}`, expect: [403], send: postJson(L, rebindingAttack, { origin }) },
    { name: `decision from Origin ${origin}`, expect: [403], send: postJson(D(), { decision: "allow" }, { origin }) },
    { name: `SSE from Origin ${origin}`, expect: [403], send: get(`/v1/sessions/${completed}/events/live`, { origin }) },
    { name: `CORS preflight from Origin ${origin}`, expect: [403], send: () => viaFetch(L, { method: "OPTIONS", token: null, headers: { origin, "access-control-request-method": "POST" } }) }
  ]),
  { name: "a text/plain launch from another origin (a form or no-cors fetch)", expect: [403, 415], send: post(L, JSON.stringify(rebindingAttack), { "content-type": "text/plain", origin: "http://attacker.example.com" }) },
  { name: "a launch marked Sec-Fetch-Site: cross-site", expect: [403], send: postJson(L, rebindingAttack, { "sec-fetch-site": "cross-site" }) },
  { name: "a rename marked Sec-Fetch-Site: same-site", expect: [403], send: () => viaFetch(`/v1/sessions/${completed}`, { method: "PATCH", json: { title: "x" }, headers: { "sec-fetch-site": "same-site" } }) },
  // ---- principals and the audit report ----
  ...["from=yesterday", "to=2026-13-01T00:00:00Z", "from=2026-01-01T00:00:00Z'%20OR%201=1", "format=xml", "format=csv&format=json", "from=", "limit=5"].map(
    (q): Case => ({ name: `audit report with ${q}`, expect: [400], send: get(`/v1/audit/approvals?${q}`) })
  ),
  ...["actor=", `actor=${"a".repeat(201)}`].map((q): Case => ({ name: `events by ${q.slice(0, 20)}`, expect: [400], send: get(`/v1/events?${q}`) })),
  ...["decidedBy=", `decidedBy=${"b".repeat(201)}`].flatMap((q): Array<Case> => [
    { name: `approvals by ${q.slice(0, 20)}`, expect: [400], send: get(`/v1/approvals?${q}`) },
    { name: `tool calls by ${q.slice(0, 20)}`, expect: [400], send: get(`/v1/tool-calls?${q}`) }
  ]),
  ...[`al_${"A".repeat(43)}`, `al_${"A".repeat(43)}x`, "al_", `${token} al_x`].map(
    (key): Case => ({ name: `a launch with a made-up key ${key.slice(0, 12)}`, expect: [401], send: () => viaFetch(L, { method: "POST", json: { query: "x" }, token: key }) })
  ),
  { name: "the page's login with a made-up key", expect: [401], send: () => viaFetch("/v1/web/session", { method: "POST", json: { token: `al_${"B".repeat(43)}` }, token: null }) },
  { name: "a forged key cookie", expect: [401], send: () => viaFetch(L, { token: null, headers: { cookie: `agentlog_session=k.000000000000.${"C".repeat(43)}` } }) },
  // ---- webhooks ----
  ...((hook = { url: "https://127.0.0.1:9/hook", events: ["session.ended"], secret: "s".repeat(20) }) => [
    { name: "malformed JSON on a webhook", expect: [400], send: post("/v1/webhooks", "{") },
    ...["[]", "null", '"url"', "42"].map((body): Case => ({ name: `webhook body ${body}`, expect: [400], send: post("/v1/webhooks", body) })),
    ...[
      {},
      { ...hook, url: 1 },
      { url: hook.url, events: hook.events },
      { ...hook, secret: "short" },
      { ...hook, secret: "s".repeat(300) },
      { ...hook, events: "session.ended" },
      { ...hook, events: [] },
      { ...hook, events: [""] },
      { ...hook, events: ["approval.*"] },
      { ...hook, events: ["__proto__"] },
      { ...hook, events: Array.from({ length: 101 }, () => "session.ended") },
      { ...hook, url: "javascript:alert(1)" },
      { ...hook, url: "file:///etc/passwd" },
      { ...hook, url: "gopher://127.0.0.1:70/x" },
      { ...hook, url: "https://user:pass@127.0.0.1/x" },
      { ...hook, url: "http://169.254.169.254/latest/meta-data" },
      { ...hook, url: "http://10.0.0.1/x" },
      { ...hook, url: "//127.0.0.1/x" },
      { ...hook, url: "https://127.0.0.1/x#frag" },
      { ...hook, url: `https://127.0.0.1/${"u".repeat(2_100)}` },
      { ...hook, description: "d".repeat(1_001) },
      { ...hook, secretRef: "x" },
      { ...hook, status: "paused" }
    ].map((json): Case => ({ name: `webhook ${JSON.stringify(json).slice(0, 90)}`, expect: [400], send: postJson("/v1/webhooks", json) })),
    { name: "webhook objects nested 10,000 deep", expect: [400], send: post("/v1/webhooks", `{"url":"https://127.0.0.1/x","secret":"${"s".repeat(20)}","events":${nested(10_000, "[", "]")}}`) },
    { name: "a webhook body over the limit", expect: [413], send: postJson("/v1/webhooks", { ...hook, description: "x".repeat(70_000) }) },
    { name: "a webhook list with a query", expect: [400], send: get("/v1/webhooks?secret=1") },
    ...["/v1/webhooks/not-a-uuid", "/v1/webhooks/%00", `/v1/webhooks/${randomUUID()}`, `/v1/webhooks/${randomUUID()}/deliveries`].map(
      (path): Case => ({ name: `GET ${path}`, expect: [404], send: get(path) })
    ),
    { name: "DELETE an unknown webhook", expect: [404], send: () => viaFetch(`/v1/webhooks/${randomUUID()}`, { method: "DELETE" }) },
    { name: "resume an unknown webhook", expect: [404], send: postJson(`/v1/webhooks/${randomUUID()}/resume`, {}) },
    { name: "resume with a starting point", expect: [400], send: postJson(`/v1/webhooks/${webhookId}/resume`, { from: "start" }) },
    { name: "resume an active webhook", expect: [409], send: postJson(`/v1/webhooks/${webhookId}/resume`, {}) },
    { name: "pause with a number for a reason", expect: [400], send: postJson(`/v1/webhooks/${webhookId}/pause`, { reason: 5 }) },
    { name: "pause with an empty reason", expect: [400], send: postJson(`/v1/webhooks/${webhookId}/pause`, { reason: "" }) },
    { name: "PUT a webhook", expect: [405], send: () => viaFetch(`/v1/webhooks/${webhookId}`, { method: "PUT", json: hook }) },
    { name: "PATCH a webhook", expect: [405], send: () => viaFetch(`/v1/webhooks/${webhookId}`, { method: "PATCH", json: { url: hook.url } }) },
    { name: "register a webhook without the token", expect: [401], send: () => viaFetch("/v1/webhooks", { method: "POST", json: hook, token: null }) },
    { name: "register a webhook from another Origin", expect: [403], send: postJson("/v1/webhooks", hook, { origin: "http://attacker.example.com" }) }
  ])(),
  // ---- replayed idempotency keys ----
  { name: "a replayed key with another body", expect: [422], send: postJson(L, { query: "second" }, { "idempotency-key": replayKey }) },
  { name: "a replayed key with another option", expect: [422], send: postJson(L, { query: "first", maxTurns: 2 }, { "idempotency-key": replayKey }) },
  { name: "a replayed key with an invalid body", expect: [400], send: postJson(L, { query: 5 }, { "idempotency-key": replayKey }) },
  // ---- follow-ups, attempts, files touched (issue 12) ----
  ...['{"query":', "[]", "null", '{"query":5}', '{"query":""}', '{"title":"x"}', '{"surprise":1}', '{"maxTurns":"2"}', '{"cwd":"relative/dir"}', `{"cwd":"/no/such/dir"}`, '{"permissionMode":"bypassPermissions","bypassExpiresInMs":1e12}', '{"bypassExpiresInMs":60000}'].map(
    (body): Case => ({
      name: `follow-up edit ${body}`,
      expect: [400],
      send: () => viaFetch(`/v1/sessions/${runningId}/follow-ups/${followUpId}`, { method: "PATCH", body, headers: { "content-type": "application/json" } })
    })
  ),
  ...["not-a-uuid", "..%2F..%2Fetc%2Fpasswd", "%00", `${randomUUID()}x`].map(
    (id): Case => ({ name: `follow-up ${id.slice(0, 20)}`, expect: [404], send: postJson(`/v1/sessions/${runningId}/follow-ups/${id}/cancel`, {}) })
  ),
  { name: "cancel an unknown follow-up", expect: [404], send: postJson(`/v1/sessions/${runningId}/follow-ups/${randomUUID()}/cancel`, {}) },
  { name: "send a follow-up while its run is active", expect: [409], send: postJson(`/v1/sessions/${runningId}/follow-ups/${followUpId}/send`, {}) },
  { name: "cancel a follow-up with a body", expect: [400], send: postJson(`/v1/sessions/${runningId}/follow-ups/${followUpId}/cancel`, { why: "x" }) },
  { name: "edit a follow-up with a stale If-Match", expect: [412], send: () => viaFetch(`/v1/sessions/${runningId}/follow-ups/${followUpId}`, { method: "PATCH", json: { query: "x" }, headers: { "if-match": '"0"' } }) },
  { name: "a follow-up edit with an MCP secret", expect: [400], send: () => viaFetch(`/v1/sessions/${runningId}/follow-ups/${followUpId}`, { method: "PATCH", json: { mcpServers: { s: { command: "x", env: { T: "secret" } } } } }) },
  ...[0, 1, 9, -2, 2.5, "3", null, 1e308].map((attempts): Case => ({ name: `launch with attempts ${String(attempts)}`, expect: [400], send: postJson(L, { query: "x", attempts }) })),
  { name: "a replayed key with attempts added", expect: [422], send: postJson(L, { query: "first", attempts: 2 }, { "idempotency-key": replayKey }) },
  ...["not-a-uuid", "..%2F..", "%00"].map((id): Case => ({ name: `group ${id}`, expect: [404], send: get(`/v1/groups/${id}`) })),
  ...["..%2F..%2F..%2Fetc%2Fpasswd", "%00", "%2Fetc%2Fshadow", "a".repeat(2000)].map(
    (path): Case => ({ name: `file history ${path.slice(0, 24)}`, expect: [404], send: get(`/v1/sessions/${completed}/files/${path}/history`) })
  ),
  { name: "files of an unknown session", expect: [404], send: get(`/v1/sessions/${randomUUID()}/files`) },
  // ---- commands the session's state refuses ----
  { name: "interrupt a completed session", expect: [409], send: postJson(`/v1/sessions/${completed}/interrupt`, {}) },
  { name: "continue with a stale If-Match", expect: [412], send: postJson(C(), { query: "x" }, { "if-match": '"0"' }) },
  { name: "decide an unknown approval", expect: [404], send: postJson(`/v1/approvals/${randomUUID()}/decision`, { decision: "allow" }) }
]

describe("hostile input over real HTTP", () => {
  it("every input gets its 4xx as problem+json, appends nothing, and the service stays up", async () => {
    const tally = new Tally()
    let reused = 0
    for (const c of corpus()) {
      const before = await head()
      let sent: Sent
      try {
        try {
          sent = await c.send()
        } catch (e) {
          // A kept-alive connection that the server closed after an earlier answer whose body
          // it did not read (it drains such bodies for 500 ms at most, then closes): under a
          // loaded machine the client may reuse it just then. The request was never read.
          if ((e as { cause?: { code?: string } }).cause?.code !== "UND_ERR_SOCKET") throw e
          reused++
          sent = await c.send()
        }
      } catch (e) {
        const cause = (e as { cause?: { code?: string; message?: string } }).cause
        tally.failures.push(`${c.name}: ${e instanceof Error ? e.message : String(e)}${cause ? ` (${cause.code ?? ""} ${cause.message ?? ""})` : ""}`)
        continue
      }
      // Anything appended by a refused command would be appended before its answer; give
      // the store a moment anyway, then compare heads.
      await new Promise((r) => setTimeout(r, 2))
      const after = await head()
      tally.record(c.name, sent.status, Number(after - before), sent.contentType.startsWith("application/problem+json"), c.expect)
      if (sent.status >= 400 && sent.contentType.startsWith("application/problem+json")) {
        const p = JSON.parse(sent.body) as Record<string, unknown>
        if (p.status !== sent.status) tally.failures.push(`${c.name}: problem status ${String(p.status)} in a ${sent.status}`)
        if (/\bat .+:\d+:\d+/.test(sent.body)) tally.failures.push(`${c.name}: a stack trace in the answer`)
      }
      if (sent.requestId && !/^[A-Za-z0-9._:-]{1,128}$/.test(sent.requestId)) tally.failures.push(`${c.name}: echoed request id ${JSON.stringify(sent.requestId)}`)
      const alive = await h.fetch("/healthz", { token: null })
      if (alive.status !== 200) tally.failures.push(`${c.name}: /healthz answered ${alive.status} afterwards`)
    }
    const internal = h.logs.filter((l) => l.msg === "request failed")
    console.log(
      `hostile corpus: inputs tried ${tally.inputs}, 5xx seen ${tally.fiveXx}, appends from rejected input ${tally.appendsFromRejected} ` +
        `(refused ${tally.rejected}, internal errors logged ${internal.length}, resent after a closed keep-alive connection ${reused})`
    )
    if (tally.failures.length > 0) console.log(tally.failures.join("\n"))
    expect(tally.failures).toEqual([])
    expect(tally.fiveXx).toBe(0)
    expect(tally.appendsFromRejected).toBe(0)
    expect(internal).toEqual([])
  })

  it("closes the connection after an answer that left the request body unread, keeps it otherwise", async () => {
    const request = (headers: string, body: string) =>
      rawRequest(h.url, `POST ${L} HTTP/1.1\r\nHost: ${authority()}\r\n${headers}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
    const body = JSON.stringify({ query: 5 })
    const unauthorized = await request("Content-Type: application/json\r\n", body)
    expect([unauthorized.status, unauthorized.headers.connection]).toEqual([401, "close"])
    const wrongType = await request(`Authorization: Bearer ${token}\r\nContent-Type: text/plain\r\n`, body)
    expect([wrongType.status, wrongType.headers.connection]).toEqual([415, "close"])
    const read = await request(`Authorization: Bearer ${token}\r\nContent-Type: application/json\r\n`, body)
    expect(read.status).toBe(400)
    expect(read.headers.connection).not.toBe("close")
  })
})
