// `npm run demo`: agentlog with the embedded store and the real `claude` binary talking to
// a scripted fake model on 127.0.0.1, so a newcomer sees a whole session offline.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { loadConfig } from "../src/config.ts"
import { makeLogger } from "../src/log.ts"
import { startService } from "../src/service.ts"
import { claudeBinaryPath, makeClaudeEnv } from "../test/support/claudeEnv.ts"
import { startFakeAnthropic } from "../test/support/fakeAnthropic.ts"

const fake = await startFakeAnthropic(
  [],
  { defaultText: "This is the demo's fake model: every further question gets this answer." }
)
const claude = makeClaudeEnv(fake.url, { prefix: "agentlog-demo-" })
// The Write call needs a path inside the session's working directory.
fake.setScript([
  { text: "Let me look at this directory first.", toolUse: { name: "Bash", input: { command: "echo hello from a tool call && pwd" } } },
  { text: "Now I will leave a note.", toolUse: { name: "Write", input: { file_path: join(claude.cwd, "NOTES.md"), content: "agentlog was here\n" } } },
  { text: "Done: I looked around and left NOTES.md (after you approved it). Anything else?" }
])
const dataDir = process.env.AGENTLOG_DATA_DIR || mkdtempSync(join(tmpdir(), "agentlog-demo-data-"))
const config = loadConfig({
  ...process.env,
  AGENTLOG_DATA_DIR: dataDir,
  AGENTLOG_PORT: process.env.AGENTLOG_PORT ?? "7420",
  AGENTLOG_CLAUDE_PATH: claudeBinaryPath,
  AGENTLOG_LOG_LEVEL: process.env.AGENTLOG_LOG_LEVEL ?? "warn"
})
const service = await startService({ config, logger: makeLogger(config.logLevel), env: { ...process.env, ...claude.env } })
const say = (s: string) => process.stdout.write(s + "\n")

let stopped = false
const stop = async () => {
  if (stopped) return
  stopped = true
  await service.stop()
  await fake.close()
  claude.cleanup()
  if (!process.env.AGENTLOG_DATA_DIR) rmSync(dataDir, { recursive: true, force: true })
}
process.on("SIGINT", () => void stop().then(() => process.exit(0)))
process.on("SIGTERM", () => void stop().then(() => process.exit(0)))

const api = (path: string, init?: RequestInit) =>
  fetch(`${service.url}${path}`, init).then(async (r) => {
    const body = await r.json()
    if (!r.ok) throw new Error(`${r.status} ${JSON.stringify(body)}`)
    return body as any
  })

say(`agentlog demo: the service is at ${service.url} (fake model at ${fake.url}, data in ${dataDir})\n`)
const launched = await api("/v1/sessions", {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ query: "Show me where we are, then leave a note.", cwd: claude.cwd, title: "demo session" })
})
say(`POST /v1/sessions -> ${JSON.stringify(launched)}`)
let session: any
for (let i = 0; i < 600; i++) {
  session = await api(`/v1/sessions/${launched.sessionId}?minPosition=${launched.position}`)
  if (["completed", "failed", "interrupted", "abandoned"].includes(session.status)) break
  if (session.status === "waiting_approval") {
    const pending = await api(`/v1/approvals?status=pending&session=${launched.sessionId}`)
    for (const a of pending.items) {
      say(`Claude asks to use ${a.toolName} ${JSON.stringify(a.input)}: approving it with POST /v1/approvals/${a.approvalId}/decision`)
      await api(`/v1/approvals/${a.approvalId}/decision`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ decision: "allow" })
      })
    }
  }
  await new Promise((r) => setTimeout(r, 100))
}
say(`session ${session.sessionId} is ${session.status} after ${session.runs} run(s), ${session.turns} turn(s)\n`)
const transcript = await api(`/v1/sessions/${launched.sessionId}/transcript`)
say("transcript:")
for (const e of transcript.items ?? transcript.entries ?? transcript) {
  const text = e.kind === "tool_call" ? `${e.toolName} ${JSON.stringify(e.input)} -> ${e.result?.text ?? ""}` : (e.text ?? "")
  say(`  [${e.kind}] ${String(text).replace(/\s+/g, " ").slice(0, 160)}`)
}
const events = await api(`/v1/sessions/${launched.sessionId}/events`)
say(`\nthe record: ${events.items.length} events: ${events.items.map((e: any) => e.type).join(", ")}\n`)
say("Try it yourself while this runs (Ctrl-C stops everything):")
say(`  curl -s ${service.url}/v1/sessions | jq`)
say(`  curl -s ${service.url}/v1/sessions/${launched.sessionId}/transcript | jq`)
say(`  curl -s ${service.url}/v1/tool-calls | jq`)
say(
  `  curl -s -X POST ${service.url}/v1/sessions/${launched.sessionId}/continue -H 'content-type: application/json' -d '{"query":"and now?"}'`
)
say(`  curl -N ${service.url}/v1/sessions/${launched.sessionId}/events/live`)
if (process.env.AGENTLOG_DEMO_EXIT === "1") await stop()
