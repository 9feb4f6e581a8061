// Issue 16, item 2: what SSE clients that stop reading cost the service. 200 raw TCP
// clients open a session's live stream and never read a byte, with a 100 ms heartbeat and
// the stall drop turned off (AGENTLOG_SSE_STALL_MS=0), so only the heartbeat's restraint
// bounds them; the service's RSS is sampled over the run (10 minutes at BENCH_SCALE=1: the
// heartbeats alone take minutes to fill the sockets' kernel buffers, after which the stall
// reaches the service). The baseline is the same 200 clients reading, for a fifth of the
// time. Before the fix RSS grew linearly once the buffers were full (a queued heartbeat per
// client every 100 ms, ~430 bytes each, ~250 MB in five minutes); bounded means the peak
// stays within 50 MB of the start.
import { rmSync } from "node:fs"
import { connect, type Socket } from "node:net"
import { join } from "node:path"
import { randomUUID } from "node:crypto"
import { Effect } from "effect"
import { makeSessionCommands } from "../src/commands/sessionCommands.ts"
import { makeSqliteEventStore } from "../src/eventstore/sqliteEventStore.ts"
import { memoryOf, startService } from "./scale.ts"
import { fmt, type Row } from "./table.ts"

export interface StalledSseOptions {
  readonly dir: string
  readonly clients: number
  readonly durationMs: number
  readonly log: (line: string) => void
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

const openClient = (url: string, path: string, read: boolean): Promise<Socket> =>
  new Promise((resolve, reject) => {
    const { hostname, port } = new URL(url)
    const socket = connect({ host: hostname, port: Number(port) }, () => {
      if (!read) socket.pause()
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAccept: text/event-stream\r\n\r\n`)
      resolve(socket)
    })
    if (read) socket.on("data", () => {})
    socket.on("error", reject)
  })

/** A finished session, written through the write side before the service starts (no claude runs). */
const writeSession = async (dataDir: string): Promise<string> => {
  const store = await Effect.runPromise(makeSqliteEventStore(dataDir))
  try {
    const commands = makeSessionCommands(store)
    const ctx = { correlationId: "bench", source: "supervisor" as const }
    const sessionId = randomUUID()
    const runId = randomUUID()
    const run = (c: Parameters<typeof commands.handle>[0]) => Effect.runPromise(commands.handle(c, ctx))
    await run({ kind: "LaunchSession", sessionId, runId, query: "followed by the bench", options: {} })
    await run({ kind: "StartRun", sessionId, runId })
    await run({ kind: "FinishRun", sessionId, runId, outcome: { kind: "failed", error: "bench" } })
    return sessionId
  } finally {
    await Effect.runPromise(store.close())
  }
}

interface Phase {
  readonly start: number
  readonly mid: number
  readonly end: number
  readonly peak: number
}

const phase = async (o: StalledSseOptions, name: string, read: boolean, durationMs: number): Promise<Phase> => {
  const dataDir = join(o.dir, `stalled-sse-${name}`)
  rmSync(dataDir, { recursive: true, force: true })
  const sessionId = await writeSession(dataDir)
  const svc = await startService(dataDir, join(o.dir, `service-stalled-sse-${name}.log`), undefined, {
    AGENTLOG_HEARTBEAT_MS: "100",
    AGENTLOG_SSE_STALL_MS: "0"
  })
  const sockets: Array<Socket> = []
  try {
    for (let i = 0; i < o.clients; i++) sockets.push(await openClient(svc.url, `/v1/sessions/${sessionId}/events/live`, read))
    const pid = svc.child.pid!
    const start = memoryOf(pid).rss
    const samples: Array<number> = []
    const t0 = performance.now()
    let mid = start
    while (performance.now() - t0 < durationMs) {
      await sleep(Math.min(5_000, durationMs / 20))
      const rss = memoryOf(pid).rss
      samples.push(rss)
      if (performance.now() - t0 < durationMs / 2) mid = rss
    }
    const end = memoryOf(pid).rss
    const peak = Math.max(start, ...samples)
    o.log(`  ${name}: RSS ${fmt.mb(start)} at start, ${fmt.mb(mid)} half way, ${fmt.mb(end)} at the end, peak ${fmt.mb(peak)}`)
    return { start, mid, end, peak }
  } finally {
    for (const s of sockets) s.destroy()
    await svc.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

export const runStalledSse = async (o: StalledSseOptions): Promise<Array<Row>> => {
  const minutes = (o.durationMs / 60_000).toFixed(1)
  o.log(`stalled-sse: ${o.clients} clients that never read, ${minutes} min, 100 ms heartbeat, no stall drop`)
  const stalled = await phase(o, "stalled", false, o.durationMs)
  o.log(`stalled-sse: the same with ${o.clients} clients that read, for a fifth of the time`)
  const reading = await phase(o, "reading", true, o.durationMs / 5)
  return [
    {
      item: 16,
      what: `service RSS with ${o.clients} stalled SSE clients over ${minutes} min (start -> end, peak)`,
      figure: `${fmt.mb(stalled.start)} -> ${fmt.mb(stalled.end)}, peak ${fmt.mb(stalled.peak)}`,
      baseline: `${o.clients} reading clients: ${fmt.mb(reading.start)} -> ${fmt.mb(reading.end)}, peak ${fmt.mb(reading.peak)}`,
      ratio: fmt.ratio(stalled.peak / reading.peak),
      goal: "bounded: peak < start + 50 MB",
      pass: stalled.peak - stalled.start < 50 * 1048576
    }
  ]
}
