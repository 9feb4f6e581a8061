// /healthz (liveness: the process answers), /readyz (the store answers and the read
// models are caught up) and /openapi.json.
import type { Hono } from "hono"
import { Effect, Result } from "effect"
import type { HttpDeps } from "./deps.ts"
import type { HttpEnv } from "./env.ts"
import { buildOpenApi } from "./openapi.ts"
import { on } from "./routeKit.ts"
import { routes } from "./routes.ts"

/** How long /readyz waits for the store before calling it unreachable. */
const storeCheckMs = 2_000

export const serviceRoutes = (app: Hono<HttpEnv>, deps: HttpDeps): void => {
  on(app, routes.healthz, (c) => {
    c.header("Cache-Control", "no-store")
    return c.json({ status: "ok" })
  })

  on(app, routes.readyz, async (c) => {
    const head = await Effect.runPromise(
      Effect.result(deps.store.headPosition().pipe(Effect.timeout(storeCheckMs)))
    )
    const storeOk = Result.isSuccess(head)
    const caughtUp = deps.projections.isCaughtUp()
    const ready = storeOk && caughtUp
    c.header("Cache-Control", "no-store")
    if (!ready) c.header("Retry-After", "1")
    return c.json(
      {
        status: ready ? "ready" : "not_ready",
        store: storeOk ? "ok" : "unavailable",
        projections: caughtUp ? "caught_up" : "catching_up"
      },
      ready ? 200 : 503
    )
  })

  let document: unknown
  on(app, routes.openapi, (c) => {
    document ??= buildOpenApi()
    return c.json(document as object)
  })
}
