// Delivery: each active subscription is a checkpointed subscriber of the store. It follows
// `$all` (session streams, its event types) from its own checkpoint, POSTs each event
// signed, and moves the checkpoint only after the receiver answered 2xx: a crash between
// the two delivers that event again, with the same X-Agentlog-Event-Id (at-least-once).
// Events go one at a time in store order, so each session's arrive in order. A failed POST
// is retried with exponential backoff and jitter (an Effect Schedule: every timer is on the
// Clock the layer was built with); after `maxAttempts` the subscription is paused by an
// event naming why, and a resume (another event) starts it again at that same event.
//
// Each subscription runs in its own fiber: a slow or dead receiver holds up only itself,
// never the store, the API or another subscription. The manager follows the webhooks
// stream and starts or stops the fibers as subscriptions are registered, paused, resumed
// and removed (it reacts to the store: the HTTP routes only append).
import { mkdirSync, rmSync } from "node:fs"
import { join } from "node:path"
import { Clock, Context, Data, Duration, Effect, FiberMap, Schedule, Stream } from "effect"
import { backoff } from "../backoff.ts"
import { streamPrefix } from "../domain/streamName.ts"
import type { EventStoreShape, Position, RecordedEvent } from "../eventstore/eventStore.ts"
import { encodePosition } from "../eventstore/position.ts"
import { eventView } from "../http/eventRoutes.ts"
import { errorText, type Logger } from "../log.ts"
import { type Checkpoint, fileCheckpoint } from "../process/checkpoint.ts"
import { emptyFold, foldEvent, handleWebhookCommand, type WebhooksFold } from "./webhookCommands.ts"
import type { Webhook } from "./webhookEvents.ts"
import { webhooksStream } from "./webhookEvents.ts"
import { fileSecrets, type WebhookSecrets } from "./webhookSecrets.ts"
import { eventIdHeader, sign, signatureHeader, timestampHeader, webhookIdHeader } from "./webhookSignature.ts"

export interface WebhooksConfig {
  /** Plain http to hosts other than loopback. */
  readonly allowHttp: boolean
  /** The first retry's delay; each next one doubles (with ±20% jitter), up to retryCapMs. */
  readonly retryBaseMs: number
  readonly retryCapMs: number
  /** Attempts at one event before the subscription is paused. */
  readonly maxAttempts: number
  /** A receiver that has not answered within this is a failed attempt. */
  readonly timeoutMs: number
}

/** One POST to a receiver: its status, or a failure to reach it. */
export type Send = (request: {
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}) => Effect.Effect<number, DeliveryFailed>

export class DeliveryFailed extends Data.TaggedError("DeliveryFailed")<{ readonly status: number | null; readonly error: string }> {}

/** The POST over the network (undici): redirects are not followed, the answer's body is not read. */
export const fetchSend: Send = ({ url, headers, body }) =>
  Effect.tryPromise({
    try: async (signal) => {
      const res = await fetch(url, { method: "POST", headers, body, redirect: "manual", signal })
      await res.body?.cancel()
      return res.status
    },
    catch: (e) => new DeliveryFailed({ status: null, error: causeText(e) })
  })

const causeText = (e: unknown): string => {
  const cause = e instanceof Error && e.cause instanceof Error ? e.cause : undefined
  return cause ? `${errorText(e)}: ${(cause as { code?: string }).code ?? cause.message}` : errorText(e)
}

export interface DeliveryAttempt {
  readonly eventId: string
  readonly eventType: string
  readonly sessionId: string
  readonly position: string
  readonly attempt: number
  readonly at: string
  readonly durationMs: number
  readonly outcome: "delivered" | "failed"
  /** The receiver's HTTP status (null: no answer). */
  readonly status: number | null
  readonly error: string | null
}

/** What this instance knows of a subscription's delivery beyond the stream. */
export interface DeliveryState {
  readonly state: "delivering" | "retrying" | "stopped" | "no-secret"
  /** The last event delivered (or where it started), as a position cursor. */
  readonly checkpoint: string | null
  readonly consecutiveFailures: number
  readonly lastError: string | null
}

export interface WebhooksShape {
  readonly config: WebhooksConfig
  readonly secrets: WebhookSecrets
  readonly delivery: (webhookId: string) => DeliveryState
  /** The latest attempts, newest first (this instance's, since it started). */
  readonly deliveries: (webhookId: string) => ReadonlyArray<DeliveryAttempt>
  /** Resolves once the manager has seen the webhooks stream up to `revision` (tests, and reads after a write). */
  readonly seen: (revision: bigint) => Effect.Effect<void>
}

export class Webhooks extends Context.Service<Webhooks, WebhooksShape>()("agentlog/Webhooks") {}

export interface WebhooksDeps {
  readonly store: EventStoreShape
  readonly logger: Logger
  readonly config: WebhooksConfig
  readonly dataDir: string
  readonly send?: Send
  readonly secrets?: WebhookSecrets
}

const keptAttempts = 100

