// The webhook subscriptions' routes (admin only). Commands are decided on the stream
// agentlog-webhooks and appended there (src/webhooks/webhookCommands.ts); the delivery
// manager reacts to what is appended. A registration's secret goes into the secrets file
// before its event is appended, so a subscription the store knows always has its secret
// (a failed append leaves an unused entry, never a subscription without one).
import { randomUUID } from "node:crypto"
import type { Hono } from "hono"
import { Effect } from "effect"
import { handleWebhookCommand, loadWebhooks, type WebhookCommandContext } from "../webhooks/webhookCommands.ts"
import { resolveSelection, type Webhook, type WebhookCommand, WebhookNotFound } from "../webhooks/webhookEvents.ts"
import { checkWebhookUrl } from "../webhooks/webhookUrl.ts"
import type { HttpDeps } from "./deps.ts"
import type { HttpEnv } from "./env.ts"
import { validationFailed } from "./problem.ts"
import { commandContext, type Ctx, router } from "./routeKit.ts"
import { routes } from "./routes.ts"

export const webhookRoutes = (app: Hono<HttpEnv>, deps: HttpDeps): void => {
  const handle = router(app, deps)

  const view = (w: Webhook) => ({
    id: w.id,
    url: w.url,
    events: w.selection,
    eventTypes: w.eventTypes,
    description: w.description ?? null,
    status: w.status,
    createdAt: w.createdAt,
    createdBy: w.createdBy,
    pausedReason: w.pausedReason ?? null,
    pausedAt: w.pausedAt ?? null,
    pausedBy: w.pausedBy ?? null,
    pausedAtEventId: w.pausedAtEventId ?? null,
    delivery: deps.webhooks.delivery(w.id)
  })

  const ctxOf = (c: Ctx): WebhookCommandContext => {
    const { correlationId, actor } = commandContext(c)
    return { correlationId, source: "api", actor: actor ?? "api" }
  }

  /** Appends the command's events; answers with the subscription as the manager then sees it. */
  const run = (c: Ctx, command: WebhookCommand) =>
    Effect.gen(function* () {
      const fold = yield* handleWebhookCommand(deps.store, command, ctxOf(c))
      // The answer shows the delivery state after the manager reacted (started or stopped its fiber).
      if (fold.revision !== null) yield* deps.webhooks.seen(fold.revision).pipe(Effect.timeoutOrElse({ duration: 2_000, orElse: () => Effect.void }))
      return view(fold.webhooks.get(command.webhookId)!)
    })

  const find = (id: string) =>
    Effect.gen(function* () {
      const w = (yield* loadWebhooks(deps.store)).webhooks.get(id)
      if (w === undefined || w.status === "removed") return yield* Effect.fail(new WebhookNotFound({ webhookId: id }))
      return w
    })

  handle(routes.registerWebhook, ({ c, body }) =>
    Effect.gen(function* () {
      const url = checkWebhookUrl(body.url, deps.webhooks.config.allowHttp)
      if ("refused" in url) return yield* Effect.fail(validationFailed(`/url: ${url.refused}`, [{ path: "/url", message: url.refused }]))
      const { types, unknown } = resolveSelection(body.events)
      if (unknown.length > 0) {
        const message = `names no event type or preset: ${unknown.map((u) => JSON.stringify(u.slice(0, 100))).join(", ")}`
        return yield* Effect.fail(validationFailed(`/events ${message}`, [{ path: "/events", message }]))
      }
      const webhookId = randomUUID()
      deps.webhooks.secrets.put(webhookId, body.secret)
      const w = yield* run(c, { kind: "RegisterWebhook", webhookId, url: url.url, selection: body.events, eventTypes: types, description: body.description })
      return { status: 201 as const, body: w }
    })
  )

  handle(routes.listWebhooks, () =>
    Effect.gen(function* () {
      const { webhooks } = yield* loadWebhooks(deps.store)
      return { status: 200 as const, body: { items: [...webhooks.values()].filter((w) => w.status !== "removed").map(view) } }
    })
  )

  handle(routes.getWebhook, ({ id }) => Effect.map(find(id), (w) => ({ status: 200 as const, body: view(w) })))

  handle(routes.removeWebhook, ({ c, id }) =>
    Effect.map(run(c, { kind: "RemoveWebhook", webhookId: id }), (w) => ({ status: 200 as const, body: w }))
  )

  handle(routes.pauseWebhook, ({ c, id, body }) =>
    Effect.map(run(c, { kind: "PauseWebhook", webhookId: id, reason: body.reason ?? `paused by ${ctxOf(c).actor}` }), (w) => ({
      status: 200 as const,
      body: w
    }))
  )

  handle(routes.resumeWebhook, ({ c, id }) =>
    Effect.map(run(c, { kind: "ResumeWebhook", webhookId: id }), (w) => ({ status: 200 as const, body: w }))
  )

  handle(routes.webhookDeliveries, ({ id }) =>
    Effect.map(find(id), (w) => ({ status: 200 as const, body: { items: deps.webhooks.deliveries(w.id) } }))
  )
}
