// Auth and secrets, against the real service process (`node src/main.ts`) with
// AGENTLOG_API_TOKEN set and sessions run through the real `claude` binary:
// - every route of the route table, and every operation of the served OpenAPI document
//   (the two must agree, so a new route is covered without touching this test), refuses a
//   missing or wrong token with 401 problem+json, /healthz excepted; SSE too;
// - the token is compared in constant time (timingSafeEqual over digests, no ===);
// - a non-loopback bind without a token is refused at start-up;
// - no secret (the Anthropic API key, MCP env values and header values, the API token)
//   reaches an event, a read model, a log line of the service, or any response.
import { spawnSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ConfigError, loadConfig } from "../../src/config.ts"
import { allRoutes } from "../../src/http/routes.ts"
import { FAKE_API_KEY, type ClaudeEnv } from "../support/claudeEnv.ts"
import type { FakeAnthropic } from "../support/fakeAnthropic.ts"
import { closeOfflineWorld, openOfflineWorld } from "../support/offlineWorld.ts"
import { startServiceProcess, type ServiceProcess } from "../support/serviceProcess.ts"
import { openSse } from "../http/sseClient.ts"
import { dump, openReadDb } from "../projections/projectionsFixtures.ts"
import { readAllEvents, serviceEnv } from "../crash/crashHarness.ts"

const root = fileURLToPath(new URL("../..", import.meta.url))
const token = `agentlog-token-${"7".repeat(24)}`
const mcpEnvSecret = "mcp-env-secret-value-1f2e3d4c5b6a"
const mcpHeaderSecret = "mcp-header-secret-value-9a8b7c6d"
const continueSecret = "continue-override-secret-4242"
const forkSecret = "fork-override-secret-5353"
const secrets = [token, FAKE_API_KEY, mcpEnvSecret, mcpHeaderSecret, continueSecret, forkSecret]

let fake: FakeAnthropic
let claude: ClaudeEnv
let dataDir: string
let service: ServiceProcess | undefined

beforeAll(async () => {
  ;({ fake, claude, dataDir } = await openOfflineWorld("auth"))
})

afterAll(async () => {
  await closeOfflineWorld({ fake, claude, dataDir }, service)
})

const authed = { authorization: `Bearer ${token}` }

/** Every response body and header the test saw, to look for secrets afterwards. */
const seen: Array<string> = []
const call = async (path: string, init: RequestInit = {}, auth = true) => {
  const headers = new Headers(init.headers)
  if (auth && !headers.has("authorization")) headers.set("authorization", authed.authorization)
  if (init.body !== undefined && !headers.has("content-type")) headers.set("content-type", "application/json")
  const r = await fetch(`${service!.url}${path}`, { ...init, headers })
  const body = await r.text()
  seen.push(`${r.status} ${path}\n${[...r.headers].map(([k, v]) => `${k}: ${v}`).join("\n")}\n${body}`)
  return { status: r.status, body, json: () => JSON.parse(body), contentType: r.headers.get("content-type") ?? "" }
}

const waitFor = async (sessionId: string, statuses: ReadonlyArray<string>) => {
  const deadline = Date.now() + 30_000
  for (;;) {
    const r = await call(`/v1/sessions/${sessionId}`)
    if (r.status === 200 && statuses.includes(r.json().status)) return r.json()
    if (Date.now() > deadline) throw new Error(`session ${sessionId} never reached ${statuses.join("/")}: ${r.body}`)
    await new Promise((res) => setTimeout(res, 100))
  }
}

