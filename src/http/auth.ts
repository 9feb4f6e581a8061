// Bearer-token authentication. When a token is configured every route but /healthz
// requires it; the comparison is constant-time over SHA-256 digests (equal lengths, so
// timingSafeEqual never throws and the token's length does not leak).
import { createHash, timingSafeEqual } from "node:crypto"
import type { MiddlewareHandler } from "hono"
import type { HttpEnv } from "./env.ts"
import { unauthorized } from "./problem.ts"

const digest = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest()

export const tokenMatches = (expectedDigest: Buffer, presented: string): boolean =>
  timingSafeEqual(expectedDigest, digest(presented))

/** The token in `Authorization: Bearer <token>`, or undefined. */
export const bearerToken = (header: string | undefined | null): string | undefined => {
  if (!header) return undefined
  const m = /^Bearer[ ]+([\x21-\x7e]+)[ ]*$/i.exec(header)
  return m ? m[1] : undefined
}

/** Paths anyone may call: liveness must answer even for a misconfigured client. */
const openPaths = new Set(["/healthz"])

export const bearerAuth = (apiToken: string | undefined): MiddlewareHandler<HttpEnv> => {
  if (apiToken === undefined || apiToken === "") {
    return async (c, next) => {
      c.set("subject", "api")
      await next()
    }
  }
  const expected = digest(apiToken)
  return async (c, next) => {
    if (openPaths.has(c.req.path)) return next()
    const token = bearerToken(c.req.header("authorization"))
    // Compare even when the header is missing, so both paths cost the same.
    const ok = tokenMatches(expected, token ?? "") && token !== undefined
    if (!ok) throw unauthorized()
    c.set("subject", "api")
    await next()
  }
}
