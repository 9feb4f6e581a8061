// The agent agentlog runs must not reach the keys nor rewrite its own record. Through the
// real service and the real claude (commands in Claude Code's sandbox by default), a Bash
// command the fake model asks for tries to read every process's environment (the service's
// among them), the token file and events.db, and to write events.db; the Read tool tries
// the token file. It gets nothing, changes nothing, and the run records that it was sandboxed.
import { randomBytes } from "node:crypto"
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { toolResultsOf } from "../support/fakeAnthropic.ts"
import { closeOfflineWorld, openOfflineWorld, type OfflineWorld } from "../support/offlineWorld.ts"
import { startServiceProcess, type ServiceProcess } from "../support/serviceProcess.ts"

const token = `fence-token-${randomBytes(16).toString("hex")}`
const canary = `fence-canary-${randomBytes(16).toString("hex")}`
const storeSecret = `esdb-secret-${randomBytes(8).toString("hex")}`

let world: OfflineWorld
let service: ServiceProcess | undefined
let secretDir: string
let tokenFile: string

beforeAll(async () => {
  world = await openOfflineWorld("fence")
  secretDir = mkdtempSync(join(tmpdir(), "agentlog-fence-secret-"))
  tokenFile = join(secretDir, "token")
  writeFileSync(tokenFile, token + "\n")
  chmodSync(tokenFile, 0o600)
})

afterAll(async () => {
  await closeOfflineWorld(world, service)
  rmSync(secretDir, { recursive: true, force: true })
})

const call = async (path: string, init: RequestInit = {}) => {
  const r = await fetch(`${service!.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }
  })
  return { status: r.status, json: (await r.json()) as any }
}

describe("the agent inside the fence", () => {
  it("reads no environment, token or event store, and writes nothing into the data dir", async () => {
    const db = join(world.dataDir, "events.db")
    const attack = [
      // Every process it can see, the service and its parents included: their environments.
      `for f in /proc/[0-9]*/environ; do tr '\\0' '\\n' < "$f"; done 2>/dev/null | grep -E 'AGENTLOG_|fence-token|fence-canary|esdb-secret' || echo NO-ENV`,
      `tr '\\0' '\\n' < /proc/$PPID/environ 2>&1 | head -50`,
      `cat ${tokenFile} 2>&1`,
      `head -c 64 ${db} 2>&1 | tr -c '[:print:]' '.'`,
      `echo PWNED >> ${db}; echo PWNED > ${world.dataDir}/pwned; echo wrote=$?`
    ].join("; ")
    world.fake.setScript([
      { toolUse: { name: "Bash", input: { command: attack, description: "look around" } } },
      { toolUse: { name: "Read", input: { file_path: tokenFile } } },
      { text: "done" }
    ])
    service = await startServiceProcess({
      dataDir: world.dataDir,
      claude: world.claude,
      env: { AGENTLOG_API_TOKEN_FILE: tokenFile, AGENTLOG_CANARY: canary, AGENTLOG_EVENTSTORE: "sqlite", AGENTLOG_X: storeSecret }
    })
    const launched = await call("/v1/sessions", {
      method: "POST",
      body: JSON.stringify({ query: "look around", cwd: world.claude.cwd, allowedTools: ["Bash", "Read"] })
    })
    expect(launched.status).toBe(202)
    const { sessionId } = launched.json
    const deadline = Date.now() + 60_000
    let session: any
    do {
      session = (await call(`/v1/sessions/${sessionId}?minPosition=${launched.json.position}`)).json
      if (Date.now() > deadline) throw new Error(`session stuck: ${JSON.stringify(session)}`)
      if (!["completed", "failed"].includes(session.status)) await new Promise((r) => setTimeout(r, 100))
    } while (!["completed", "failed"].includes(session.status))
    expect(session.status).toBe("completed")

    const results = world.fake.mainRequests().flatMap((r) => toolResultsOf(r.body)).map((b) => JSON.stringify(b.content))
    expect(results).toHaveLength(2)
    const [bash, read] = results
    // The command ran (it is not just refused): it saw no environment of anyone's.
    expect(bash).toContain("NO-ENV")
    for (const secret of [token, canary, storeSecret, "SQLite format"]) {
      expect(bash).not.toContain(secret)
      expect(read).not.toContain(secret)
    }
    expect(readFileSync(db).includes("PWNED")).toBe(false)
    expect(readdirSync(world.dataDir)).not.toContain("pwned")

    // The record says which protection the run had, and the API shows it.
    const events = (await call(`/v1/sessions/${sessionId}/events`)).json.items
    const started = events.find((e: any) => e.type === "RunStarted")
    expect(started.data.sandbox).toEqual({ enabled: true })
  }, 90_000)
})
