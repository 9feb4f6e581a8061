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
import { validationFailed } from "./problem.ts"
import { accepted, acceptedBody, commandContext, router } from "./routeKit.ts"
import { routes } from "./routes.ts"

export const defaultBypassMs = 15 * 60_000
export const defaultBypassMaxMs = 60 * 60_000

const controlsOf = (s: Session) => ({
  ...(s.options.permissionMode !== undefined ? { permissionMode: s.options.permissionMode } : {}),
  ...(s.bypassExpiresAt !== undefined ? { bypassExpiresAt: s.bypassExpiresAt } : {}),
  ...(s.options.model !== undefined ? { model: s.options.model } : {})
})

export const sessionControlRoutes = (app: Hono<HttpEnv>, deps: HttpDeps): void => {
  const { commands } = deps
  const handle = router(app, deps)
  const maxMs = deps.config.bypassMaxMs ?? defaultBypassMaxMs

  handle(routes.changePermissionMode, ({ c, id: sessionId, body: { mode, expiresInMs }, ifMatch: expectedRevision }) =>
    Effect.gen(function* () {
      yield* checkPermissionMode(deps, mode)
      if (mode !== "bypassPermissions" && expiresInMs !== undefined)
        return yield* Effect.fail(
          validationFailed("/expiresInMs: only bypassPermissions expires", [{ path: "/expiresInMs", message: "only with mode bypassPermissions" }])
        )
      if (expiresInMs !== undefined && expiresInMs > maxMs)
        return yield* Effect.fail(
          validationFailed(`/expiresInMs: at most ${maxMs} ms (AGENTLOG_BYPASS_MAX_MS)`, [
            { path: "/expiresInMs", message: `at most ${maxMs}` }
          ])
        )
      const now = yield* Clock.currentTimeMillis
      const expiresAt =
        mode === "bypassPermissions" ? new Date(now + (expiresInMs ?? Math.min(defaultBypassMs, maxMs))).toISOString() : undefined
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