describe("auth and secrets, through the service process", () => {
  let sessionId = ""
  let approvalId = ""

  it("runs sessions with MCP secrets through the real claude, with the token", async () => {
    service = await startServiceProcess({
      dataDir,
      claude,
      env: { AGENTLOG_API_TOKEN: token, AGENTLOG_LOG_LEVEL: "debug", AGENTLOG_MCP_ENV_ALLOW: "HOME" }
    })
    fake.setScript([
      { text: "let me write", toolUse: { name: "Write", input: { file_path: join(claude.cwd, "a.txt"), content: "hello" } } },
      { text: "written" }
    ])
    const launched = await call("/v1/sessions", {
      method: "POST",
      body: JSON.stringify({
        query: "write a file",
        cwd: claude.cwd,
        title: "secrets",
        mcpServers: {
          vault: { command: "/bin/false", env: { VAULT_TOKEN: mcpEnvSecret, HOME_REF: "${HOME}" } },
          remote: { type: "http", url: "http://127.0.0.1:9/mcp", headers: { Authorization: `Bearer ${mcpHeaderSecret}` } }
        }
      })
    })
    expect(launched.status, launched.body).toBe(202)
    sessionId = launched.json().sessionId
    const waiting = await waitFor(sessionId, ["waiting_approval", "completed", "failed"])
    expect(waiting.status).toBe("waiting_approval")
    const pending = (await call(`/v1/approvals?status=pending&session=${sessionId}`)).json().items
    approvalId = pending[0].approvalId
    expect((await call(`/v1/approvals/${approvalId}/decision`, { method: "POST", body: JSON.stringify({ decision: "allow" }) })).status).toBe(202)
    expect((await waitFor(sessionId, ["completed", "failed"])).status).toBe("completed")

    fake.setScript([{ text: "continued" }])
    const cont = await call(`/v1/sessions/${sessionId}/continue`, {
      method: "POST",
      body: JSON.stringify({ query: "again", mcpServers: { vault: { command: "/bin/false", env: { VAULT_TOKEN: continueSecret } } } })
    })
    expect(cont.status, cont.body).toBe(202)
    expect((await waitFor(sessionId, ["completed", "failed"])).status).toBe("completed")
    fake.setScript([{ text: "forked" }])
    const fork = await call(`/v1/sessions/${sessionId}/fork`, {
      method: "POST",
      body: JSON.stringify({ query: "other way", mcpServers: { vault: { command: "/bin/false", env: { VAULT_TOKEN: forkSecret } } } })
    })
    expect(fork.status, fork.body).toBe(202)
    expect((await waitFor(fork.json().sessionId, ["completed", "failed"])).status).toBe("completed")
  })

  it("every route in the route table and in the served OpenAPI document refuses a missing or wrong token; /healthz stays open", async () => {
    const doc = (await call("/openapi.json")).json() as { paths: Record<string, Record<string, unknown>> }
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).filter((m) => ["get", "post", "patch", "put", "delete"].includes(m)).map((m) => `${m.toUpperCase()} ${path}`))
      .sort()
    const table = allRoutes.map((r) => `${r.method} ${r.path.replace(/:([A-Za-z]+)/g, "{$1}")}`).sort()
    expect(documented).toEqual(table)
    const ids: Record<string, string> = { "/v1/approvals": approvalId, "/v1/sessions": sessionId }
    const concrete = (path: string) => path.replace(/^(\/v1\/\w+)\/\{id\}/, (_m, base: string) => `${base}/${ids[base] ?? sessionId}`)
    let refused = 0
    for (const op of documented) {
      const [method, template] = op.split(" ") as [string, string]
      const path = concrete(template)
      const body = method === "GET" ? undefined : "{}"
      for (const authorization of [undefined, "Bearer wrong-token-000000000000000000", `Bearer ${token.slice(0, -1)}`, `Bearer ${token}0`, `Basic ${token}`, token]) {
        const r = await call(path, { method, ...(body ? { body } : {}), headers: authorization ? { authorization } : {} }, false)
        if (template === "/healthz") {
          expect(r.status, `${op} is open`).toBe(200)
          continue
        }
        // The dashboard's login routes are open by design (auth: false in the table).
        if (template === "/v1/web/session") {
          expect(r.status, `${op} is open`).not.toBe(401)
          continue
        }
        expect(r.status, `${op} with ${authorization ?? "no token"}`).toBe(401)
        expect(r.contentType).toMatch(/^application\/problem\+json/)
        refused++
      }
      // And with the token the route is reached (not refused by auth); a live stream is only opened.
      if (template.endsWith("/live")) continue
      const ok = await call(path, { method, ...(body ? { body } : {}) })
      expect(ok.status, `${op} with the token: ${ok.body}`).not.toBe(401)
    }
    // SSE checks the token too, and streams with it.
    for (const headers of [{}, { authorization: "Bearer nope-nope-nope-nope-nope" }] as Array<Record<string, string>>) {
      const sse = await openSse(`${service!.url}/v1/sessions/${sessionId}/events/live`, headers)
      expect(sse.response.status).toBe(401)
      sse.close()
    }
    const sse = await openSse(`${service!.url}/v1/sessions/${sessionId}/events/live`, authed)
    expect(sse.response.status).toBe(200)
    const frames = await sse.waitForFrames(5)
    seen.push(frames.map((f) => f.data).join("\n"))
    sse.close()
    console.log(`auth: ${documented.length} documented operations (= the route table), ${refused} refusals checked, /healthz open`)
  })

  it("compares the token in constant time", () => {
    const source = readFileSync(join(root, "src/http/auth.ts"), "utf8")
    expect(source).toMatch(/import \{[^}]*\btimingSafeEqual\b[^}]*\} from "node:crypto"/)
    expect(source).toMatch(/timingSafeEqual\(/)
    // Equal-length digests, so timingSafeEqual never throws and the token's length does not leak.
    expect(source).toMatch(/createHash\("sha256"\)/)
    expect(source).not.toMatch(/(token|apiToken|presented)\s*[!=]==?\s*(token|apiToken|presented|expected)/)
  })

  it("leaks no secret into responses, events, read models or log lines", async () => {
    // Responses: every read, in every representation, plus errors.
    const reads = [
      "/v1/sessions",
      `/v1/sessions/${sessionId}`,
      `/v1/sessions/${sessionId}/transcript`,
      `/v1/sessions/${sessionId}/events?limit=1000`,
      "/v1/events?limit=500",
      "/v1/tool-calls",
      "/v1/approvals",
      `/v1/approvals/${approvalId}`,
      "/openapi.json",
      "/readyz",
      "/v1/nope"
    ]
    for (const p of reads) await call(p)
    await call(`/v1/sessions/${sessionId}/events`, { headers: { accept: "application/x-ndjson" } })
    await call(`/v1/sessions/${sessionId}/continue`, { method: "POST", body: JSON.stringify({ query: "x", mcpServers: { v: { command: "x", env: { K: mcpEnvSecret } } }, bogus: 1 }) })
    await call("/v1/sessions", {}, false)
    await call("/v1/sessions", { headers: { authorization: `Bearer ${token}x` } }, false)
    const responses = seen.join("\n")
    expect(responses).toContain("[redacted]")
    expect(responses).toContain("${HOME}")

    // The service's own log lines (stderr and stdout, at debug level), up to its exit.
    const serviceLogs = service!.logs
    expect(await service!.stop()).toBe(0)
    service = undefined
    const logs = JSON.stringify(serviceLogs)
    const events = JSON.stringify(await readAllEvents(dataDir), (_k, v) => (typeof v === "bigint" ? `${v}` : v))
    const readDb = openReadDb(dataDir)
    const readModels = dump(readDb)
    readDb.close()
    const places: Record<string, string> = { responses, events, readModels, logs }
    const leaks: Array<string> = []
    for (const [where, text] of Object.entries(places))
      for (const s of secrets) if (text.includes(s)) leaks.push(`${where} contains ${s.slice(0, 12)}…`)
    console.log(
      `secrets: ${secrets.length} secrets looked for in ${seen.length} responses, ${events.length} bytes of events, ` +
        `${readModels.length} bytes of read models, ${serviceLogs.length} log lines: leaks ${leaks.length}`
    )
    expect(leaks).toEqual([])
    // The claude processes did get the MCP secrets: the record, not the runs, leaves them out.
    expect(events).toContain('"VAULT_TOKEN":"[redacted]"')
  })

  it("refuses a non-loopback bind without a token, at start-up", () => {
    for (const host of ["0.0.0.0", "::", "192.168.1.10", "10.1.2.3", "example.com", "127.0.0.1.nip.io", "0"]) {
      expect(() => loadConfig({ AGENTLOG_HOST: host }), host).toThrow(ConfigError)
      expect(() => loadConfig({ AGENTLOG_HOST: host, AGENTLOG_API_TOKEN: "short" }), `${host} with a short token`).toThrow(ConfigError)
      expect(loadConfig({ AGENTLOG_HOST: host, AGENTLOG_API_TOKEN: token }).apiToken).toBe(token)
    }
    for (const host of ["127.0.0.1", "127.8.9.10", "::1", "localhost"]) expect(loadConfig({ AGENTLOG_HOST: host }).host).toBe(host)
    // The process itself: exits 1 with the reason, without listening.
    const r = spawnSync(process.execPath, [join(root, "src/main.ts")], {
      env: { ...serviceEnv(claude, join(dataDir, "never")), AGENTLOG_HOST: "0.0.0.0" },
      encoding: "utf8",
      timeout: 20_000
    })
    expect(r.status).toBe(1)
    expect(r.stderr).toContain("AGENTLOG_API_TOKEN")
    expect(r.stderr).not.toContain("listening")
  })
})
