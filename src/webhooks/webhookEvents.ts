// Webhook subscriptions as events: registration, pause, resume and removal go into one
// system stream, `agentlog-webhooks` (outside the session streams, so no read model or
// the supervisor sees them). The state of every subscription is the fold of that stream;
// `decide` says what a command appends or why it is refused. Pure: no I/O, clock or ids.
// The secret is never in an event: it lives in the secrets file (webhookSecrets.ts).
import { Data, Schema } from "effect"
import { eventTypes } from "../domain/sessionEvents.ts"

export const webhooksStream = "agentlog-webhooks"

/** Named sets of event types a subscription may ask for instead of (or beside) the types. */
export const presets = {
  "approval.requested": ["ApprovalRequested"],
  "approval.decided": ["ApprovalDecided"],
  "session.started": ["SessionLaunched", "SessionForked", "ContinueRequested"],
  "session.ended": ["RunCompleted", "RunFailed", "RunInterrupted", "RunAbandoned"]
} as const satisfies Record<string, ReadonlyArray<(typeof eventTypes)[number]>>
export type Preset = keyof typeof presets

/** The event types a subscription's selection names (presets expanded); unknown names listed apart. */
export const resolveSelection = (selection: ReadonlyArray<string>): { readonly types: ReadonlyArray<string>; readonly unknown: ReadonlyArray<string> } => {
  const types = new Set<string>()
  const unknown: Array<string> = []
  for (const s of selection) {
    if (Object.hasOwn(presets, s)) for (const t of presets[s as Preset]) types.add(t)
    else if ((eventTypes as ReadonlyArray<string>).includes(s)) types.add(s)
    else unknown.push(s)
  }
  return { types: [...types].sort(), unknown }
}

const Uuid = Schema.String.check(Schema.isUUID())
const Text = Schema.String.check(Schema.isMaxLength(10_000))
const At = Schema.String.check(Schema.isMaxLength(64))

export const WebhookRegistered = Schema.Struct({
  webhookId: Uuid,
  url: Text,
  /** What the admin asked for: event types and presets. */
  selection: Schema.Array(Text),
  /** The event types delivered (the selection with its presets expanded). */
  eventTypes: Schema.Array(Text),
  description: Schema.optionalKey(Text),
  at: At,
  by: Text
})
export const WebhookPaused = Schema.Struct({
  webhookId: Uuid,
  reason: Text,
  /** The event whose delivery kept failing (absent when an admin paused it). */
  eventId: Schema.optionalKey(Text),
  at: At,
  by: Text
})
export const WebhookResumed = Schema.Struct({ webhookId: Uuid, at: At, by: Text })
export const WebhookRemoved = Schema.Struct({ webhookId: Uuid, at: At, by: Text })

const schemas = { WebhookRegistered, WebhookPaused, WebhookResumed, WebhookRemoved } as const
export type WebhookEventType = keyof typeof schemas
export type WebhookEvent = { readonly [K in WebhookEventType]: { readonly type: K; readonly data: (typeof schemas)[K]["Type"] } }[WebhookEventType]

export const webhookEventTypes = Object.keys(schemas) as ReadonlyArray<WebhookEventType>

/** A stored event of the stream, checked against its schema; null for anything else. */
export const decodeWebhookEvent = (type: string, data: unknown): WebhookEvent | null => {
  if (!Object.hasOwn(schemas, type)) return null
  const decoded = Schema.decodeUnknownOption(schemas[type as WebhookEventType] as Schema.Decoder<unknown>)(data)
  return decoded._tag === "Some" ? ({ type, data: decoded.value } as WebhookEvent) : null
}

export interface Webhook {
  readonly id: string
  readonly url: string
  readonly selection: ReadonlyArray<string>
  readonly eventTypes: ReadonlyArray<string>
  readonly description: string | undefined
  readonly status: "active" | "paused" | "removed"
  readonly createdAt: string
  readonly createdBy: string
  readonly pausedReason: string | undefined
  readonly pausedAt: string | undefined
  readonly pausedBy: string | undefined
  /** The event whose delivery kept failing when the service paused it. */
  readonly pausedAtEventId: string | undefined
}

