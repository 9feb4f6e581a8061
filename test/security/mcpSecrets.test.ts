// MCP values outside env and headers: a URL's credentials and query are secrets too (stored
// redacted, used in clear for the run), and a full run queue refuses new runs with 503
// problem+json before anything is appended, so queued secrets stay bounded in memory.
import { Effect } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { redactOptions, redactUrl } from "../../src/domain/sessionOptions.ts"
import { startHarness, type Harness } from "../http/httpHarness.ts"

describe("MCP URLs", () => {
  it("keep scheme, host and path; lose credentials, query and fragment", () => {
    expect(redactUrl("https://user:pa55@mcp.example.com:8443/v1/sse?token=abc&x=1#frag")).toBe(
      "https://[redacted]@mcp.example.com:8443/v1/sse?[redacted]#[redacted]"
    )
    expect(redactUrl("http://127.0.0.1:9/mcp")).toBe("http://127.0.0.1:9/mcp")
    const stored = redactOptions({
      mcpServers: { r: { type: "http", url: "https://k:s3cret@h.example/p?api_key=s3cret", headers: { A: "s3cret" } } }
    })
    expect(JSON.stringify(stored)).not.toContain("s3cret")
  })
})

describe("through the API", () => {
  let h: Harness | undefined
  afterEach(async () => {
    h?.killClaudes()
    await h?.close()
    h = undefined
  })

  it("stores a launch's MCP URL redacted", async () => {
    h = await startHarness()
    const r = await h.fetch("/v1/sessions", {
      method: "POST",
      json: { query: "q", mcpServers: { r: { type: "sse", url: "https://bob:hunter2@mcp.example/sse?token=tok-777" } } }
    })
    expect(r.status).toBe(202)
    const { sessionId } = (await r.json()) as { sessionId: string }
    const events = JSON.stringify(await h.events(sessionId), (_k, v) => (typeof v === "bigint" ? String(v) : v))
    expect(events).not.toMatch(/hunter2|tok-777/)
    expect(events).toContain("https://[redacted]@mcp.example/sse?[redacted]")
  })

  it("refuses runs past AGENTLOG_MAX_QUEUED with 503 problem+json, appending nothing", async () => {
    h = await startHarness({ hangingClaude: true, maxRunning: 1, maxQueued: 2 })
    const launch = () => h!.fetch("/v1/sessions", { method: "POST", json: { query: "q" } })
    const statuses = []
    for (let i = 0; i < 3; i++) statuses.push((await launch()).status)
    expect(statuses).toEqual([202, 202, 202])
    const before = await Effect.runPromise(h.store.headPosition())
    const full = await launch()
    expect(full.status).toBe(503)
    expect(full.headers.get("content-type")).toMatch(/application\/problem\+json/)
    expect(full.headers.get("retry-after")).toBe("5")
    expect(((await full.json()) as { type: string }).type).toMatch(/queue-full/)
    const after = await Effect.runPromise(h.store.headPosition())
    expect(after).toEqual(before)
  })
})
