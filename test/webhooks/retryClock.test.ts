// The webhook retries on a TestClock: each failed POST is tried again after the backoff
// (base, then doubling, each ±20% jitter), never before; after maxAttempts the subscription
// pauses. The manager is the service's own (startWebhooks on the real embedded store); only
// the clock is a TestClock and the receiver a fake `send`, so time moves only when the
// test says so. "Not yet" is read after adjust returned: TestClock's adjust runs every
// timer due by then, and what it woke, before it returns.
import { randomUUID } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Clock, Effect, Layer, ManagedRuntime, Stream } from "effect"
import { TestClock } from "effect/testing"
import { afterAll, describe, expect, it } from "vitest"
import { makeSessionCommands } from "../../src/commands/sessionCommands.ts"
import { makeSqliteEventStore } from "../../src/eventstore/sqliteEventStore.ts"
import { silentLogger } from "../../src/log.ts"
import { handleWebhookCommand } from "../../src/webhooks/webhookCommands.ts"
import { webhooksStream } from "../../src/webhooks/webhookEvents.ts"
import type { WebhookSecrets } from "../../src/webhooks/webhookSecrets.ts"
import { DeliveryFailed, type Send, startWebhooks, Webhooks } from "../../src/webhooks/webhooks.ts"
import { waitForEvents } from "../support/waitFor.ts"

const dataDir = mkdtempSync(join(tmpdir(), "agentlog-webhook-clock-"))
const store = await Effect.runPromise(makeSqliteEventStore(dataDir))
const commands = makeSessionCommands(store, { instanceId: "test" })

/** When each POST was made, on the manager's clock; a promise per call to wait on. */
const calls: Array<number> = []
let nextCall: { promise: Promise<void>; resolve: () => void }
const armCall = () => {
  let resolve!: () => void
  nextCall = { promise: new Promise<void>((r) => (resolve = r)), resolve }
}
armCall()
const send: Send = () =>
  Effect.gen(function* () {
    calls.push(yield* Clock.currentTimeMillis)
    nextCall.resolve()
    return yield* Effect.fail(new DeliveryFailed({ status: 503, error: "the receiver answered 503" }))
  })
const memorySecrets: WebhookSecrets = { get: () => "clock-secret-0123456789", put: () => {}, remove: () => {}, all: () => [] }

const clock = TestClock.layer({ warningDelay: "1 hour" })
const runtime = ManagedRuntime.make(
  Layer.merge(
    Layer.effect(
      Webhooks,
      startWebhooks({
        store,
        logger: silentLogger,
        dataDir,
        send,
        secrets: memorySecrets,
        config: { allowHttp: false, retryBaseMs: 1_000, retryCapMs: 60_000, maxAttempts: 3, timeoutMs: 10_000 }
      })
    ).pipe(Layer.provide(clock)),
    clock
  )
)

afterAll(async () => {
  await runtime.dispose()
  await Effect.runPromise(store.close())
  rmSync(dataDir, { recursive: true, force: true })
})

const adjust = (ms: number) => runtime.runPromise(TestClock.adjust(ms))

describe("webhook retries on the Effect clock", () => {
  it("retries after the jittered exponential backoff, not before, and pauses after maxAttempts", async () => {
    const webhooks = await runtime.runPromise(Effect.service(Webhooks))
    const webhookId = randomUUID()
    const fold = await runtime.runPromise(
      handleWebhookCommand(
        store,
        { kind: "RegisterWebhook", webhookId, url: "https://receiver.test/hook", selection: ["SessionLaunched"], eventTypes: ["SessionLaunched"] },
        { correlationId: "test", source: "api", actor: "admin" }
      )
    )
    await runtime.runPromise(webhooks.seen(fold.revision!))
    const sessionId = randomUUID()
    await Effect.runPromise(
      commands.handle({ kind: "LaunchSession", sessionId, runId: randomUUID(), query: "q", options: {} }, { correlationId: "t", source: "api" })
    )
    await nextCall.promise
    armCall()
    expect(calls).toEqual([0])

    // The first retry: 1000 ms ± 20%.
    await adjust(799)
    expect(calls).toHaveLength(1)
    await adjust(401)
    await nextCall.promise
    armCall()
    expect(calls).toHaveLength(2)
    expect(calls[1]).toBeGreaterThanOrEqual(800)
    expect(calls[1]).toBeLessThanOrEqual(1200)

    // The second: 2000 ms ± 20% after it.
    const now = await runtime.runPromise(Clock.currentTimeMillis)
    await adjust(calls[1]! + 1_599 - now)
    expect(calls).toHaveLength(2)
    await adjust(801)
    await nextCall.promise
    expect(calls).toHaveLength(3)
    expect(calls[2]! - calls[1]!).toBeGreaterThanOrEqual(1_600)
    expect(calls[2]! - calls[1]!).toBeLessThanOrEqual(2_400)
    // Jittered: not the bare 1000 and 2000 (a random factor in [0.8, 1.2] of each).
    expect(calls[1]).not.toBe(1_000)
    expect(calls[2]! - calls[1]!).not.toBe(2_000)

    // The third failure was the last allowed: paused, by an event naming the event and the status.
    const paused = await waitForEvents("the pause", store, webhooksStream, async () =>
      [...(await Effect.runPromise(Stream.runCollect(store.readStream(webhooksStream))))].find((e) => e.type === "WebhookPaused")
    )
    const launched = [...(await Effect.runPromise(Stream.runCollect(store.readStream(`session-${sessionId}`))))][0]!
    expect(paused.data).toMatchObject({ webhookId, eventId: launched.id, reason: expect.stringContaining("3 attempts") })
    expect((paused.data as { reason: string }).reason).toContain("503")
    // Nothing more, however long: a paused subscription does not retry.
    await adjust(3_600_000)
    expect(calls).toHaveLength(3)
    expect(webhooks.deliveries(webhookId).map((a) => a.attempt)).toEqual([3, 2, 1])
  })
})
