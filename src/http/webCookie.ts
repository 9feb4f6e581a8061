// The dashboard's session cookie: its name, the page's client header, and the check the
// bearer middleware uses. A login with the API token gets an HMAC of the token; a login
// with an API key gets the key's id and an HMAC keyed by the key's stored hash. Either
// survives a restart of the service and stops working when the token changes or the key
// is revoked; neither lets anyone recover the token or the key.
import { createHmac, timingSafeEqual } from "node:crypto"
import { Schema } from "effect"
import type { StoredKey } from "../principals/keyFile.ts"
import { type KeyRing, principalOf } from "../principals/keyRing.ts"
import { type Principal, roles } from "../principals/roles.ts"

export const webCookieName = "agentlog_session"
/** Sent by the page on every request; required on state-changing cookie requests (CSRF). */
export const webClientHeader = "x-agentlog-client"

const label = "agentlog web session v1"

export const webCookieValue = (apiToken: string): string => createHmac("sha256", apiToken).update(label).digest("base64url")

/** A key's cookie: `k.<key id>.<HMAC of the label keyed by the key's hash>`. */
export const keyCookieValue = (k: StoredKey): string => `k.${k.id}.${createHmac("sha256", k.hash).update(label).digest("base64url")}`

const cookieOf = (header: string): string | undefined => {
  for (const part of header.split(";")) {
    const eq = part.indexOf("=")
    if (eq > 0 && part.slice(0, eq).trim() === webCookieName) return part.slice(eq + 1).trim()
  }
  return undefined
}

const same = (presented: string, expected: string): boolean => {
  const given = Buffer.from(presented)
  const wanted = Buffer.from(expected)
  return given.length === wanted.length && timingSafeEqual(given, wanted)
}

/**
 * The principal a Cookie header's web session belongs to (compared in constant time), or
 * undefined: `tokenPrincipal` for the token's cookie, the key's owner for a key's.
 */
export const makeCookieCheck = (
  apiToken: string | undefined,
  keys: KeyRing,
  tokenPrincipal: Principal
): ((cookieHeader: string | undefined) => Principal | undefined) => {
  const expected = apiToken === undefined ? undefined : webCookieValue(apiToken)
  return (header) => {
    const presented = cookieOf(header ?? "")
    if (presented === undefined) return undefined
    if (presented.startsWith("k.")) {
      const key = keys.activeById(presented.slice(2, presented.indexOf(".", 2)))
      return key !== undefined && same(presented, keyCookieValue(key)) ? principalOf(key) : undefined
    }
    return expected !== undefined && same(presented, expected) ? tokenPrincipal : undefined
  }
}

export const WebLoginBody = Schema.Struct({
  token: Schema.String.check(Schema.isMaxLength(4096)).annotate({ description: "The service's AGENTLOG_API_TOKEN, or an API key." })
}).annotate({ identifier: "WebLogin", description: "Trades the API token or an API key for the dashboard's session cookie." })

export const WebSessionState = Schema.Struct({
  authRequired: Schema.Boolean.annotate({ description: "The service has a token: the page must log in." }),
  authenticated: Schema.Boolean.annotate({ description: "This request carried a valid session cookie (or no token is needed)." }),
  principal: Schema.optionalKey(
    Schema.Struct({ name: Schema.String, role: Schema.Literals(roles) }).annotate({
      description: "Who the session cookie logs in as (absent when not logged in)."
    })
  )
}).annotate({ identifier: "WebSessionState" })
