// The webhook routes' bodies and answers (the route table names them; openapi.ts documents
// them). The secret is in the registration body and nowhere in an answer.
import { Schema } from "effect"
import { presets } from "../webhooks/webhookEvents.ts"
import { DateTime, Uuid } from "./bodies.ts"

const Selection = Schema.Array(Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(100)))
  .check(Schema.isMinLength(1), Schema.isMaxLength(100))
  .annotate({
    description: `Event types (SessionLaunched, ApprovalRequested, …) and presets (${Object.keys(presets).join(", ")}); at least one.`
  })

export const RegisterWebhookBody = Schema.Struct({
  url: Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(2_000)).annotate({
    description: "Where each event is POSTed: https (http only to a loopback address unless AGENTLOG_WEBHOOK_ALLOW_HTTP=1); no credentials in it."
  }),
  events: Selection,
  secret: Schema.String.check(Schema.isMinLength(16), Schema.isMaxLength(256)).annotate({
    description: "Signs every delivery (HMAC-SHA256). Kept in the service's data dir; never shown again, never recorded in an event."
  }),
  description: Schema.optionalKey(Schema.String.check(Schema.isMaxLength(1_000)))
}).annotate({ identifier: "RegisterWebhook", description: "A subscription: which events go where, signed with which secret." })
export type RegisterWebhookBody = typeof RegisterWebhookBody.Type

export const PauseWebhookBody = Schema.Struct({
  reason: Schema.optionalKey(Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(1_000)))
}).annotate({ identifier: "PauseWebhook", description: "Stops deliveries until resumed; the reason is recorded." })

const Text = Schema.NullOr(Schema.String)

export const Webhook = Schema.Struct({
  id: Uuid,
  url: Schema.String,
  events: Schema.Array(Schema.String).annotate({ description: "The selection as registered (types and presets)." }),
  eventTypes: Schema.Array(Schema.String).annotate({ description: "The event types delivered (presets expanded)." }),
  description: Text,
  status: Schema.Literals(["active", "paused", "removed"]),
  createdAt: DateTime,
  createdBy: Schema.String,
  pausedReason: Text.annotate({ description: "Why it is paused: by whom, or which event kept failing and how." }),
  pausedAt: Schema.NullOr(DateTime),
  pausedBy: Text,
  pausedAtEventId: Text.annotate({ description: "The event it stopped at (delivered first on resume)." }),
  delivery: Schema.Struct({
    state: Schema.Literals(["delivering", "retrying", "stopped", "no-secret"]).annotate({
      description: "This instance's delivery: no-secret when its data dir holds no secret for the subscription."
    }),
    checkpoint: Text.annotate({ description: "The position of the last event delivered (or of the registration): deliveries go on after it." }),
    consecutiveFailures: Schema.Int,
    lastError: Text
  })
}).annotate({ identifier: "Webhook", description: "A webhook subscription (never its secret)." })

export const WebhookList = Schema.Struct({ items: Schema.Array(Webhook) }).annotate({ identifier: "WebhookList" })

export const WebhookDelivery = Schema.Struct({
  eventId: Uuid,
  eventType: Schema.String,
  sessionId: Schema.String,
  position: Schema.String,
  attempt: Schema.Int.annotate({ description: "1 for the first try of this event, then 2, 3, …" }),
  at: DateTime,
  durationMs: Schema.Int,
  outcome: Schema.Literals(["delivered", "failed"]),
  status: Schema.NullOr(Schema.Int).annotate({ description: "The receiver's HTTP status (null: no answer)." }),
  error: Text
}).annotate({ identifier: "WebhookDelivery", description: "One POST of one event." })

export const WebhookDeliveries = Schema.Struct({ items: Schema.Array(WebhookDelivery) }).annotate({
  identifier: "WebhookDeliveries",
  description: "The latest attempts (up to 100), newest first, made by this instance since it started."
})
