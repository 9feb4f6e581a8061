// What decides how a run is fenced in: the token file, Claude's environment, the sandbox
// setting, bypassPermissions without a sandbox, and which variables an MCP `${VAR}` may name.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, afterEach, describe, expect, it } from "vitest"
import { claudeEnv, ConfigError, loadConfig } from "../../src/config.ts"
import { protectionFor, type RunPolicy } from "../../src/process/sandbox.ts"
import { startSupervisorHarness, type SupervisorHarness } from "../support/supervisorHarness.ts"

const dir = mkdtempSync(join(tmpdir(), "agentlog-policy-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const tokenFile = (name: string, mode: number, text = "a-token-of-enough-length-42\n") => {
  const f = join(dir, name)
  writeFileSync(f, text)
  chmodSync(f, mode)
  return f
}

describe("configuration", () => {
  it("reads the token from a 0600 file, and refuses one others can read", () => {
    const ok = tokenFile("ok", 0o600)
    expect(loadConfig({ AGENTLOG_API_TOKEN_FILE: ok })).toMatchObject({ apiToken: "a-token-of-enough-length-42", apiTokenFile: ok })
    expect(() => loadConfig({ AGENTLOG_API_TOKEN_FILE: tokenFile("open", 0o644) })).toThrow(/open to other users.*chmod 600/)
    expect(() => loadConfig({ AGENTLOG_API_TOKEN_FILE: join(dir, "missing") })).toThrow(ConfigError)
    expect(() => loadConfig({ AGENTLOG_API_TOKEN_FILE: ok, AGENTLOG_API_TOKEN: "x".repeat(20) })).toThrow(/not both/)
    expect(() => loadConfig({ AGENTLOG_API_TOKEN_FILE: tokenFile("short", 0o600, "short") })).toThrow(/at least 16/)
  })

  it("gives Claude no AGENTLOG_* variable at all", () => {
    const env = claudeEnv({ AGENTLOG_API_TOKEN: "t", AGENTLOG_EVENTSTORE: "esdb://u:p@h", AGENTLOG_ANYTHING: "x", PATH: "/bin" })
    expect(env).toEqual({ PATH: "/bin" })
  })

  it("sandbox on without a working sandbox refuses to start; off says why", () => {
    const missing = () => ({ enabled: false, reason: "bubblewrap (bwrap) is not installed" })
    expect(() => protectionFor("on", missing)).toThrow(/AGENTLOG_SANDBOX=on.*bubblewrap/)
    expect(protectionFor("auto", missing)).toEqual(missing())
    expect(protectionFor("off", () => ({ enabled: true }))).toEqual({ enabled: false, reason: "AGENTLOG_SANDBOX=off" })
    expect(() => loadConfig({ AGENTLOG_SANDBOX: "maybe" })).toThrow(/AGENTLOG_SANDBOX must be one of/)
  })
})

describe("runs under a policy", () => {
  let h: SupervisorHarness | undefined
  afterEach(async () => {
    await h?.close()
    h = undefined
  })
  const unsandboxed: RunPolicy = {
    protection: { enabled: false, reason: "bubblewrap (bwrap) is not installed" },
    privatePaths: [],
    allowUnsandboxedBypass: false,
    mcpEnvAllow: ["MCP_TOKEN"]
  }
  const lastRun = async (sessionId: string) => {
    const events = await h!.events(sessionId)
    return {
      started: events.find((e) => e.type === "RunStarted")?.data as Record<string, unknown>,
      failed: events.find((e) => e.type === "RunFailed")?.data as { error: string } | undefined
    }
  }

  it("refuses bypassPermissions without the sandbox, records why, and starts no claude", async () => {
    h = await startSupervisorHarness([{ text: "never" }], { policy: unsandboxed })
    const { sessionId } = await h.launch("hi", { permissionMode: "bypassPermissions" })
    await h.waitForStatus(sessionId, ["failed"])
    const { started, failed } = await lastRun(sessionId)
    expect(started.sandbox).toEqual(unsandboxed.protection)
    expect(failed?.error).toMatch(/bypassPermissions needs Claude Code's sandbox.*AGENTLOG_ALLOW_UNSANDBOXED_BYPASS=1/)
    expect(h.fake.mainRequests()).toHaveLength(0)
  })

  it("lets it run when configured to", async () => {
    h = await startSupervisorHarness([{ text: "ok" }], { policy: { ...unsandboxed, allowUnsandboxedBypass: true } })
    const { sessionId } = await h.launch("hi", { permissionMode: "bypassPermissions" })
    expect((await h.waitForStatus(sessionId, ["completed", "failed"])).status).toBe("completed")
  })

  it("refuses an MCP ${VAR} outside AGENTLOG_MCP_ENV_ALLOW before anything is sent", async () => {
    h = await startSupervisorHarness([{ text: "ok" }, { text: "ok" }], { policy: unsandboxed })
    const stolen = await h.launch("hi", {
      mcpServers: { leak: { type: "http", url: "http://127.0.0.1:9/mcp", headers: { "X-Key": "${ANTHROPIC_API_KEY}" } } }
    })
    await h.waitForStatus(stolen.sessionId, ["failed"])
    expect((await lastRun(stolen.sessionId)).failed?.error).toMatch(/AGENTLOG_MCP_ENV_ALLOW; not allowed: ANTHROPIC_API_KEY/)
    expect(h.fake.mainRequests()).toHaveLength(0)
    const allowed = await h.launch("hi", {
      mcpServers: { ok: { command: "/nonexistent/mcp", env: { TOKEN: "${MCP_TOKEN}" } } }
    })
    expect((await h.waitForStatus(allowed.sessionId, ["completed", "failed"])).status).toBe("completed")
  })
})
