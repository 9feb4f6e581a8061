// Serves an app with @hono/node-server on host:port. close() stops accepting, ends every
// open connection (SSE streams included: their subscriptions are interrupted when the
// socket closes) and releases what createApp opened (also released when listening fails).
import type { AddressInfo } from "node:net"
import type { Server } from "node:http"
import { serve } from "@hono/node-server"
import type { Hono } from "hono"
import { disposeApp } from "./app.ts"
import type { HttpEnv } from "./env.ts"

export interface HttpServer {
  /** e.g. http://127.0.0.1:7420 (the bound port when 0 was asked for). */
  readonly url: string
  readonly port: number
  readonly close: () => Promise<void>
}

export const startHttpServer = (app: Hono<HttpEnv>, options: { readonly host: string; readonly port: number }): Promise<HttpServer> =>
  new Promise((resolve, reject) => {
    const onError = (e: unknown) => {
      disposeApp(app)
      reject(e)
    }
    const server: Server = serve({ fetch: app.fetch, hostname: options.host, port: options.port }, (info: AddressInfo) => {
      server.off("error", onError)
      const host = info.family === "IPv6" ? `[${info.address}]` : info.address
      let closing: Promise<void> | undefined
      resolve({
        url: `http://${host}:${info.port}`,
        port: info.port,
        close: () =>
          (closing ??= new Promise<void>((done) => {
            server.close(() => {
              disposeApp(app)
              done()
            })
            server.closeIdleConnections()
            server.closeAllConnections()
          }))
      })
    }) as Server
    server.once("error", onError)
  })
