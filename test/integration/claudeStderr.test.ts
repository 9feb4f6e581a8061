// A claude that exits without a result says why in RunFailed.error: the last lines of its
// stderr, bounded and with the run's secrets (MCP env and headers, keys and tokens in its
// environment) and anything shaped like a credential redacted.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, expect, it } from "vitest"
import { redacted } from "../../src/domain/sessionOptions.ts"
import { startSupervisorHarness, type SupervisorHarness } from "../support/supervisorHarness.ts"

let h: SupervisorHarness | undefined
let dir: string | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
  if (dir) rmSync(dir, { recursive: true, force: true })
  dir = undefined
})

const failedRun = async (sessionId: string) => {
  await h!.waitForStatus(sessionId, ["completed", "failed", "interrupted", "abandoned"])
  const failed = (await h!.events(sessionId)).filter((e) => e.type === "RunFailed")
  expect(failed).toHaveLength(1)
  return failed[0]!.data as { error: string; exitCode?: number }
}

it.runIf(process.getuid?.() === 0)(
  "the real claude refusing bypassPermissions as root: RunFailed carries its reason from stderr",
  async () => {
    h = await startSupervisorHarness([])
    // As an operator would run it: root, without IS_SANDBOX in Claude's environment.
    const { IS_SANDBOX: _, ...env } = h.claude.env
    await h.close()
    h = await startSupervisorHarness([], { env })
    const { sessionId } = await h.launch("hello", { permissionMode: "bypassPermissions" })
    const failed = await failedRun(sessionId)
    expect(failed.error).toContain("--dangerously-skip-permissions cannot be used with root/sudo privileges")
    // Claude's API key is in its environment; nothing of it reaches the record.
    expect(failed.error).not.toContain(env.ANTHROPIC_API_KEY)
  },
  60_000
)

it("the tail is bounded and redacted: MCP secret values, environment keys, tokens", async () => {
  dir = mkdtempSync(join(tmpdir(), "agentlog-stderr-"))
  const claudePath = join(dir, "talkative-claude")
  const mcpSecret = "mcp-secret-value-1234"
  const envSecret = "env-secret-value-5678"
  writeFileSync(
    claudePath,
    [
      "#!/bin/sh",
      // Far more than the tail keeps.
      "i=0; while [ $i -lt 500 ]; do echo \"noise line $i\" >&2; i=$((i+1)); done",
      `echo "connecting with MCP env ${mcpSecret} and header value" >&2`,
      `echo "my key is $MY_SERVICE_API_KEY" >&2`,
      `echo 'Authorization: Bearer abc.def.ghi-123' >&2`,
      `echo 'using sk-ant-api03-abcdefghijklmnop and ghp_0123456789abcdefghij' >&2`,
      `echo 'config: {"token": "tok_very_private", "password":"hunter2hunter2"}' >&2`,
      "echo 'fatal: cannot continue' >&2",
      "exit 7"
    ].join("\n") + "\n",
    { mode: 0o755 }
  )
  h = await startSupervisorHarness([], { claudePath })
  const env = { ...h.claude.env, MY_SERVICE_API_KEY: envSecret }
  await h.close()
  h = await startSupervisorHarness([], { claudePath, env })
  const { sessionId } = await h.launch("hello", {
    mcpServers: { local: { command: "mcp-server", env: { SECRET: mcpSecret } } }
  })
  const { error } = await failedRun(sessionId)
  expect(error).toContain("fatal: cannot continue")
  expect(error).toContain(`connecting with MCP env ${redacted}`)
  expect(error).toContain(`my key is ${redacted}`)
  expect(error).toContain(`Authorization: Bearer ${redacted}`)
  for (const secret of [mcpSecret, envSecret, "abc.def.ghi-123", "sk-ant-api03", "ghp_0123", "tok_very_private", "hunter2"])
    expect(error).not.toContain(secret)
  // Bounded: the last lines only, never the whole output.
  expect(error).not.toContain("noise line 485")
  expect(error).toContain("noise line 499")
  expect(error.length).toBeLessThan(2_500)
}, 60_000)
