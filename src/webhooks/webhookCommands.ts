// The write side of webhook subscriptions: fold the stream, decide, append at the revision
// folded (a concurrent change is read again and decided again). The HTTP routes and the
// delivery loop (when it pauses a failing subscription) both go through here.
import { randomUUID } from "node:crypto"
import { Clock, Effect, Stream } from "effect"
import type { AppendError, EventStoreShape, ReadError } from "../eventstore/eventStore.ts"
import { decide, decodeWebhookEvent, evolve, type WebhookCommand, type WebhookError, type Webhooks, webhooksStream } from "./webhookEvents.ts"

export interface WebhooksFold {
  readonly webhooks: Webhooks
  /** The stream's last revision, or null when it has no event yet. */
  readonly revision: bigint | null
}

export const emptyFold: WebhooksFold = { webhooks: new Map(), revision: null }

export const foldEvent = (fold: WebhooksFold, type: string, data: unknown, revision: bigint): WebhooksFold => {
  const e = decodeWebhookEvent(type, data)
  return { webhooks: e === null ? fold.webhooks : evolve(fold.webhooks, e), revision }
}

/** Every subscription as the stream has it now. */
export const loadWebhooks = (store: EventStoreShape): Effect.Effect<WebhooksFold, Exclude<ReadError, { _tag: "StreamNotFound" }>> =>
  store.readStream(webhooksStream).pipe(
    Stream.runFold(() => emptyFold, (acc, e) => foldEvent(acc, e.type, e.data, e.revision)),
    Effect.catchTag("StreamNotFound", () => Effect.succeed(emptyFold))
  )

export interface WebhookCommandContext {
  readonly correlationId: string
  readonly source: "api" | "webhooks"
  /** The principal who asked (or the source). */
  readonly actor: string
}

export type WebhookCommandError = WebhookError | AppendError | Exclude<ReadError, { _tag: "StreamNotFound" }>

/** Decides the command on the stream as it is and appends what it decided; the subscriptions after it. */
export const handleWebhookCommand = (
  store: EventStoreShape,
  command: WebhookCommand,
  ctx: WebhookCommandContext,
  attempt = 0
): Effect.Effect<WebhooksFold, WebhookCommandError> =>
  Effect.gen(function* () {
    const fold = yield* loadWebhooks(store)
    const at = new Date(yield* Clock.currentTimeMillis).toISOString()
    const decided = decide(command, fold.webhooks, { at, by: ctx.actor })
    if (!Array.isArray(decided)) return yield* Effect.fail(decided as WebhookError)
    const metadata = { correlationId: ctx.correlationId, schemaVersion: 1, recordedAt: at, source: ctx.source, actor: ctx.actor }
    const result = yield* store.append(
      webhooksStream,
      decided.map((e) => ({ id: randomUUID(), type: e.type, data: e.data, metadata })),
      fold.revision ?? "no_stream"
    )
    let next = fold
    let revision = result.nextRevision - BigInt(decided.length)
    for (const e of decided) next = foldEvent(next, e.type, e.data, ++revision)
    return next
  }).pipe(
    Effect.catchTag("WrongExpectedVersion", (e) => (attempt < 5 ? handleWebhookCommand(store, command, ctx, attempt + 1) : Effect.fail(e)))
  )
