// The page's login: it posts the API token once and gets an HttpOnly, SameSite=Strict
// cookie back, so EventSource (which cannot send headers) works and the page never keeps
// the token (no URL, no storage). Both routes answer without a token: the login is how
// one gets in, and the state tells the page whether to ask.
import type { Context, Hono } from "hono"
import { Effect } from "effect"
import { digest, tokenMatches } from "./auth.ts"
import type { HttpDeps } from "./deps.ts"
import type { HttpEnv } from "./env.ts"
import { unauthorized } from "./problem.ts"
import { router } from "./routeKit.ts"
import { routes } from "./routes.ts"
import { makeCookieCheck, webCookieName, webCookieValue } from "./webCookie.ts"

const cookie = (c: Context<HttpEnv>, value: string, maxAgeSeconds: number): string =>
  `${webCookieName}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}` +
  (new URL(c.req.url).protocol === "https:" ? "; Secure" : "")

const noStore = { "Cache-Control": "no-store" }

export const webSessionRoutes = (app: Hono<HttpEnv>, deps: HttpDeps): void => {
  const handle = router(app, deps)
  const apiToken = deps.config.apiToken || undefined
  const expected = apiToken === undefined ? undefined : digest(apiToken)
  const hasCookie = apiToken === undefined ? () => false : makeCookieCheck(apiToken)
  handle(routes.webSessionState, ({ c }) =>
    Effect.succeed({
      status: 200,
      body: { authRequired: apiToken !== undefined, authenticated: apiToken === undefined || hasCookie(c.req.header("cookie")) },
      headers: noStore
    } as const)
  )
  handle(routes.webLogin, ({ c, body }) => {
    if (apiToken === undefined || expected === undefined) return Effect.succeed(new Response(null, { status: 204 }))
    if (!tokenMatches(expected, body.token)) return Effect.fail(unauthorized())
    return Effect.succeed(
      new Response(null, {
        status: 204,
        headers: { "Set-Cookie": cookie(c, webCookieValue(apiToken), 60 * 60 * 24 * 30), ...noStore }
      })
    )
  })
}