/** Gave up on an event: the subscription pauses. */
class Exhausted extends Data.TaggedError("Exhausted")<{ readonly event: RecordedEvent; readonly last: DeliveryFailed; readonly attempts: number }> {}

/**
 * Starts the manager in the caller's scope: its fibers (the stream follower and one per
 * active subscription) are interrupted when the scope closes. Every timer is on the
 * caller's Clock.
 */
export const startWebhooks = (deps: WebhooksDeps) =>
  Effect.gen(function* () {
    const { store, logger, config } = deps
    const send = deps.send ?? fetchSend
    const dir = join(deps.dataDir, "webhooks")
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    const secrets = deps.secrets ?? fileSecrets(join(deps.dataDir, "webhook-secrets.json"))
    const checkpointOf = (id: string): Checkpoint => fileCheckpoint(join(dir, `${id}.checkpoint.json`))
    const states = new Map<string, DeliveryState>()
    const attempts = new Map<string, Array<DeliveryAttempt>>()
    const fibers = yield* FiberMap.make<string>()
    let fold: WebhooksFold = emptyFold
    /** Where each subscription starts when it has no checkpoint: its registration. */
    const registeredAt = new Map<string, Position>()
    const revisionWaiters = new Set<{ revision: bigint; done: () => void }>()

    const setState = (id: string, patch: Partial<DeliveryState>) =>
      states.set(id, { ...(states.get(id) ?? { state: "stopped", checkpoint: null, consecutiveFailures: 0, lastError: null }), ...patch })
    const record = (id: string, a: DeliveryAttempt) => {
      const list = attempts.get(id) ?? []
      list.unshift(a)
      if (list.length > keptAttempts) list.length = keptAttempts
      attempts.set(id, list)
    }

    /** One POST of one event, recorded as an attempt; fails unless the receiver answered 2xx. */
    const attemptOnce = (w: Webhook, secret: string, e: RecordedEvent, attempt: number) =>
      Effect.gen(function* () {
        const body = JSON.stringify({ webhookId: w.id, ...eventView(e) })
        const started = yield* Clock.currentTimeMillis
        const timestamp = Math.floor(started / 1000)
        const headers = {
          "content-type": "application/json",
          "user-agent": "agentlog-webhooks",
          [eventIdHeader]: e.id,
          [webhookIdHeader]: w.id,
          [timestampHeader]: String(timestamp),
          [signatureHeader]: sign(secret, timestamp, body)
        }
        const result = yield* Effect.result(
          send({ url: w.url, headers, body }).pipe(
            Effect.timeoutOrElse({
              duration: Duration.millis(config.timeoutMs),
              orElse: () => Effect.fail(new DeliveryFailed({ status: null, error: `no answer within ${config.timeoutMs} ms` }))
            })
          )
        )
        const ended = yield* Clock.currentTimeMillis
        const failure =
          result._tag === "Failure"
            ? result.failure
            : result.success >= 200 && result.success < 300
              ? null
              : new DeliveryFailed({ status: result.success, error: `the receiver answered ${result.success}` })
        record(w.id, {
          eventId: e.id,
          eventType: e.type,
          sessionId: e.stream.slice(streamPrefix.length),
          position: encodePosition(e.position),
          attempt,
          at: new Date(started).toISOString(),
          durationMs: ended - started,
          outcome: failure === null ? "delivered" : "failed",
          status: result._tag === "Success" ? result.success : null,
          error: failure === null ? null : failure.error
        })
        if (failure !== null) {
          setState(w.id, { state: "retrying", consecutiveFailures: (states.get(w.id)?.consecutiveFailures ?? 0) + 1, lastError: failure.error })
          return yield* Effect.fail(failure)
        }
        setState(w.id, { state: "delivering", consecutiveFailures: 0, lastError: null })
      })

    const deliverEvent = (w: Webhook, secret: string, e: RecordedEvent) => {
      let attempt = 0
      return Effect.suspend(() => attemptOnce(w, secret, e, ++attempt)).pipe(
        Effect.retry({ schedule: Schedule.jittered(backoff(config.retryBaseMs, config.retryCapMs)), times: config.maxAttempts - 1 }),
        Effect.catchTag("DeliveryFailed", (last) => Effect.fail(new Exhausted({ event: e, last, attempts: attempt })))
      )
    }

    /** Until the store takes it: a pause that is not recorded would be lost with the process. */
    const persistently = <A, E extends { readonly _tag: string }>(what: string, effect: Effect.Effect<A, E>) =>
      effect.pipe(
        Effect.tapError((e) => Effect.sync(() => logger.log("warn", `${what} failed; retrying`, { error: e._tag }))),
        Effect.retry({ schedule: backoff(500, 30_000), while: (e) => e._tag === "EventStoreUnavailable" })
      )

    const pauseFor = (w: Webhook, x: Exhausted) =>
      Effect.gen(function* () {
        const reason = `${x.attempts} attempts to deliver event ${x.event.id} (${x.event.type}) failed; the last: ${x.last.error}`
        logger.log("warn", "webhook paused: its receiver keeps failing", { webhookId: w.id, eventId: x.event.id, attempts: x.attempts, error: x.last.error })
        setState(w.id, { state: "stopped" })
        yield* persistently(
          "recording a webhook's pause",
          handleWebhookCommand(
            store,
            { kind: "PauseWebhook", webhookId: w.id, reason, eventId: x.event.id },
            { correlationId: x.event.id, source: "webhooks", actor: "webhooks" }
          )
        ).pipe(
          // Paused or removed meanwhile by an admin: nothing more to say.
          Effect.catchTags({ WebhookStatusConflict: () => Effect.void, WebhookNotFound: () => Effect.void }),
          Effect.catch((e) => Effect.sync(() => logger.log("error", "a webhook's pause could not be recorded", { webhookId: w.id, error: errorText(e) })))
        )
      })

    /** One subscription's fiber: follow the store from the checkpoint, deliver, move the checkpoint. */
    const deliverer = (w: Webhook) =>
      Effect.gen(function* () {
        const secret = secrets.get(w.id)
        if (secret === undefined) {
          setState(w.id, { state: "no-secret", lastError: "this instance holds no secret for it" })
          logger.log("warn", "webhook not delivered: this instance holds no secret for it", { webhookId: w.id })
          return
        }
        const checkpoint = checkpointOf(w.id)
        const saved = checkpoint.read()
        let from: Position | "start" = saved !== "start" ? saved : (registeredAt.get(w.id) ?? "start")
        setState(w.id, { state: "delivering", checkpoint: from === "start" ? null : encodePosition(from), consecutiveFailures: 0, lastError: null })
        const follow = Effect.suspend(() =>
          store.subscribeAll({ from, filter: { streamPrefix: [streamPrefix], eventTypes: w.eventTypes } }).pipe(
            Stream.runForEach((e) =>
              e._tag === "CaughtUp"
                ? Effect.void
                : deliverEvent(w, secret, e).pipe(
                    Effect.andThen(
                      Effect.sync(() => {
                        checkpoint.write(e.position)
                        from = e.position
                        setState(w.id, { checkpoint: encodePosition(e.position) })
                      })
                    )
                  )
            )
          )
        )
        yield* follow.pipe(
          // The store dropped the subscription: follow again after the last event delivered.
          Effect.retry({ schedule: backoff(200, 5_000), while: (e) => e._tag !== "Exhausted" }),
          Effect.catchTag("Exhausted", (x) => pauseFor(w, x)),
          Effect.catch((e) => Effect.sync(() => logger.log("error", "webhook delivery stopped", { webhookId: w.id, error: errorText(e) })))
        )
      })

    const reconcile = (id: string) =>
      Effect.gen(function* () {
        const w = fold.webhooks.get(id)
        if (w === undefined) return
        if (w.status === "active") {
          yield* FiberMap.run(fibers, id, deliverer(w), { onlyIfMissing: true })
          return
        }
        yield* FiberMap.remove(fibers, id)
        setState(id, { state: "stopped" })
        if (w.status === "removed") {
          secrets.remove(id)
          rmSync(join(dir, `${id}.checkpoint.json`), { force: true })
        }
      })

    let caughtUp = false
    let lastRevision: bigint | "start" = "start"
    const followSubscriptions = Effect.suspend(() =>
      store.subscribeStream(webhooksStream, lastRevision).pipe(
        Stream.runForEach((e) =>
          Effect.gen(function* () {
            if (e._tag === "CaughtUp") {
              if (!caughtUp) for (const id of fold.webhooks.keys()) yield* reconcile(id)
              caughtUp = true
              return
            }
            fold = foldEvent(fold, e.type, e.data, e.revision)
            lastRevision = e.revision
            const id = (e.data as { webhookId?: unknown } | null)?.webhookId
            if (e.type === "WebhookRegistered" && typeof id === "string") registeredAt.set(id, e.position)
            if (caughtUp && typeof id === "string") yield* reconcile(id)
            for (const w of revisionWaiters)
              if (w.revision <= e.revision) {
                revisionWaiters.delete(w)
                w.done()
              }
          })
        )
      )
    )
    yield* Effect.forkScoped(
      followSubscriptions.pipe(
        Effect.tapError((e) => Effect.sync(() => logger.log("warn", "the webhooks' subscription to the store failed; resubscribing", { error: errorText(e) }))),
        Effect.retry({ schedule: backoff(200, 5_000) })
      )
    )

    const shape: WebhooksShape = {
      config,
      secrets,
      delivery: (id) => states.get(id) ?? { state: "stopped", checkpoint: null, consecutiveFailures: 0, lastError: null },
      deliveries: (id) => attempts.get(id) ?? [],
      seen: (revision) =>
        Effect.callback<void>((resume) => {
          if (lastRevision !== "start" && lastRevision >= revision) return resume(Effect.void)
          const w = { revision, done: () => resume(Effect.void) }
          revisionWaiters.add(w)
          return Effect.sync(() => void revisionWaiters.delete(w))
        })
    }
    return shape
  })
