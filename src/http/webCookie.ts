// The dashboard's session cookie: its name, the page's client header, and the check the
// bearer middleware uses. The cookie's value is an HMAC of the API token: it survives a
// restart of the service and stops working when the token changes.
import { createHmac, timingSafeEqual } from "node:crypto"
import { Schema } from "effect"

export const webCookieName = "agentlog_session"
/** Sent by the page on every request; required on state-changing cookie requests (CSRF). */
export const webClientHeader = "x-agentlog-client"

export const webCookieValue = (apiToken: string): string =>
  createHmac("sha256", apiToken).update("agentlog web session v1").digest("base64url")

const cookieOf = (header: string): string | undefined => {
  for (const part of header.split(";")) {
    const eq = part.indexOf("=")
    if (eq > 0 && part.slice(0, eq).trim() === webCookieName) return part.slice(eq + 1).trim()
  }
  return undefined
}

/** Whether a Cookie header carries a valid web session for this token (constant-time). */
export const makeCookieCheck = (apiToken: string): ((cookieHeader: string | undefined) => boolean) => {
  const expected = Buffer.from(webCookieValue(apiToken))
  return (header) => {
    const presented = cookieOf(header ?? "")
    if (presented === undefined) return false
    const given = Buffer.from(presented)
    return given.length === expected.length && timingSafeEqual(given, expected)
  }
}

export const WebLoginBody = Schema.Struct({
  token: Schema.String.check(Schema.isMaxLength(4096)).annotate({ description: "The service's AGENTLOG_API_TOKEN." })
}).annotate({ identifier: "WebLogin", description: "Trades the API token for the dashboard's session cookie." })

export const WebSessionState = Schema.Struct({
  authRequired: Schema.Boolean.annotate({ description: "The service has a token: the page must log in." }),
  authenticated: Schema.Boolean.annotate({ description: "This request carried a valid session cookie (or no token is needed)." })
}).annotate({ identifier: "WebSessionState" })
