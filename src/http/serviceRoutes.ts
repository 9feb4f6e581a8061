// /healthz (liveness: the process answers), /readyz (the store answers and the read
// models are caught up) and /openapi.json.
import type { Hono } from "hono"
import { Effect, Result } from "effect"
import type { HttpDeps } from "./deps.ts"
import type { HttpEnv } from "./env.ts"
import { buildOpenApi } from "./openapi.ts"
import { router } from "./routeKit.ts"
import { routes } from "./routes.ts"

/** How long /readyz waits for the store before calling it unreachable. */
const storeCheckMs = 2_000

const noStore = { "Cache-Control": "no-store" }

export const serviceRoutes = (app: Hono<HttpEnv>, deps: HttpDeps): void => {
  const handle = router(app, deps)

  handle(routes.healthz, () => Effect.succeed({ status: 200, body: { status: "ok" }, headers: noStore } as const))

  handle(routes.readyz, () =>
    Effect.gen(function* () {
      const head = yield* Effect.result(deps.store.headPosition().pipe(Effect.timeout(storeCheckMs)))
      const storeOk = Result.isSuccess(head)
      const caughtUp = deps.projections.isCaughtUp()
      const body = {
        store: storeOk ? "ok" : "unavailable",
        projections: caughtUp ? "caught_up" : "catching_up"
      } as const
      return storeOk && caughtUp
        ? ({ status: 200, body: { status: "ready", ...body }, headers: noStore } as const)
        : ({ status: 503, body: { status: "not_ready", ...body }, headers: { ...noStore, "Retry-After": "1" } } as const)
    })
  )

  let document: Record<string, unknown> | undefined
  handle(routes.openapi, () => Effect.sync(() => ({ status: 200, body: (document ??= buildOpenApi()) }) as const))
}
