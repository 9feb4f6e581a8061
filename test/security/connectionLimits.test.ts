// Connections without a token must not use up the service: a slow-header client is cut off
// at headersTimeout, and past maxConnections (in all, or per client) the oldest connection
// still waiting for its headers is closed so that a client sending its request gets in.
import { connect, type Socket } from "node:net"
import { Hono } from "hono"
import { afterEach, describe, expect, it } from "vitest"
import type { HttpEnv } from "../../src/http/env.ts"
import { startHttpServer, type HttpServer } from "../../src/http/server.ts"

let server: HttpServer | undefined
const sockets: Array<Socket> = []
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy()
  await server?.close()
  server = undefined
})

const app = () => new Hono<HttpEnv>().get("/", (c) => c.text("ok"))

/** A connection that sends the start of a request and then nothing more; resolves once open. */
const slowClient = (port: number) =>
  new Promise<{ socket: Socket; closed: Promise<string> }>((resolve, reject) => {
    const socket = connect(port, "127.0.0.1")
    sockets.push(socket)
    let answer = ""
    socket.on("data", (d) => (answer += d.toString()))
    const closed = new Promise<string>((r) => socket.once("close", () => r(answer)))
    socket.once("error", () => {})
    socket.once("connect", () => {
      socket.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\n")
      resolve({ socket, closed })
    })
    socket.once("error", reject)
  })

describe("connection limits", () => {
  it("cuts off a client whose headers do not arrive within headersTimeout", async () => {
    server = await startHttpServer(app(), { host: "127.0.0.1", port: 0, limits: { headersTimeoutMs: 300, requestTimeoutMs: 600 } })
    const slow = await slowClient(server.port)
    expect(await slow.closed).toMatch(/^HTTP\/1.1 408/)
  })

  it("closes the oldest waiting connection past the cap, and a real request still gets in", async () => {
    server = await startHttpServer(app(), { host: "127.0.0.1", port: 0, limits: { maxConnections: 40, maxConnectionsPerClient: 20 } })
    const slow = []
    for (let i = 0; i < 60; i++) slow.push(await slowClient(server.port))
    // All from 127.0.0.1: only the 20 newest may stay; the 40 oldest were closed, oldest first.
    const closed = await Promise.all(slow.slice(0, 40).map((s) => s.closed))
    expect(closed).toHaveLength(40)
    expect(slow.slice(40).every((s) => !s.socket.destroyed && s.socket.readyState === "open")).toBe(true)
    for (let i = 0; i < 5; i++) {
      const r = await fetch(`${server.url}/`)
      expect(await r.text()).toBe("ok")
    }
  })
})
