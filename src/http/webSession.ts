// The page's login: it posts the API token once and gets an HttpOnly, SameSite=Strict
// cookie back, so EventSource (which cannot send headers) works and the page never keeps
// the token (no URL, no storage). Both routes answer without a token: the login is how
// one gets in, and the state tells the page whether to ask.
import type { Context, Hono } from "hono"
import { digest, tokenMatches } from "./auth.ts"
import type { HttpDeps } from "./deps.ts"
import type { HttpEnv } from "./env.ts"
import { unauthorized } from "./problem.ts"
import { on, body } from "./routeKit.ts"
import { routes } from "./routes.ts"
import { makeCookieCheck, WebLoginBody, webCookieName, webCookieValue } from "./webCookie.ts"

const cookie = (c: Context<HttpEnv>, value: string, maxAgeSeconds: number): string =>
  `${webCookieName}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}` +
  (new URL(c.req.url).protocol === "https:" ? "; Secure" : "")

export const webSessionRoutes = (app: Hono<HttpEnv>, deps: HttpDeps): void => {
  const apiToken = deps.config.apiToken || undefined
  const expected = apiToken === undefined ? undefined : digest(apiToken)
  const hasCookie = apiToken === undefined ? () => false : makeCookieCheck(apiToken)
  on(app, routes.webSessionState, (c) =>
    c.json(
      { authRequired: apiToken !== undefined, authenticated: apiToken === undefined || hasCookie(c.req.header("cookie")) },
      200,
      { "Cache-Control": "no-store" }
    )
  )
  on(app, routes.webLogin, async (c) => {
    const { token } = await body(c, deps, WebLoginBody)
    if (apiToken === undefined || expected === undefined) return c.body(null, 204)
    if (!tokenMatches(expected, token)) throw unauthorized()
    return c.body(null, 204, { "Set-Cookie": cookie(c, webCookieValue(apiToken), 60 * 60 * 24 * 30), "Cache-Control": "no-store" })
  })
}
