// The Hono app: request log and request id, the Host/Origin guard, auth, the routes of the table, and one error
// handler that turns anything thrown into problem+json (tagged errors through
// problem.ts's single mapping; the unexpected into a generic 500, logged, never shown).
import type { Hono as HonoType } from "hono"
import { Hono } from "hono"
import { approvalRoutes } from "./approvalRoutes.ts"
import { auditRoutes } from "./auditRoutes.ts"
import { join } from "node:path"
import { makeKeyRing } from "../principals/keyRing.ts"
import { bearerAuth, makeAuthenticator } from "./auth.ts"
import type { HttpDeps } from "./deps.ts"
import type { HttpEnv } from "./env.ts"
import { hostGuard } from "./hostGuard.ts"
import { eventRoutes } from "./eventRoutes.ts"
import { methodNotAllowed, notFound, problemResponse, toProblem } from "./problem.ts"
import { readRoutes } from "./readRoutes.ts"
import { requestLog } from "./requestLog.ts"
import { allowedMethods } from "./routes.ts"
import { serviceRoutes } from "./serviceRoutes.ts"
import { sessionRoutes } from "./sessionRoutes.ts"
import { storeRoutes } from "./storeRoutes.ts"
import { workspaceRoutes } from "./workspaceRoutes.ts"
import { webSessionRoutes } from "./webSession.ts"
import { webStatic } from "./webStatic.ts"
import { webhookRoutes } from "./webhookRoutes.ts"

export type { HttpConfig, HttpDeps } from "./deps.ts"

const hasUnreadBody = (request: Request, status: number): boolean =>
  request.body !== null &&
  (request.headers.has("transfer-encoding") || (request.headers.get("content-length") ?? "0") !== "0") &&
  (!request.bodyUsed || status === 413)

export const createApp = (deps: HttpDeps): HonoType<HttpEnv> => {
  const app = new Hono<HttpEnv>()

  app.use("*", requestLog(deps.logger))
  // A body the app did not read to the end (refused before or while reading it) is left
  // unread on the connection: close it after the answer, so that no client reuses a
  // connection the server is about to drop.
  app.use("*", async (c, next) => {
    await next()
    if (hasUnreadBody(c.req.raw, c.res.status)) c.header("Connection", "close")
  })
  app.use("*", hostGuard(deps.config.hostGuard ?? {}))
  // The dashboard's page answers without a token (it holds no data; its login is a route).
  app.use("*", webStatic())
  const keys = makeKeyRing(deps.config.keysFile ?? join(deps.config.dataDir, "keys.json"), (message) => deps.logger.log("error", message))
  const auth = makeAuthenticator(deps.config.apiToken, keys)
  app.use("*", bearerAuth(auth))
  // Known paths answer OPTIONS with what they allow.
  app.use("*", async (c, next) => {
    if (c.req.method !== "OPTIONS") return next()
    const allow = allowedMethods(c.req.path)
    if (allow.length === 0) return next()
    return c.body(null, 204, { Allow: allow.join(", ") })
  })

  serviceRoutes(app, deps)
  sessionRoutes(app, deps)
  readRoutes(app, deps)
  eventRoutes(app, deps)
  approvalRoutes(app, deps)
  auditRoutes(app, deps)
  webSessionRoutes(app, deps, auth)
  storeRoutes(app, deps)
  webhookRoutes(app, deps)
  workspaceRoutes(app, deps)

  app.notFound((c) => {
    const allow = allowedMethods(c.req.path)
    const p = allow.length > 0 ? methodNotAllowed(c.req.method, allow) : notFound(`no route ${c.req.method} ${c.req.path}`)
    return problemResponse(p.problem, p.headers, { instance: c.req.path, requestId: c.get("requestId") })
  })

  app.onError((err, c) => {
    const { problem, headers, internal } = toProblem(err, { ifMatch: c.get("ifMatch") === true })
    if (internal) {
      deps.logger.log("error", "request failed", {
        method: c.req.method,
        path: c.req.path,
        requestId: c.get("requestId"),
        error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
        ...(err instanceof Error && err.stack ? { stack: err.stack } : {})
      })
    }
    return problemResponse(problem, headers, { instance: c.req.path, requestId: c.get("requestId") })
  })

  return app
}
