// kill -9 of agentlog in the middle of a delivery, then a restart on the same data: every
// event arrives, in store order once repeats are dropped, and a repeat carries the same
// event id and body as the first (at-least-once; the checkpoint moves only after a 2xx).
// The real service as a child process (test/support/serviceProcess.ts); drafts give it
// events without starting any Claude.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { decodePosition } from "../../src/eventstore/position.ts"
import type { ClaudeEnv } from "../support/claudeEnv.ts"
import { type ServiceProcess, startServiceProcess } from "../support/serviceProcess.ts"
import { waitFor } from "../support/waitFor.ts"
import { type Receiver, startReceiver } from "./receiver.ts"

const dataDir = mkdtempSync(join(tmpdir(), "agentlog-webhook-restart-"))
let service: ServiceProcess | undefined
let receiver: Receiver | undefined

afterAll(async () => {
  await service?.kill()
  await receiver?.close()
  rmSync(dataDir, { recursive: true, force: true })
})

/** Drafts run nothing: the service needs no Claude environment beyond its own. */
const noClaude = { env: { PATH: process.env.PATH ?? "", HOME: dataDir } } as unknown as ClaudeEnv

const start = () =>
  startServiceProcess({
    dataDir,
    claude: noClaude,
    env: { AGENTLOG_WEBHOOK_RETRY_BASE_MS: "20", AGENTLOG_WEBHOOK_RETRY_CAP_MS: "200", AGENTLOG_WEBHOOK_MAX_ATTEMPTS: "1000" }
  })

const call = async (method: string, path: string, json?: unknown) => {
  const r = await fetch(`${service!.url}${path}`, {
    method,
    headers: json === undefined ? {} : { "content-type": "application/json" },
    ...(json === undefined ? {} : { body: JSON.stringify(json) })
  })
  const body = (await r.json()) as Record<string, any>
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(body)}`)
  return body
}

/** A draft, edited twice: three events of one session. */
const draft = async (n: number): Promise<string> => {
  const { sessionId } = await call("POST", "/v1/drafts", { query: `draft ${n}` })
  await call("PATCH", `/v1/drafts/${sessionId}`, { query: `draft ${n}, edited` })
  await call("PATCH", `/v1/drafts/${sessionId}`, { query: `draft ${n}, edited again` })
  return sessionId as string
}

describe("webhooks across kill -9", () => {
  it("nothing is lost and a repeat is the same event, with the same id", async () => {
    receiver = await startReceiver()
    // Four answered, the fifth held open: the service dies with that delivery in flight.
    receiver.script = ["ok", "ok", "ok", "ok", "hold"]
    service = await start()
    const hook = await call("POST", "/v1/webhooks", { url: receiver.url, events: ["DraftCreated", "DraftEdited"], secret: "restart-secret-0123456789" })
    const sessions = [await draft(1), await draft(2)]
    await receiver.until("the fifth delivery, in flight", (r) => (r.received.length >= 5 ? true : undefined))
    await service.kill()
    receiver.mode = "ok"
    receiver.release()

    service = await start()
    sessions.push(await draft(3))
    const events = (
      await Promise.all(sessions.map(async (s) => (await call("GET", `/v1/sessions/${s}/events`)).items as Array<{ id: string; position: string; sessionId: string }>))
    )
      .flat()
      .sort((a, b) => (decodePosition(a.position)!.commit < decodePosition(b.position)!.commit ? -1 : 1))
    expect(events).toHaveLength(9)
    const expected = events.map((e) => e.id)
    await receiver.until("every event delivered", (r) => (expected.every((id) => r.delivered().some((d) => d.json.id === id)) ? true : undefined))

    // Only these events arrived; each id always with the same body; first arrivals in store order.
    const byId = new Map<string, string>()
    for (const r of receiver.received) {
      expect(expected).toContain(r.json.id)
      expect(r.headers["x-agentlog-event-id"]).toBe(r.json.id)
      const seen = byId.get(r.json.id)
      if (seen !== undefined) expect(r.body).toBe(seen)
      else byId.set(r.json.id, r.body)
    }
    expect([...byId.keys()]).toEqual(expected)
    // The one in flight at the kill came again after the restart.
    expect(receiver.received.filter((r) => r.json.id === expected[4]).length).toBeGreaterThanOrEqual(2)
    // The checkpoint moves once the last answer is back in the service (another process: looked at until it has).
    await waitFor("the checkpoint at the last event", async () => {
      const shown = await call("GET", `/v1/webhooks/${hook.id}`)
      return shown.status === "active" && shown.delivery.checkpoint === events[8]!.position ? true : undefined
    })
  }, 120_000)
})
