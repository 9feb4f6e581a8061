// POST /v1/sessions/:id/permission-mode and /model: a session's controls, changed whether
// a run is active or not. The handler works out a bypass's end from the request's
// expiresInMs (its default and its cap are the service's) and records the change; the
// supervisor reacts to the event (the live run is switched, a bypass's end is timed).
import type { Hono } from "hono"
import { Clock, Effect } from "effect"
import type { Session } from "../domain/sessionState.ts"
import type { HttpDeps } from "./deps.ts"
import type { HttpEnv } from "./env.ts"
import { checkPermissionMode } from "./permissionModeCheck.ts"
import { type HttpProblem, validationFailed } from "./problem.ts"
import { accepted, acceptedBody, commandContext, type Ctx, router } from "./routeKit.ts"
import { routes } from "./routes.ts"

export const defaultBypassMs = 15 * 60_000
export const defaultBypassMaxMs = 60 * 60_000

const controlsOf = (s: Session) => ({
  ...(s.options.permissionMode !== undefined ? { permissionMode: s.options.permissionMode } : {}),
  ...(s.bypassExpiresAt !== undefined ? { bypassExpiresAt: s.bypassExpiresAt } : {}),
  ...(s.options.model !== undefined ? { model: s.options.model } : {})
})

/**
 * When a bypass asked for now ends: the request's duration (422 over AGENTLOG_BYPASS_MAX_MS,
 * or given for another mode) or the default, from the edge's clock. Every bypass, by the
 * permission-mode route or with a run (launch, continue, fork, follow-up), is timed here.
 */
export const bypassEnd = (
  deps: HttpDeps,
  mode: Session["options"]["permissionMode"],
  expiresInMs: number | undefined,
  field: string
): Effect.Effect<string | undefined, HttpProblem> =>
  Effect.gen(function* () {
    const maxMs = deps.config.bypassMaxMs ?? defaultBypassMaxMs
    if (mode !== "bypassPermissions" && expiresInMs !== undefined)
      return yield* Effect.fail(validationFailed(`${field}: only bypassPermissions expires`, [{ path: field, message: "only with bypassPermissions" }]))
    if (expiresInMs !== undefined && expiresInMs > maxMs)
      return yield* Effect.fail(
        validationFailed(`${field}: at most ${maxMs} ms (AGENTLOG_BYPASS_MAX_MS)`, [{ path: field, message: `at most ${maxMs}` }])
      )
    if (mode !== "bypassPermissions") return undefined
    const now = yield* Clock.currentTimeMillis
    return new Date(now + (expiresInMs ?? Math.min(defaultBypassMs, maxMs))).toISOString()
  })

/** A run's bypass grant for its command (`bypass`), by the request's principal; nothing when the run is not in bypassPermissions. */
export const bypassGrant = (c: Ctx, deps: HttpDeps, mode: Session["options"]["permissionMode"], expiresInMs: number | undefined) =>
  Effect.map(bypassEnd(deps, mode, expiresInMs, "/bypassExpiresInMs"), (expiresAt) =>
    expiresAt === undefined ? {} : { bypass: { expiresAt, grantedBy: c.get("principal").name } }
  )

export const sessionControlRoutes = (app: Hono<HttpEnv>, deps: HttpDeps): void => {
  const { commands } = deps
  const handle = router(app, deps)

  handle(routes.changePermissionMode, ({ c, id: sessionId, body: { mode, expiresInMs }, ifMatch: expectedRevision }) =>
    Effect.gen(function* () {
      yield* checkPermissionMode(deps, mode)
      const expiresAt = yield* bypassEnd(deps, mode, expiresInMs, "/expiresInMs")
      const outcome = yield* commands.handle(
        { kind: "ChangePermissionMode", sessionId, mode, ...(expiresAt ? { expiresAt } : {}), changedBy: c.get("principal").name },
        commandContext(c),
        expectedRevision === undefined ? undefined : { expectedRevision }
      )
      return accepted(acceptedBody(outcome, controlsOf(outcome.state)))
    })
  )

  handle(routes.changeModel, ({ c, id: sessionId, body: { model }, ifMatch: expectedRevision }) =>
    commands
      .handle(
        { kind: "ChangeModel", sessionId, model, changedBy: c.get("principal").name },
        commandContext(c),
        expectedRevision === undefined ? undefined : { expectedRevision }
      )
      .pipe(Effect.map((outcome) => accepted(acceptedBody(outcome, controlsOf(outcome.state)))))
  )
}
