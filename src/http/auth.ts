// Bearer-token authentication. When a token is configured every route but /healthz
// requires it; the comparison is constant-time over SHA-256 digests (equal lengths, so
// timingSafeEqual never throws and the token's length does not leak). The dashboard's
// session cookie (webSession.ts) is accepted in its place; a state-changing request made
// with the cookie must also carry the page's X-Agentlog-Client header, which another
// site's form or fetch cannot send without a CORS preflight (CSRF).
import { createHash, timingSafeEqual } from "node:crypto"
import type { MiddlewareHandler } from "hono"
import type { HttpEnv } from "./env.ts"
import { problem, unauthorized } from "./problem.ts"
import { makeCookieCheck, webClientHeader } from "./webCookie.ts"

export const digest = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest()

export const tokenMatches = (expectedDigest: Buffer, presented: string): boolean =>
  timingSafeEqual(expectedDigest, digest(presented))

/** The token in `Authorization: Bearer <token>`, or undefined. */
export const bearerToken = (header: string | undefined | null): string | undefined => {
  if (!header) return undefined
  const m = /^Bearer[ ]+([\x21-\x7e]+)[ ]*$/i.exec(header)
  return m ? m[1] : undefined
}

/** Paths anyone may call: liveness must answer even for a misconfigured client. */
const openPaths = new Set(["/healthz", "/v1/web/session"])

export const bearerAuth = (apiToken: string | undefined): MiddlewareHandler<HttpEnv> => {
  if (apiToken === undefined || apiToken === "") {
    return async (c, next) => {
      // Who decided, for the audit: the page says it is the page.
      c.set("subject", c.req.header(webClientHeader) === "web" ? "web" : "api")
      await next()
    }
  }
  const expected = digest(apiToken)
  const cookieOk = makeCookieCheck(apiToken)
  return async (c, next) => {
    if (openPaths.has(c.req.path)) return next()
    const token = bearerToken(c.req.header("authorization"))
    if (token === undefined && cookieOk(c.req.header("cookie"))) {
      const safe = c.req.method === "GET" || c.req.method === "HEAD" || c.req.method === "OPTIONS"
      if (!safe && c.req.header(webClientHeader) !== "web") throw missingClientHeader()
      c.set("subject", "web")
      return next()
    }
    // Compare even when the header is missing, so both paths cost the same.
    const ok = tokenMatches(expected, token ?? "") && token !== undefined
    if (!ok) throw unauthorized()
    c.set("subject", "api")
    await next()
  }
}

const missingClientHeader = () =>
  problem(403, "csrf", "Forbidden", `a request authenticated by the session cookie must send ${webClientHeader}: web`)