export type Webhooks = ReadonlyMap<string, Webhook>

export const evolve = (state: Webhooks, e: WebhookEvent): Webhooks => {
  const next = new Map(state)
  const current = next.get(e.data.webhookId)
  switch (e.type) {
    case "WebhookRegistered":
      next.set(e.data.webhookId, {
        id: e.data.webhookId,
        url: e.data.url,
        selection: e.data.selection,
        eventTypes: e.data.eventTypes,
        description: e.data.description,
        status: "active",
        createdAt: e.data.at,
        createdBy: e.data.by,
        pausedReason: undefined,
        pausedAt: undefined,
        pausedBy: undefined,
        pausedAtEventId: undefined
      })
      break
    case "WebhookPaused":
      if (current)
        next.set(current.id, { ...current, status: "paused", pausedReason: e.data.reason, pausedAt: e.data.at, pausedBy: e.data.by, pausedAtEventId: e.data.eventId })
      break
    case "WebhookResumed":
      if (current)
        next.set(current.id, { ...current, status: "active", pausedReason: undefined, pausedAt: undefined, pausedBy: undefined, pausedAtEventId: undefined })
      break
    case "WebhookRemoved":
      if (current) next.set(current.id, { ...current, status: "removed" })
      break
  }
  return next
}

export class WebhookNotFound extends Data.TaggedError("WebhookNotFound")<{ readonly webhookId: string }> {
  override get message() {
    return `no webhook ${this.webhookId}`
  }
}

export class WebhookStatusConflict extends Data.TaggedError("WebhookStatusConflict")<{
  readonly webhookId: string
  readonly status: Webhook["status"]
  readonly command: WebhookCommand["kind"]
}> {
  override get message() {
    return `webhook ${this.webhookId} is ${this.status}: cannot ${this.command === "ResumeWebhook" ? "resume" : "pause"} it`
  }
}

export type WebhookError = WebhookNotFound | WebhookStatusConflict

export type WebhookCommand =
  | {
      readonly kind: "RegisterWebhook"
      readonly webhookId: string
      readonly url: string
      readonly selection: ReadonlyArray<string>
      readonly eventTypes: ReadonlyArray<string>
      readonly description?: string | undefined
    }
  | { readonly kind: "PauseWebhook"; readonly webhookId: string; readonly reason: string; readonly eventId?: string | undefined }
  | { readonly kind: "ResumeWebhook"; readonly webhookId: string }
  | { readonly kind: "RemoveWebhook"; readonly webhookId: string }

/** Who and when, given by the caller (the domain takes no clock). */
export interface Stamp {
  readonly at: string
  readonly by: string
}

/** What a command appends to the stream, or why not. */
export const decide = (command: WebhookCommand, state: Webhooks, stamp: Stamp): ReadonlyArray<WebhookEvent> | WebhookError => {
  const { at, by } = stamp
  if (command.kind === "RegisterWebhook") {
    const { kind: _, webhookId, description, ...rest } = command
    return [{ type: "WebhookRegistered", data: { webhookId, ...rest, ...(description !== undefined ? { description } : {}), at, by } }]
  }
  const current = state.get(command.webhookId)
  if (!current || current.status === "removed") return new WebhookNotFound({ webhookId: command.webhookId })
  switch (command.kind) {
    case "PauseWebhook":
      if (current.status !== "active") return new WebhookStatusConflict({ webhookId: current.id, status: current.status, command: command.kind })
      return [
        {
          type: "WebhookPaused",
          data: { webhookId: current.id, reason: command.reason, ...(command.eventId !== undefined ? { eventId: command.eventId } : {}), at, by }
        }
      ]
    case "ResumeWebhook":
      if (current.status !== "paused") return new WebhookStatusConflict({ webhookId: current.id, status: current.status, command: command.kind })
      return [{ type: "WebhookResumed", data: { webhookId: current.id, at, by } }]
    case "RemoveWebhook":
      return [{ type: "WebhookRemoved", data: { webhookId: current.id, at, by } }]
  }
}
