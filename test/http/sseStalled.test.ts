// SSE clients that stop reading cost bounded memory: heartbeats are not queued behind bytes
// the client has not taken, and a client that takes nothing for the stall time is dropped
// (its socket closed, its store subscription ended, a warning in the log).
import { randomUUID } from "node:crypto"
import { connect, type Socket } from "node:net"
import { Stream } from "effect"
import { afterEach, describe, expect, it, vi } from "vitest"
import { sseBody } from "../../src/http/sse.ts"
import { startHarness, type Harness } from "./httpHarness.ts"
import { countingSubscriptions } from "./sseClient.ts"

let h: Harness | undefined
const sockets: Array<Socket> = []
afterEach(async () => {
  vi.useRealTimers()
  for (const s of sockets.splice(0)) s.destroy()
  await h?.close()
  h = undefined
})

/** Chunks a reader can take at once (without anything new being written). */
const queuedChunks = async (reader: ReadableStreamDefaultReader<Uint8Array>): Promise<Array<string>> => {
  const out: Array<string> = []
  const decoder = new TextDecoder()
  for (;;) {
    const next = await Promise.race([reader.read(), new Promise<"empty">((r) => setImmediate(() => r("empty")))])
    if (next === "empty" || next.done) return out
    out.push(decoder.decode(next.value))
  }
}

describe("sseBody with a client that does not read", () => {
  it("queues no heartbeat behind one that waits: 1,000 heartbeat periods leave one in the queue", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] })
    const ended: Array<unknown> = []
    const body = sseBody({ events: Stream.never, heartbeatMs: 10, onEnd: (r) => ended.push(r) })
    const reader = body.getReader()
    expect((await queuedChunks(reader)).join("")).toMatch(/^: agentlog\n/)
    // The client reads nothing more from here on.
    vi.advanceTimersByTime(10 * 1_000)
    expect(await queuedChunks(reader)).toEqual([": heartbeat\n\n"])
    await reader.cancel()
    expect(ended).toEqual(["client_closed"])
  })

  it("a client that takes nothing for stallMs is dropped; one that keeps reading is not", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval", "Date"] })
    let dropped = 0
    const ended: Array<unknown> = []
    const stalled = sseBody({ events: Stream.never, heartbeatMs: 10, stallMs: 1_000, drop: () => void dropped++, onEnd: (r) => ended.push(r) })
    vi.advanceTimersByTime(990)
    expect(ended).toEqual([])
    vi.advanceTimersByTime(1_100)
    expect(ended).toEqual(["stalled"])
    expect(dropped).toBe(1)
    void stalled

    const reading = sseBody({ events: Stream.never, heartbeatMs: 10, stallMs: 1_000, drop: () => void dropped++, onEnd: (r) => ended.push(r) })
    const reader = reading.getReader()
    for (let i = 0; i < 50; i++) {
      vi.advanceTimersByTime(100)
      await queuedChunks(reader)
    }
    expect(ended).toEqual(["stalled"])
    await reader.cancel()
  })
})

/** A raw TCP client that sends the request and never reads a byte. */
const stalledClient = (url: string, path: string) =>
  new Promise<Socket>((resolve, reject) => {
    const { hostname, port } = new URL(url)
    const socket = connect({ host: hostname, port: Number(port) }, () => {
      socket.pause()
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAccept: text/event-stream\r\n\r\n`)
      resolve(socket)
    })
    sockets.push(socket)
    socket.on("error", () => {}) // the server resets it when it drops it
    socket.once("error", reject)
  })

/** Resolves when ok() holds (checked as things happen); rejects after timeoutMs. */
const until = (ok: () => boolean, timeoutMs = 30_000) =>
  new Promise<void>((resolve, reject) => {
    const deadline = Date.now() + timeoutMs
    const check = () => {
      if (ok()) resolve()
      else if (Date.now() > deadline) reject(new Error(`timed out; last log lines: ${JSON.stringify(h?.logs.slice(-3))}`))
      else setTimeout(check, 25)
    }
    check()
  })

describe("GET /v1/sessions/:id/events/live with a TCP client that never reads", () => {
  it("is dropped after the stall time: socket closed, subscription ended, a warning logged", async () => {
    const { counts, options } = countingSubscriptions()
    h = await startHarness({ ...options, config: { heartbeatMs: 20, sseStallMs: 300 } })
    const { sessionId, runId } = await h.seedRunning() // revisions 0..1
    // Nothing to replay: the client is on the live subscription when the events come.
    const socket = await stalledClient(h.url, `/v1/sessions/${sessionId}/events/live?lastEventId=1`)
    const closed = new Promise<void>((r) => socket.once("close", () => r()))
    await until(() => counts.opened === 1)
    // More than the socket buffers hold, so the client's stall reaches the server.
    const big = "x".repeat(100_000)
    for (let i = 0; i < 100 && counts.ended === 0; i++)
      await h.command({
        kind: "RecordClaudeMessage",
        sessionId,
        runId,
        message: { type: "assistant", uuid: randomUUID(), message: { role: "assistant", content: [{ type: "text", text: big }] } }
      })
    await until(() => h!.logs.some((l) => l.msg.startsWith("SSE client dropped") && l.fields.sessionId === sessionId))
    // The client sees the end of the connection once it looks.
    socket.resume()
    await closed
    await until(() => counts.ended === 1)
  }, 60_000)
})
