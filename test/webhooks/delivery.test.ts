// Webhooks end to end, in process, against a receiver on 127.0.0.1:0: a registration is an
// event, each event of its types arrives signed with its id, a receiver that is down then
// up gets everything in order, one that keeps answering 500 pauses the subscription (an
// event says why) and a resume delivers from the event it stopped at. No secret ever
// shows: not in an answer, an event, a read model or a log line.
import { createHmac } from "node:crypto"
import { readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { Effect, Stream } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { RecordedEvent } from "../../src/eventstore/eventStore.ts"
import { webhooksStream } from "../../src/webhooks/webhookEvents.ts"
import { verify } from "../../src/webhooks/webhookSignature.ts"
import { startHarness, type Harness } from "../http/httpHarness.ts"
import { recordedText } from "../support/recordedText.ts"
import { waitForEvents } from "../support/waitFor.ts"
import { type Receiver, startReceiver } from "./receiver.ts"

const token = "webhooks-test-token-0123456789"
let h: Harness
const receivers: Array<Receiver> = []
const secrets: Array<string> = []
const answers: Array<string> = []

beforeAll(async () => {
  h = await startHarness({ config: { apiToken: token }, webhooks: { retryBaseMs: 20, retryCapMs: 200, maxAttempts: 4, timeoutMs: 5_000 } })
})
afterAll(async () => {
  for (const r of receivers) await r.close()
  await h?.close()
})

const receiver = async () => {
  const r = await startReceiver()
  receivers.push(r)
  return r
}

const call = async (path: string, init: RequestInit & { json?: unknown } = {}) => {
  const r = await h.fetch(path, init)
  const text = await r.text()
  answers.push(text)
  return { status: r.status, body: text === "" ? null : (JSON.parse(text) as Record<string, any>) }
}

let secretCount = 0
const register = async (url: string, events: ReadonlyArray<string>) => {
  const secret = `whsec-${++secretCount}-${"s".repeat(20)}-${Date.now()}`
  secrets.push(secret)
  const r = await call("/v1/webhooks", { method: "POST", json: { url, events, secret, description: "test" } })
  expect(r.status, JSON.stringify(r.body)).toBe(201)
  return { id: r.body!.id as string, secret }
}

const webhookEvents = async (): Promise<ReadonlyArray<RecordedEvent>> =>
  Effect.runPromise(Stream.runCollect(h.store.readStream(webhooksStream)).pipe(Effect.catchTag("StreamNotFound", () => Effect.succeed([]))))

/** The session events of these types in store order. */
const sessionEventsOfTypes = async (types: ReadonlyArray<string>, sessionIds: ReadonlyArray<string>) =>
  Effect.runPromise(
    Stream.runCollect(h.store.readAll({ filter: { streamPrefix: sessionIds.map((s) => `session-${s}`), eventTypes: [...types] } }))
  )

describe("webhooks", () => {
  it("delivers each event of its types, signed, with its id; the registration is an event without the secret", async () => {
    const r = await receiver()
    const { id, secret } = await register(r.url, ["session.started", "ApprovalRequested"])
    const registered = (await webhookEvents()).find((e) => e.type === "WebhookRegistered" && (e.data as any).webhookId === id)!
    expect(registered.data).toMatchObject({ url: r.url, selection: ["session.started", "ApprovalRequested"], by: "api" })
    expect((registered.data as any).eventTypes).toEqual(["ApprovalRequested", "ContinueRequested", "SessionForked", "SessionLaunched"])

    const s = await h.seedRunning()
    const got = await r.until("the launch", (x) => x.delivered().find((d) => d.json.sessionId === s.sessionId))
    expect(got.json).toMatchObject({ webhookId: id, type: "SessionLaunched", sessionId: s.sessionId, revision: 0, stream: `session-${s.sessionId}` })
    // RunStarted is not of its types: the first delivery was the launch, and the event id is the header's.
    expect(got.headers["x-agentlog-event-id"]).toBe(got.json.id)
    expect(got.headers["x-agentlog-webhook-id"]).toBe(id)
    expect(got.headers["content-type"]).toBe("application/json")
    const nowS = Math.floor(Date.now() / 1000)
    const sig = { signature: got.headers["x-agentlog-signature"], timestamp: got.headers["x-agentlog-timestamp"] }
    // As docs/webhooks.md tells a receiver to check it: HMAC-SHA256 of "<timestamp>.<body>", hex.
    expect(sig.signature).toBe(`sha256=${createHmac("sha256", secret).update(`${sig.timestamp}.${got.body}`).digest("hex")}`)
    expect(Math.abs(nowS - Number(sig.timestamp))).toBeLessThanOrEqual(60)
    expect(verify(secret, sig, got.body, nowS)).toBe(true)
    // Another secret, another body, or an old timestamp does not pass.
    expect(verify("another-secret-0123456789", sig, got.body, nowS)).toBe(false)
    expect(verify(secret, sig, got.body.replace(s.sessionId, "x"), nowS)).toBe(false)
    expect(verify(secret, sig, got.body, nowS + 3600)).toBe(false)
    const stored = (await h.events(s.sessionId))[0]!
    expect(got.json.id).toBe(stored.id)

    const shown = await call(`/v1/webhooks/${id}`)
    expect(shown.body).toMatchObject({ id, status: "active", url: r.url, delivery: { state: "delivering", consecutiveFailures: 0 } })
    const deliveries = await call(`/v1/webhooks/${id}/deliveries`)
    expect(deliveries.body!.items[0]).toMatchObject({ eventId: stored.id, outcome: "delivered", status: 204, attempt: 1 })
    expect((await call("/v1/webhooks")).body!.items.map((w: any) => w.id)).toContain(id)

    // Removed: recorded, gone from the list, its secret deleted.
    expect((await call(`/v1/webhooks/${id}`, { method: "DELETE" })).body).toMatchObject({ status: "removed" })
    expect((await call(`/v1/webhooks/${id}`)).status).toBe(404)
    expect((await webhookEvents()).some((e) => e.type === "WebhookRemoved" && (e.data as any).webhookId === id)).toBe(true)
    expect(readFileSync(join(h.dataDir, "webhook-secrets.json"), "utf8")).not.toContain(secret)
  })

  it("a receiver that is down gets everything once it is up again, in store order", async () => {
    const r = await receiver()
    r.mode = "drop"
    const { id } = await register(r.url, ["SessionLaunched", "RunStarted"])
    const sessions = [await h.seedRunning(), await h.seedRunning(), await h.seedSession()]
    // Two refused attempts at the first event (of four allowed), then it comes up.
    await r.until("two failed attempts", (x) => (x.received.filter((d) => d.answered === "dropped").length >= 2 ? true : undefined))
    r.mode = "ok"
    const expected = (await sessionEventsOfTypes(["SessionLaunched", "RunStarted"], sessions.map((s) => s.sessionId))).map((e) => e.id)
    expect(expected).toHaveLength(5)
    await r.until("every event delivered", (x) => (x.delivered().length >= expected.length ? true : undefined))
    expect(r.delivered().map((d) => d.json.id)).toEqual(expected)
    const failed = (await call(`/v1/webhooks/${id}/deliveries`)).body!.items.filter((a: any) => a.outcome === "failed")
    expect(failed.length).toBeGreaterThanOrEqual(2)
    expect(failed[0]).toMatchObject({ status: null, eventId: expected[0] })
    expect((await call(`/v1/webhooks/${id}`)).body).toMatchObject({ status: "active" })
  })

  it("a receiver answering 500 pauses the subscription, which says why; resume delivers from the event it stopped at", async () => {
    const r = await receiver()
    r.mode = 500
    const { id } = await register(r.url, ["SessionLaunched"])
    const first = await h.seedSession()
    const paused = await waitForEvents("the webhook paused", h.store, webhooksStream, async () =>
      (await webhookEvents()).find((e) => e.type === "WebhookPaused" && (e.data as any).webhookId === id)
    )
    const firstEvent = (await h.events(first.sessionId))[0]!
    expect(paused.data).toMatchObject({ webhookId: id, eventId: firstEvent.id, by: "webhooks" })
    expect((paused.data as any).reason).toMatch(/4 attempts .* failed; the last: the receiver answered 500/)
    expect(paused.metadata).toMatchObject({ source: "webhooks", actor: "webhooks" })
    expect(r.received.map((x) => x.answered)).toEqual([500, 500, 500, 500])
    const shown = (await call(`/v1/webhooks/${id}`)).body!
    expect(shown).toMatchObject({ status: "paused", pausedAtEventId: firstEvent.id, pausedBy: "webhooks" })
    expect(shown.pausedReason).toContain("500")
    const attempts = (await call(`/v1/webhooks/${id}/deliveries`)).body!.items
    expect(attempts.map((a: any) => [a.attempt, a.status])).toEqual([[4, 500], [3, 500], [2, 500], [1, 500]])

    // While paused, more happens; a second resume of an active one is a 409.
    const second = await h.seedSession()
    r.mode = "ok"
    const resumed = await call(`/v1/webhooks/${id}/resume`, { method: "POST", json: {} })
    expect(resumed.body).toMatchObject({ status: "active", pausedReason: null })
    const again = await call(`/v1/webhooks/${id}/resume`, { method: "POST", json: {} })
    expect(again.status).toBe(409)
    expect(again.body).toMatchObject({ type: "urn:agentlog:problem:webhook-status-conflict", webhookStatus: "active" })
    await r.until("both launches", (x) => (x.delivered().length >= 2 ? true : undefined))
    expect(r.delivered().map((d) => d.json.sessionId)).toEqual([first.sessionId, second.sessionId])
    expect((await webhookEvents()).filter((e) => (e.data as any).webhookId === id).map((e) => [e.type, (e.metadata as any).actor])).toEqual([
      ["WebhookRegistered", "api"],
      ["WebhookPaused", "webhooks"],
      ["WebhookResumed", "api"]
    ])
    // An admin's pause, then its resume.
    expect((await call(`/v1/webhooks/${id}/pause`, { method: "POST", json: { reason: "maintenance" } })).body).toMatchObject({
      status: "paused",
      pausedReason: "maintenance",
      pausedBy: "api"
    })
    expect((await call(`/v1/webhooks/${id}/pause`, { method: "POST", json: {} })).status).toBe(409)
  })

  it("refuses URLs that are not http(s), carry credentials, or are plain http off this machine; unknown event names", async () => {
    const bad = async (json: Record<string, unknown>, pointer: string) => {
      const r = await call("/v1/webhooks", { method: "POST", json: { url: "https://example.test/hook", events: ["session.ended"], secret: "x".repeat(20), ...json } })
      expect(r.status, JSON.stringify(json)).toBe(400)
      expect(r.body!.errors[0].path).toBe(pointer)
      return r.body!
    }
    await bad({ url: "ftp://example.test/x" }, "/url")
    await bad({ url: "file:///etc/passwd" }, "/url")
    await bad({ url: "https://user:pw@example.test/x" }, "/url")
    expect((await bad({ url: "http://example.test/x" }, "/url")).detail).toContain("AGENTLOG_WEBHOOK_ALLOW_HTTP")
    await bad({ url: "not a url" }, "/url")
    await bad({ events: ["NoSuchEvent"] }, "/events")
    await bad({ events: [] }, "/events")
    await bad({ secret: "short" }, "/secret")
    // https anywhere, http to loopback.
    for (const url of ["https://127.0.0.1:9/hook", "http://localhost:9/x", "http://[::1]:9/x"]) {
      const r = await call("/v1/webhooks", { method: "POST", json: { url, events: ["session.ended"], secret: "y".repeat(20) } })
      expect(r.status, url).toBe(201)
      await call(`/v1/webhooks/${r.body!.id}`, { method: "DELETE" })
    }
    expect((await call(`/v1/webhooks/00000000-0000-4000-8000-000000000000/resume`, { method: "POST", json: {} })).status).toBe(404)
  })

  it("no secret or signature appears in an answer, an event, a read model or a log line; the secrets file is 0600", async () => {
    await h.caughtUp()
    const file = join(h.dataDir, "webhook-secrets.json")
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const signatures = receivers.flatMap((r) => r.received.map((x) => x.headers["x-agentlog-signature"]!.slice("sha256=".length)))
    expect(signatures.length).toBeGreaterThan(5)
    const texts = [...(await recordedText(h.store, h.dataDir, h.logs)), ["answers", answers.join("\n")] as const]
    for (const secret of [...secrets, ...signatures])
      for (const [where, text] of texts)
        expect(text.includes(secret), `${secret.slice(0, 12)}… in ${where}`).toBe(false)
  })
})
