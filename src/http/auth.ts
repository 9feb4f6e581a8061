// Who is calling, and may they. A request names its principal with
// `Authorization: Bearer <AGENTLOG_API_TOKEN or an API key>`, or with the dashboard's
// session cookie (webSession.ts); a state-changing request made with the cookie must also
// carry the page's X-Agentlog-Client header, which another site's form or fetch cannot
// send without a CORS preflight (CSRF). The shared token is one admin principal ("api");
// a key is its owner's name and role (src/principals). While neither a token nor an active
// key exists (a loopback-only service) every caller is an admin: "web" from the page,
// "api" otherwise. Each route of the table names the least role it needs; a principal
// below it gets 403 before the handler runs, so nothing is appended.
// The token is compared in constant time over SHA-256 digests (equal lengths, so
// timingSafeEqual never throws and the token's length does not leak); keys are looked up
// by the hash of what was presented.
import { createHash, timingSafeEqual } from "node:crypto"
import type { Context, MiddlewareHandler } from "hono"
import { type KeyRing, principalOf } from "../principals/keyRing.ts"
import { permits, type Principal, type Role } from "../principals/roles.ts"
import type { HttpEnv } from "./env.ts"
import { problem, unauthorized } from "./problem.ts"
import { keyCookieValue, makeCookieCheck, webClientHeader, webCookieValue } from "./webCookie.ts"

export const digest = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest()

export const tokenMatches = (expectedDigest: Buffer, presented: string): boolean =>
  timingSafeEqual(expectedDigest, digest(presented))

/** The token in `Authorization: Bearer <token>`, or undefined. */
export const bearerToken = (header: string | undefined | null): string | undefined => {
  if (!header) return undefined
  const m = /^Bearer[ ]+([\x21-\x7e]+)[ ]*$/i.exec(header)
  return m ? m[1] : undefined
}

/** The shared token's principal, and the page's when it logged in with the token or needs no login. */
export const tokenPrincipal: Principal = { name: "api", role: "admin" }
export const pagePrincipal: Principal = { name: "web", role: "admin" }

/** What a route of the table needs: a role, or nothing at all (liveness, the page's login). */
export type RouteRole = Role | "anyone"

export interface Authenticator {
  /** A token or an active key exists: every request but the open ones must name its principal. */
  readonly required: () => boolean
  /** The principal of a bearer token or key, or undefined. */
  readonly bearer: (presented: string) => Principal | undefined
  /** The principal of the page's session cookie, or undefined. */
  readonly cookie: (cookieHeader: string | undefined) => Principal | undefined
  /** The session cookie's value for a login with this token or key, or undefined when it is neither. */
  readonly loginCookie: (presented: string) => { readonly value: string; readonly principal: Principal } | undefined
}

export const makeAuthenticator = (apiToken: string | undefined, keys: KeyRing): Authenticator => {
  const token = apiToken === "" ? undefined : apiToken
  // With no token, compare against a digest nothing hashes to, so both paths cost the same.
  const expected = token === undefined ? Buffer.alloc(32) : digest(token)
  const isToken = (presented: string) => tokenMatches(expected, presented) && token !== undefined
  return {
    required: () => token !== undefined || keys.hasActiveKeys(),
    bearer: (presented) => (isToken(presented) ? tokenPrincipal : keys.principalFor(presented)),
    cookie: makeCookieCheck(token, keys, pagePrincipal),
    loginCookie: (presented) => {
      if (isToken(presented)) return { value: webCookieValue(token!), principal: pagePrincipal }
      const key = keys.find(presented)
      return key === undefined ? undefined : { value: keyCookieValue(key), principal: principalOf(key) }
    }
  }
}

/** Paths anyone may call: liveness must answer even for a misconfigured client; the login is how one gets in. */
const openPaths = new Set(["/healthz", "/v1/web/session"])

const safeMethod = (m: string) => m === "GET" || m === "HEAD" || m === "OPTIONS"

export const bearerAuth = (auth: Authenticator): MiddlewareHandler<HttpEnv> => async (c, next) => {
  if (openPaths.has(c.req.path)) return next()
  const presented = bearerToken(c.req.header("authorization"))
  let principal: Principal | undefined
  if (presented === undefined) {
    principal = auth.cookie(c.req.header("cookie"))
    if (principal !== undefined && !safeMethod(c.req.method) && c.req.header(webClientHeader) !== "web") throw missingClientHeader()
  } else principal = auth.bearer(presented)
  if (principal === undefined) {
    if (auth.required()) throw unauthorized()
    principal = c.req.header(webClientHeader) === "web" ? pagePrincipal : tokenPrincipal
  }
  c.set("principal", principal)
  await next()
}

/** 403 unless the request's principal holds the route's role (checked by the route adapter before anything else). */
export const requireRole = (c: Context<HttpEnv>, route: { readonly operationId: string; readonly role: RouteRole }): void => {
  if (route.role === "anyone") return
  const p = c.get("principal")
  if (!permits(p.role, route.role))
    throw problem(403, "forbidden", "Forbidden", `${p.name} (${p.role}) may not call ${route.operationId}: it needs ${route.role}`, {
      principal: p.name,
      role: p.role,
      requiredRole: route.role
    })
}

const missingClientHeader = () =>
  problem(403, "csrf", "Forbidden", `a request authenticated by the session cookie must send ${webClientHeader}: web`)
