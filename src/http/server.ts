// Serves an app with @hono/node-server on host:port. close() stops accepting, ends every
// open connection (SSE streams included: their subscriptions are interrupted when the
// socket closes).
import type { AddressInfo, Socket } from "node:net"
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

export interface ConnectionLimits {
  /** Open connections in all; past it the oldest one that is not inside a request is closed. */
  readonly maxConnections: number
  /** The same, per client address. */
  readonly maxConnectionsPerClient: number
  /** A request's headers must have arrived within this (a slow-header client is cut off). */
  readonly headersTimeoutMs: number
  /** And the whole request (headers and body) within this. */
  readonly requestTimeoutMs: number
}

export const defaultLimits: ConnectionLimits = {
  maxConnections: 1_000,
  maxConnectionsPerClient: 100,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000
}

export const startHttpServer = (
  app: Hono<HttpEnv>,
  options: { readonly host: string; readonly port: number; readonly limits?: Partial<ConnectionLimits> }
): Promise<HttpServer> =>
  new Promise((resolve, reject) => {
    const onError = (e: unknown) => reject(e)
    const limits = { ...defaultLimits, ...options.limits }
    const listener = getRequestListener(app.fetch, { hostname: options.host, errorHandler: answerUnparsedRequest })
    const server: Server = createServer(
      {
        headersTimeout: limits.headersTimeoutMs,
        requestTimeout: limits.requestTimeoutMs,
        // How often Node looks for connections past those timeouts (30 s by default).
        connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs)
      },
      listener
    )
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
    boundConnections(server, limits)
  })

/**
 * Connections that never finish their headers cost a file descriptor each and no token:
 * enough of them starved every authorised request. Past a limit the OLDEST connection that
 * has not sent a request yet is closed, rather than the new one, so a client that sends its
 * request at once always gets in; only when there is none, the oldest idle keep-alive one.
 * On loopback the attacker and the real client share an address, hence the same rule per client.
 */
const boundConnections = (server: Server, limits: ConnectionLimits): void => {
  /** Insertion order is age: the first is the oldest. */
  const fresh = new Set<Socket>()
  const idle = new Set<Socket>()
  const all = new Set<Socket>()
  const byClient = new Map<string, Set<Socket>>()
  const victimAmong = (among: Iterable<Socket>): Socket | undefined => {
    let oldestIdle: Socket | undefined
    for (const s of among) {
      if (fresh.has(s)) return s
      if (oldestIdle === undefined && idle.has(s)) oldestIdle = s
    }
    return oldestIdle
  }
  const forget = (socket: Socket, mine: Set<Socket>) => {
    all.delete(socket)
    fresh.delete(socket)
    idle.delete(socket)
    mine.delete(socket)
  }
  server.on("connection", (socket: Socket) => {
    const client = socket.remoteAddress ?? ""
    const mine = byClient.get(client) ?? new Set<Socket>()
    byClient.set(client, mine)
    all.add(socket)
    mine.add(socket)
    fresh.add(socket)
    socket.once("close", () => {
      forget(socket, mine)
      if (mine.size === 0 && byClient.get(client) === mine) byClient.delete(client)
    })
    const evict = (victim: Socket) => {
      forget(victim, byClient.get(victim.remoteAddress ?? "") ?? mine)
      victim.destroy()
    }
    if (mine.size > limits.maxConnectionsPerClient) evict(victimAmong(mine) ?? socket)
    if (all.size > limits.maxConnections) evict(victimAmong(all) ?? socket)
  })
  server.on("request", (req, res) => {
    const socket = req.socket
    fresh.delete(socket)
    idle.delete(socket)
    res.once("close", () => {
      if (!socket.destroyed && all.has(socket)) idle.add(socket)
    })
  })
}

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
