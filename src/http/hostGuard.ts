// Refuses requests that a web page on another site could make the browser send: a Host the
// service does not serve (DNS rebinding: a name that re-resolves to 127.0.0.1 makes the
// page "same-origin" with agentlog) and, on anything that changes state or opens a live
// stream, an Origin that is not the service's own. Runs before auth and routing, so no
// route can be reached around it; /healthz stays open for probes. CORS is off unless
// origins are configured, and then exactly those origins get it (never `*`, never
// credentials: a cross-origin client authenticates with the bearer token).
import { isIP } from "node:net"
import type { HttpBindings } from "@hono/node-server"
import type { MiddlewareHandler } from "hono"
import type { HttpEnv } from "./env.ts"
import { problem } from "./problem.ts"

export interface HostGuardConfig {
  /** AGENTLOG_HOST: allowed as a Host name too, unless it is a wildcard bind. */
  readonly bindHost?: string | undefined
  /** AGENTLOG_ALLOWED_HOSTS, as parsed by parseAllowedHosts. */
  readonly allowedHosts?: ReadonlyArray<string> | undefined
  /** AGENTLOG_CORS_ORIGINS, as parsed by parseCorsOrigins. */
  readonly corsOrigins?: ReadonlyArray<string> | undefined
}

/** A Host header (or an allowlist entry) split into its name and port; undefined when malformed. */
const hostPattern = /^(\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)(?::(\d{1,5}))?$/

const splitHost = (value: string): { readonly name: string; readonly port: string | undefined } | undefined => {
  const m = hostPattern.exec(value.toLowerCase())
  if (!m || (m[2] !== undefined && Number(m[2]) > 65535)) return undefined
  const name = m[1]!
  if (name.startsWith("[") && isIP(name.slice(1, -1)) !== 6) return undefined
  return { name, port: m[2] }
}

/** How a bare IPv6 address appears in a Host header. */
const asHostName = (host: string): string => (isIP(host) === 6 ? `[${host}]` : host.toLowerCase())

const loopbackNames = ["localhost", "127.0.0.1", "[::1]"]
const wildcardBinds = new Set(["0.0.0.0", "::", "[::]"])

/** Parses AGENTLOG_ALLOWED_HOSTS: comma-separated `name` (any port) or `name:port`. Throws on a bad entry. */
export const parseAllowedHosts = (raw: string | undefined): ReadonlyArray<string> =>
  list(raw).map((entry) => {
    const host = splitHost(entry)
    if (host === undefined || entry === "*")
      throw new Error(`${JSON.stringify(entry)} is not a host name, an IP address or [IPv6], with an optional :port`)
    return host.port === undefined ? host.name : `${host.name}:${host.port}`
  })

/** Parses AGENTLOG_CORS_ORIGINS: comma-separated exact origins such as `https://ui.example.com`. Throws on a bad entry. */
export const parseCorsOrigins = (raw: string | undefined): ReadonlyArray<string> =>
  list(raw).map((entry) => {
    const u = httpUrl(entry)
    if (u === undefined || u.pathname !== "/" || u.search !== "" || u.hash !== "")
      throw new Error(`${JSON.stringify(entry)} is not an origin like https://ui.example.com (no "*", no path)`)
    return u.origin
  })

