// Serves an app with @hono/node-server on host:port. close() stops accepting, ends every
// open connection (SSE streams included: their subscriptions are interrupted when the
// socket closes) and releases what createApp opened.
import type { AddressInfo } from "node:net"
import type { Server } from "node:http"
import { serve } from "@hono/node-server"
import type { Hono } from "hono"
import { disposeApp } from "./app.ts"

export interface HttpServer {
  /** e.g. http://127.0.0.1:7420 (the bound port when 0 was asked for). */
  readonly url: string
  readonly port: number
  readonly close: () => Promise<void>
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const startHttpServer = (app: Hono<any>, options: { readonly host: string; readonly port: number }): Promise<HttpServer> =>
  new Promise((resolve, reject) => {
    let server: Server
    const onError = (e: unknown) => reject(e)
    server = serve({ fetch: app.fetch, hostname: options.host, port: options.port }, (info: AddressInfo) => {
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
