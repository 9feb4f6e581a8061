// A webhook receiver for tests: node http on 127.0.0.1:0 that keeps every request it got
// and answers as the test says (2xx, a status, a dropped connection, or not yet). Tests
// wait on what it received (`until`), never on time.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"

export interface Received {
  readonly headers: Record<string, string>
  readonly body: string
  readonly json: { readonly id: string; readonly type: string; readonly sessionId: string; readonly revision: number; readonly position: string } & Record<string, unknown>
  /** What the receiver did with it. */
  readonly answered: number | "dropped" | "held"
}

/** ok: 204; a number: that status; drop: the connection is destroyed; hold: no answer until release(). */
export type Mode = "ok" | number | "drop" | "hold"

export interface Receiver {
  readonly url: string
  readonly received: Array<Received>
  mode: Mode
  /** Taken one per request before `mode` applies: how the next requests are answered. */
  script: Array<Mode>
  /** Answers the held requests with 204. */
  release(): void
  /** The delivered ones (answered 2xx), in arrival order. */
  delivered(): ReadonlyArray<Received>
  /** Resolves once `probe` holds over what was received (looked at after each request). */
  until<A>(what: string, probe: (r: Receiver) => A | undefined, timeoutMs?: number): Promise<A>
  close(): Promise<void>
}

export const startReceiver = async (): Promise<Receiver> => {
  const held: Array<ServerResponse> = []
  const waiters = new Set<() => void>()
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8")
      const mode = receiver.script.shift() ?? receiver.mode
      const answered = mode === "ok" ? 204 : mode
      receiver.received.push({
        headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
        body,
        json: JSON.parse(body),
        answered: answered === "drop" ? "dropped" : answered === "hold" ? "held" : answered
      })
      if (answered === "drop") req.socket.destroy()
      else if (answered === "hold") held.push(res)
      else res.writeHead(answered).end()
      for (const w of [...waiters]) w()
    })
  }
  const server = createServer(onRequest)
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r))
  const { port } = server.address() as AddressInfo
  const receiver: Receiver = {
    url: `http://127.0.0.1:${port}/hook`,
    received: [],
    mode: "ok",
    script: [],
    release() {
      for (const res of held.splice(0)) if (!res.destroyed) res.writeHead(204).end()
    },
    delivered() {
      return receiver.received.filter((r) => typeof r.answered === "number" && r.answered < 300)
    },
    until(what, probe, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const look = () => {
          const v = probe(receiver)
          if (v === undefined) return false
          waiters.delete(look)
          clearTimeout(timer)
          resolve(v)
          return true
        }
        const timer = setTimeout(() => {
          waiters.delete(look)
          reject(new Error(`timed out waiting for ${what}; received ${receiver.received.length}: ${JSON.stringify(receiver.received.map((r) => [r.json.type, r.answered]))}`))
        }, timeoutMs)
        if (!look()) waiters.add(look)
      })
    },
    async close() {
      receiver.release()
      server.closeAllConnections()
      await new Promise<void>((r) => server.close(() => r()))
    }
  }
  return receiver
}
