// Serves an app with @hono/node-server on host:port. close() stops accepting, ends every
// open connection (SSE streams included: their subscriptions are interrupted when the
// socket closes).
import type { AddressInfo } from "node:net"
import { createServer, type Server } from "node:http"
import type { Duplex } from "node:stream"
import { getRequestListener, RequestError } from "@hono/node-server"
import type { Hono } from "hono"
import type { HttpEnv } from "./env.ts"
import { badRequest, problemContentType, problemResponse, toProblem } from "./problem.ts"

export interface HttpServer {
  /** e.g. http://127.0.0.1:7420 (the bound port when 0 was asked for). */
  readonly url: string
  readonly port: number
  readonly close: () => Promise<void>
}

export const startHttpServer = (app: Hono<HttpEnv>, options: { readonly host: string; readonly port: number }): Promise<HttpServer> =>
  new Promise((resolve, reject) => {
    const onError = (e: unknown) => reject(e)
    const listener = getRequestListener(app.fetch, { hostname: options.host, errorHandler: answerUnparsedRequest })
    const server: Server = createServer(listener)
    server.listen(options.port, options.host, () => {
      const info = server.address() as AddressInfo
      server.off("error", onError)
      const host = info.family === "IPv6" ? `[${info.address}]` : info.address
      let closing: Promise<void> | undefined
      resolve({
        url: `http://${host}:${info.port}`,
        port: info.port,
        close: () =>
          (closing ??= new Promise<void>((done) => {
            server.close(() => done())
            server.closeIdleConnections()
            server.closeAllConnections()
          }))
      })
    })
    server.once("error", onError)
    server.on("clientError", answerClientError)
  })

/**
 * Requests that Node parsed but the adapter cannot turn into a URL (a Host that is not a
 * host name, such as `[::ffff:127.0.0.1]` or `127.1`) get a problem+json answer, not an empty 400.
 */
const answerUnparsedRequest = (e: unknown): Response =>
  problemResponse(
    e instanceof RequestError ? badRequest("the request's Host or target cannot be parsed").problem : toProblem(e, { ifMatch: false }).problem
  )

/**
 * Requests that Node's HTTP parser refuses before the app sees them (a malformed request
 * line, header injection, conflicting lengths, oversized headers) get a problem+json answer
 * too, then the connection is closed: after a parse error the stream cannot be trusted.
 */
const answerClientError = (err: Error & { code?: string }, socket: Duplex): void => {
  if (err.code === "ECONNRESET" || !socket.writable) {
    socket.destroy()
    return
  }
  const [status, title] =
    err.code === "HPE_HEADER_OVERFLOW"
      ? [431, "Request header fields too large"]
      : err.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? [408, "Request timeout"]
        : [400, "Bad request"]
  const body = JSON.stringify({
    type: `urn:agentlog:problem:${status === 400 ? "bad-request" : status === 431 ? "headers-too-large" : "request-timeout"}`,
    title,
    status,
    detail: status === 400 ? "the request is not valid HTTP/1.1" : title.toLowerCase()
  })
  socket.end(
    `HTTP/1.1 ${status} ${title}\r\nContent-Type: ${problemContentType}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `Cache-Control: no-store\r\nConnection: close\r\n\r\n${body}`
  )
}
