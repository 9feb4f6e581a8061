// One structured log line per request: method, path, status, ms, requestId. The request
// id comes from X-Request-Id when it is sane, else a fresh UUID; it is echoed back and is
// the correlationId of whatever a command appends. Headers and bodies are never logged.
import { randomUUID } from "node:crypto"
import type { MiddlewareHandler } from "hono"
import type { Logger } from "../log.ts"
import type { HttpEnv } from "./env.ts"

const saneRequestId = /^[A-Za-z0-9._:-]{1,128}$/

export const requestIdOf = (header: string | undefined): string =>
  header !== undefined && saneRequestId.test(header) ? header : randomUUID()

export const requestLog = (logger: Logger): MiddlewareHandler<HttpEnv> => async (c, next) => {
  const started = performance.now()
  const requestId = requestIdOf(c.req.header("x-request-id"))
  c.set("requestId", requestId)
  c.set("ifMatch", false)
  try {
    await next()
  } finally {
    c.header("X-Request-Id", requestId)
    const status = c.res.status
    const contentType = c.res.headers.get("content-type") ?? ""
    logger.log(status >= 500 ? "error" : "info", "http request", {
      method: c.req.method,
      path: c.req.path,
      status,
      ms: Math.round((performance.now() - started) * 10) / 10,
      requestId,
      // Who, by name (never the credential): set once the request was authenticated.
      ...(c.get("principal") !== undefined ? { principal: c.get("principal").name } : {}),
      ...(/event-stream|ndjson/.test(contentType) ? { streaming: true } : {})
    })
  }
}
