// Helpers for the hostile-input suites: a raw HTTP/1.1 client (for what fetch refuses to
// send: bytes that are not UTF-8 in a request line, header injection, lying or duplicate
// lengths, request smuggling), and a tally of what the service answered.
import { connect } from "node:net"

export interface RawAnswer {
  readonly status: number
  readonly headers: Record<string, string>
  readonly body: string
}

/** Writes `request` as is on a new connection and reads the one answer (the connection is closed after it). */
export const rawRequest = (url: string, request: Buffer | string, timeoutMs = 10_000): Promise<RawAnswer> =>
  new Promise((resolve, reject) => {
    const u = new URL(url)
    const socket = connect({ host: u.hostname, port: Number(u.port) })
    const chunks: Array<Buffer> = []
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`no answer within ${timeoutMs} ms to ${JSON.stringify(String(request).slice(0, 120))}`))
    }, timeoutMs)
    const finish = () => {
      clearTimeout(timer)
      const all = Buffer.concat(chunks).toString("latin1")
      const end = all.indexOf("\r\n\r\n")
      if (end < 0) return reject(new Error(`no HTTP answer: ${JSON.stringify(all.slice(0, 200))}`))
      const [statusLine, ...lines] = all.slice(0, end).split("\r\n")
      const headers: Record<string, string> = {}
      for (const l of lines) {
        const i = l.indexOf(":")
        if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim()
      }
      let body = all.slice(end + 4)
      if (headers["transfer-encoding"] === "chunked") {
        let out = ""
        let rest = body
        for (;;) {
          const nl = rest.indexOf("\r\n")
          const size = parseInt(rest.slice(0, nl), 16)
          if (!(size > 0)) break
          out += rest.slice(nl + 2, nl + 2 + size)
          rest = rest.slice(nl + 2 + size + 2)
        }
        body = out
      } else if (headers["content-length"] !== undefined) body = body.slice(0, Number(headers["content-length"]))
      resolve({ status: Number(statusLine!.split(" ")[1]), headers, body: Buffer.from(body, "latin1").toString("utf8") })
    }
    socket.on("data", (d) => {
      chunks.push(d)
      // One answer is all we want: stop once it is complete (keep-alive would wait forever).
      const all = Buffer.concat(chunks).toString("latin1")
      const end = all.indexOf("\r\n\r\n")
      if (end < 0) return
      const head = all.slice(0, end).toLowerCase()
      const cl = /\r\ncontent-length:\s*(\d+)/.exec(head)
      if ((cl && all.length - end - 4 >= Number(cl[1])) || (/transfer-encoding:\s*chunked/.test(head) && all.endsWith("0\r\n\r\n"))) {
        socket.destroy()
        finish()
      }
    })
    socket.on("end", () => {
      if (!socket.destroyed) socket.destroy()
    })
    socket.on("close", () => {
      if (chunks.length === 0) {
        clearTimeout(timer)
        reject(new Error("connection closed without an answer"))
      } else finish()
    })
    socket.on("error", () => {})
    socket.write(request)
  })

/** What a suite saw: inputs tried, 5xx answers, appends caused by input that was refused. */
export class Tally {
  inputs = 0
  fiveXx = 0
  rejected = 0
  appendsFromRejected = 0
  readonly failures: Array<string> = []

  record(name: string, status: number, appended: number, problem: boolean, expected: ReadonlyArray<number>) {
    this.inputs++
    if (status >= 500) this.fiveXx++
    if (status >= 400) {
      this.rejected++
      this.appendsFromRejected += appended
    }
    if (!expected.includes(status)) this.failures.push(`${name}: ${status}, expected ${expected.join(" or ")}`)
    else if (status >= 400 && !problem) this.failures.push(`${name}: ${status} without application/problem+json`)
    if (status >= 400 && appended > 0) this.failures.push(`${name}: refused with ${status} but ${appended} events were appended`)
  }
}
