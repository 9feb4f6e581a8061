// A continue carrying MCP secret values while a run is active is queued as a follow-up like any
// other: the secrets wait in the service's memory under the run id the follow-up becomes, and
// reach Claude's MCP server when it starts, never the record. After a restart they are gone:
// the follow-up keeps waiting, and sending it is refused saying which secret to send again.
// The real service process and the real `claude`, against the fake Messages API; the MCP
// server is a script that writes down the value it was given.
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { makeSqliteEventStore } from "../../src/eventstore/sqliteEventStore.ts"
import { closeOfflineWorld, openOfflineWorld, type OfflineWorld } from "../support/offlineWorld.ts"
import { recordedText } from "../support/recordedText.ts"
import { startServiceProcess, type ServiceProcess } from "../support/serviceProcess.ts"
import { waitFor } from "../support/waitFor.ts"

let world: OfflineWorld | undefined
let service: ServiceProcess | undefined
afterEach(async () => {
  if (world) expect(await closeOfflineWorld(world, service), "claude processes left behind").toEqual([])
  world = service = undefined
})

type Json = Record<string, any>
const secret = "s3cr3t-follow-up-7731"
const hold = { slow: { chunks: ["working"], delayMs: 10, hold: true } }

const call = async (method: string, path: string, body?: unknown) => {
  const r = await fetch(`${service!.url}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
  })
  return { status: r.status, body: (await r.json().catch(() => null)) as Json }
}

/** A stdio "MCP server" that writes down the TOKEN it was started with, then exits. */
const mcpServer = (w: OfflineWorld) => {
  const seen = join(w.dataDir, "..", `${w.dataDir.split("/").at(-1)}-mcp-seen`)
  const script = join(w.claude.cwd, "..", "mcp-server.sh")
  writeFileSync(script, `#!/bin/sh\nprintf '%s' "$TOKEN" > ${JSON.stringify(seen)}\n`)
  chmodSync(script, 0o755)
  return { seen, servers: { vault: { command: script, env: { TOKEN: secret } } } }
}

/** A launched session whose run holds (the fake API keeps its answer open), and a follow-up with the secret queued behind it. */
const runningWithSecretFollowUp = async (w: OfflineWorld, servers: Json) => {
  const launched = await call("POST", "/v1/sessions", { query: "a long job", cwd: w.claude.cwd })
  expect(launched.status).toBe(202)
  const sessionId = launched.body.sessionId as string
  await w.fake.waitForSlowChunks(1, 60_000)
  const queued = await call("POST", `/v1/sessions/${sessionId}/continue`, { query: "now with the vault", mcpServers: servers })
  expect(queued.status, JSON.stringify(queued.body)).toBe(202)
  expect(queued.body).toMatchObject({ followUpId: expect.any(String), runId: expect.any(String) })
  return { sessionId, followUpId: queued.body.followUpId as string, runId: queued.body.runId as string }
}

const session = (sessionId: string) => call("GET", `/v1/sessions/${sessionId}`).then((r) => r.body)

describe("a follow-up with MCP secrets", () => {
  it("is queued (202), runs after the active run completes with the secret in its MCP server, and the secret is in no event, read model or log", async () => {
    const w = (world = await openOfflineWorld("fu-secrets"))
    w.fake.setScript([hold, { text: "done with the vault" }])
    service = await startServiceProcess({ dataDir: w.dataDir, claude: w.claude })
    const mcp = mcpServer(w)
    const { sessionId, runId } = await runningWithSecretFollowUp(w, mcp.servers)

    w.fake.release()
    const done = await waitFor(
      "the follow-up's run to end",
      async () => {
        const s = await session(sessionId)
        return s.runId === runId && ["completed", "failed"].includes(s.status) ? s : undefined
      },
      { timeoutMs: 90_000, everyMs: 100 }
    )
    expect(done.status).toBe("completed")
    expect(existsSync(mcp.seen) && readFileSync(mcp.seen, "utf8")).toBe(secret)

    // Everything the service keeps, once it has stopped: the store, the read models, its log.
    const logs = service.logs
    expect(await service.stop()).toBe(0)
    service = undefined
    const store = await Effect.runPromise(makeSqliteEventStore(w.dataDir))
    try {
      const kept = await recordedText(store, w.dataDir, logs)
      expect(kept.filter(([, text]) => text.includes(secret)).map(([where]) => where)).toEqual([])
      expect(kept.find(([where]) => where === "events")![1]).toContain("FollowUpQueued")
    } finally {
      await Effect.runPromise(store.close())
    }
  }, 180_000)

  it("after a restart the secret is gone: the follow-up keeps waiting, and sending it is refused naming the secret to send again", async () => {
    const w = (world = await openOfflineWorld("fu-secrets-restart"))
    w.fake.setScript([hold])
    service = await startServiceProcess({ dataDir: w.dataDir, claude: w.claude })
    const mcp = mcpServer(w)
    const { sessionId, followUpId } = await runningWithSecretFollowUp(w, mcp.servers)

    await service.kill()
    w.fake.release()
    service = await startServiceProcess({ dataDir: w.dataDir, claude: w.claude })
    // The run it waited for died with the service: the follow-up is held, not started.
    await waitFor("the orphaned run to be abandoned", async () => ((await session(sessionId)).status === "abandoned" ? true : undefined), {
      timeoutMs: 60_000,
      everyMs: 100
    })
    const before = (await call("GET", `/v1/sessions/${sessionId}/events?limit=1000`)).body.items.length

    const sent = await call("POST", `/v1/sessions/${sessionId}/follow-ups/${followUpId}/send`, {})
    expect(sent.status).toBe(409)
    expect(sent.body).toMatchObject({ type: "urn:agentlog:problem:follow-up-secrets-gone", missing: ["vault.TOKEN"] })
    expect(sent.body.detail).toMatch(/^MCP secret for vault\.TOKEN is no longer held .*continue again with it$/)
    const after = (await call("GET", `/v1/sessions/${sessionId}/follow-ups`)).body.items as Array<Json>
    expect(after.map((f) => [f.followUpId, f.status])).toEqual([[followUpId, "held"]])
    expect((await call("GET", `/v1/sessions/${sessionId}/events?limit=1000`)).body.items.length).toBe(before)
    expect(existsSync(mcp.seen)).toBe(false)
  }, 180_000)
})
