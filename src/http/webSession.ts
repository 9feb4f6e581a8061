// The page's login: it posts the API token or an API key once and gets an HttpOnly,
// SameSite=Strict cookie back, so EventSource (which cannot send headers) works and the
// page never keeps the credential (no URL, no storage). Both routes answer without
// credentials: the login is how one gets in, and the state tells the page whether to ask
// and as whom it is logged in.
import type { Context, Hono } from "hono"
import { Effect } from "effect"
import type { Authenticator } from "./auth.ts"
import type { HttpDeps } from "./deps.ts"
import type { HttpEnv } from "./env.ts"
import { unauthorized } from "./problem.ts"
import { router } from "./routeKit.ts"
import { routes } from "./routes.ts"
import { webCookieName } from "./webCookie.ts"

const cookie = (c: Context<HttpEnv>, value: string, maxAgeSeconds: number): string =>
  `${webCookieName}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}` +
  (new URL(c.req.url).protocol === "https:" ? "; Secure" : "")

const noStore = { "Cache-Control": "no-store" }

export const webSessionRoutes = (app: Hono<HttpEnv>, deps: HttpDeps, auth: Authenticator): void => {
  const handle = router(app, deps)
  handle(routes.webSessionState, ({ c }) => {
    const required = auth.required()
    const principal = auth.cookie(c.req.header("cookie"))
    return Effect.succeed({
      status: 200,
      body: { authRequired: required, authenticated: !required || principal !== undefined, ...(principal ? { principal } : {}) },
      headers: noStore
    } as const)
  })
  handle(routes.webLogin, ({ c, body }) => {
    if (!auth.required()) return Effect.succeed(new Response(null, { status: 204 }))
    const login = auth.loginCookie(body.token)
    if (login === undefined) return Effect.fail(unauthorized())
    return Effect.succeed(
      new Response(null, { status: 204, headers: { "Set-Cookie": cookie(c, login.value, 60 * 60 * 24 * 30), ...noStore } })
    )
  })
}