const list = (raw: string | undefined): ReadonlyArray<string> =>
  (raw ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")

/** An http(s) URL without credentials, or undefined ("null", other schemes, junk). */
const httpUrl = (value: string): URL | undefined => {
  try {
    const u = new URL(value)
    return (u.protocol === "http:" || u.protocol === "https:") && u.username === "" && u.password === "" ? u : undefined
  } catch {
    return undefined
  }
}

/** Requests a page could use to change something, or to read a live stream without CORS. */
const unsafeMethods = new Set(["POST", "PUT", "PATCH", "DELETE"])
const opensLiveStream = (path: string, accept: string | undefined): boolean =>
  path.endsWith("/live") || (accept ?? "").includes("text/event-stream")

/** Paths anyone may call: liveness must answer even for a probe that sends any Host. */
const openPaths = new Set(["/healthz"])

const corsAllowHeaders = "Authorization, Content-Type, Idempotency-Key, If-Match, Last-Event-ID, X-Request-Id"
const corsExposeHeaders = "ETag, Retry-After, Allow, Idempotent-Replayed, X-Request-Id, Location"

/** A header value in a problem's detail: as a JSON string, and not all of it if it is long. */
const quoted = (value: string): string => JSON.stringify(value.slice(0, 200))

export const hostNotAllowed = (host: string | undefined) =>
  problem(
    403,
    "host-not-allowed",
    "Host not allowed",
    host === undefined
      ? "the request has no Host header"
      : `this service does not answer to the Host ${quoted(host)}; add it to AGENTLOG_ALLOWED_HOSTS if it should`
  )

export const originNotAllowed = (why: string) =>
  problem(403, "origin-not-allowed", "Cross-origin request refused", `${why}; add the origin to AGENTLOG_CORS_ORIGINS if it should be allowed`)

export const hostGuard = (config: HostGuardConfig): MiddlewareHandler<HttpEnv> => {
  const bind = config.bindHost !== undefined && config.bindHost !== "" ? asHostName(config.bindHost) : undefined
  // Names that are this service only on its own port; allowlist entries name their port or allow any.
  const ownNames = new Set([...loopbackNames, ...(bind !== undefined && !wildcardBinds.has(bind) ? [bind] : [])])
  const extra = (config.allowedHosts ?? []).map((e) => splitHost(e)!)
  const cors = new Set(config.corsOrigins ?? [])

  const hostAllowed = (host: { name: string; port: string | undefined }, servicePort: number | undefined): boolean => {
    // A browser leaves out the default port of the scheme; agentlog itself speaks plain HTTP.
    const port = host.port ?? "80"
    if (ownNames.has(host.name) && servicePort !== undefined && port === String(servicePort)) return true
    return extra.some((e) => e.name === host.name && (e.port === undefined || e.port === port))
  }

  return async (c, next) => {
    if (openPaths.has(c.req.path)) return next()
    const hostHeader = c.req.header("host")
    const host = hostHeader === undefined ? undefined : splitHost(hostHeader)
    // The port this request arrived on: the bound one, also when port 0 was asked for.
    const servicePort = (c.env as HttpBindings | undefined)?.incoming.socket.localPort
    if (host === undefined || !hostAllowed(host, servicePort)) throw hostNotAllowed(hostHeader)

    const originHeader = c.req.header("origin")
    // Anything that is not an http(s) origin ("null" from a sandboxed frame or a file, junk) is foreign.
    const originUrl = originHeader === undefined ? undefined : httpUrl(originHeader)
    const corsOrigin = originUrl !== undefined && cors.has(originUrl.origin) ? originUrl.origin : undefined

    if (c.req.method === "OPTIONS" && originHeader !== undefined && c.req.header("access-control-request-method") !== undefined) {
      // A CORS preflight: answered here, before auth (a browser never sends credentials with one).
      if (corsOrigin === undefined) throw originNotAllowed(`the origin ${quoted(originHeader)} may not call this service`)
      return c.body(null, 204, {
        "Access-Control-Allow-Origin": corsOrigin,
        "Access-Control-Allow-Methods": "GET, HEAD, POST, PUT, PATCH, DELETE",
        "Access-Control-Allow-Headers": corsAllowHeaders,
        "Access-Control-Max-Age": "600",
        Vary: "Origin"
      })
    }

    if (unsafeMethods.has(c.req.method) || opensLiveStream(c.req.path, c.req.header("accept"))) {
      if (originHeader !== undefined) {
        const own = originUrl !== undefined && originUrl.host === hostHeader!.toLowerCase()
        if (!own && corsOrigin === undefined)
          throw originNotAllowed(`the origin ${quoted(originHeader)} is not this service's own`)
      } else {
        // No Origin (curl, the CLI, another server): only a browser's own word says it came from another site.
        const site = c.req.header("sec-fetch-site")
        if (site === "cross-site" || site === "same-site") throw originNotAllowed(`the request came from another site (Sec-Fetch-Site: ${site})`)
      }
    }

    await next()
    if (cors.size > 0) c.res.headers.append("Vary", "Origin")
    if (corsOrigin !== undefined) {
      c.res.headers.set("Access-Control-Allow-Origin", corsOrigin)
      c.res.headers.set("Access-Control-Expose-Headers", corsExposeHeaders)
    }
  }
}
