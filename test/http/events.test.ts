// The record over HTTP: a session's history (JSON pages, NDJSON), the same as SSE
// (resume from Last-Event-ID without duplicates, then live), and the audit over all streams.
import { randomUUID } from "node:crypto"
import { Effect, Stream } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { problemOf, startHarness, type Harness, type HarnessOptions } from "./httpHarness.ts"
import { openSse } from "./sseClient.ts"

let h: Harness | undefined
const start = async (options?: HarnessOptions) => (h = await startHarness(options))
afterEach(async () => {
  await h?.close()
  h = undefined
})

type Json = Record<string, any>
const json = async (r: Response): Promise<Json> => (await r.json()) as Json

/** Counts the store subscriptions the app opens and ends. */
const countingSubscriptions = () => {
  const counts = { opened: 0, ended: 0 }
  const options: HarnessOptions = {
    wrap: (deps) => ({
      ...deps,
      store: {
        ...deps.store,
        subscribeStream: (stream, from) =>
          Stream.suspend(() => {
            counts.opened++
            return deps.store.subscribeStream(stream, from).pipe(Stream.ensuring(Effect.sync(() => void counts.ended++)))
          })
      }
    })
  }
  return { counts, options }
}

const eventually = async (ok: () => boolean, what: string, timeoutMs = 5_000) => {
  const deadline = Date.now() + timeoutMs
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

const say = (harness: Harness, sessionId: string, runId: string, text: string) =>
  harness.command({
    kind: "RecordClaudeMessage",
    sessionId,
    runId,
    message: { type: "assistant", uuid: randomUUID(), message: { role: "assistant", content: [{ type: "text", text }] } }
  })

describe("GET /v1/sessions/:id/events", () => {
  it("the stream's history in order, paged by revision", async () => {
    const h = await start()
    const { sessionId, runId } = await h.seedRunning()
    for (let i = 0; i < 5; i++) await say(h, sessionId, runId, `line ${i}`)
    const stored = await h.events(sessionId)
    const revisions: Array<number> = []
    let from: number | null = 0
    while (from !== null) {
      const r = await h.fetch(`/v1/sessions/${sessionId}/events?fromRevision=${from}&limit=3`)
      expect(r.status).toBe(200)
      const page = await json(r)
      revisions.push(...page.items.map((e: Json) => e.revision))
      from = page.nextRevision
    }
    expect(revisions).toEqual(stored.map((e) => Number(e.revision)))
    const all = await json(await h.fetch(`/v1/sessions/${sessionId}/events`))
    expect(all.nextRevision).toBeNull()
    expect(all.items[0]).toMatchObject({
      stream: `session-${sessionId}`,
      sessionId,
      revision: 0,
      type: "SessionLaunched",
      id: stored[0]!.id,
      position: "1"
    })
    expect(all.items[2].data.message.message.content[0].text).toBe("line 0")
  })

  it("NDJSON with Accept: application/x-ndjson, one event per line, streamed", async () => {
    const h = await start()
    const { sessionId, runId } = await h.seedRunning()
    for (let i = 0; i < 3; i++) await say(h, sessionId, runId, `n${i}`)
    const r = await h.fetch(`/v1/sessions/${sessionId}/events?fromRevision=1`, { headers: { accept: "application/x-ndjson" } })
    expect(r.status).toBe(200)
    expect(r.headers.get("content-type")).toMatch(/^application\/x-ndjson/)
    const text = await r.text()
    expect(text.endsWith("\n")).toBe(true)
    const lines = text.trimEnd().split("\n").map((l) => JSON.parse(l) as Json)
    expect(lines.map((e) => e.revision)).toEqual([1, 2, 3, 4])
    expect(lines[0]!.type).toBe("RunStarted")
    const missing = await h.fetch(`/v1/sessions/${randomUUID()}/events`, { headers: { accept: "application/x-ndjson" } })
    expect(missing.status).toBe(404)
  })

  it("NDJSON lines are byte for byte the JSON of the paged items, across store pages and odd content", async () => {
    const h = await start()
    const { sessionId, runId } = await h.seedRunning()
    const odd = ["unicode ✓ é 漢字 🎉", 'quotes " and \\ backslash', "control \u0001 \t tab\nnewline", "\u2028\u2029", "</script>"]
    for (let i = 0; i < 620; i++) await say(h, sessionId, runId, `${odd[i % odd.length]} ${i}`)
    await h.command({
      kind: "RecordClaudeMessage",
      sessionId,
      runId,
      message: { type: "user", uuid: randomUUID(), message: { role: "user", content: [{ type: "tool_result", tool_use_id: "t", content: [{ n: 1e21, m: -0, k: 0.1, big: 12345678901234567890, "2": "b", "1": "a", __proto__x: null }] }] } }
    })
    const text = await (await h.fetch(`/v1/sessions/${sessionId}/events`, { headers: { accept: "application/x-ndjson" } })).text()
    const lines = text.trimEnd().split("\n")
    const items: Array<unknown> = []
    for (let from = 0; ; ) {
      const page = await json(await h.fetch(`/v1/sessions/${sessionId}/events?fromRevision=${from}&limit=1000`))
      items.push(...page.items)
      if (page.nextRevision === null) break
      from = page.nextRevision
    }
    expect(lines.length).toBe(items.length)
    expect(lines).toEqual(items.map((i) => JSON.stringify(i)))
  })

  it("404 for an unknown session; 400 for a bad fromRevision or limit", async () => {
    const h = await start()
    const { sessionId } = await h.seedSession()
    expect((await h.fetch(`/v1/sessions/${randomUUID()}/events`)).status).toBe(404)
    for (const q of ["fromRevision=-1", "fromRevision=x", "limit=0", "limit=1001"])
      expect((await h.fetch(`/v1/sessions/${sessionId}/events?${q}`)).status, q).toBe(400)
  })
})

describe("GET /v1/sessions/:id/events/live (SSE)", () => {
  it("replays after Last-Event-ID without duplicates, then follows live", async () => {
    const h = await start({ config: { heartbeatMs: 50 } })
    const { sessionId, runId } = await h.seedRunning()
    await say(h, sessionId, runId, "a")
    await say(h, sessionId, runId, "b") // revisions 0..3
    const sse = await openSse(`${h.url}/v1/sessions/${sessionId}/events/live`, { "last-event-id": "1" })
    try {
      expect(sse.response.status).toBe(200)
      expect(sse.response.headers.get("content-type")).toMatch(/^text\/event-stream/)
      const replayed = await sse.waitForFrames(2)
      expect(replayed.map((f) => f.id)).toEqual(["2", "3"])
      expect(replayed.map((f) => f.event)).toEqual(["ClaudeAssistantMessage", "ClaudeAssistantMessage"])
      expect(JSON.parse(replayed[0]!.data)).toMatchObject({ revision: 2, sessionId, type: "ClaudeAssistantMessage" })
      // Live.
      await say(h, sessionId, runId, "c")
      await h.command({ kind: "FinishRun", sessionId, runId, outcome: { kind: "failed", error: "boom" } })
      const all = await sse.waitForFrames(4)
      expect(all.map((f) => f.id)).toEqual(["2", "3", "4", "5"])
      expect(all[3]!.event).toBe("RunFailed")
      // Heartbeats are comments.
      await sse.waitForComment((c) => c === "heartbeat")
      // Other sessions' events do not leak in, and a refused command appends nothing: the
      // rename appended after them is the barrier, so the frames before it are all there is.
      const other = await h.seedRunning()
      // (More events than this stream has, so their revisions overlap the ones still to come.)
      for (let i = 0; i < 6; i++) await say(h, other.sessionId, other.runId, `elsewhere ${i}`)
      await expect(say(h, sessionId, runId, "late")).rejects.toMatchObject({ _tag: "InvalidTransition" })
      await h.command({ kind: "RenameSession", sessionId, title: "barrier" })
      const upToBarrier = await sse.waitForFrames(5)
      expect(upToBarrier.map((f) => [f.id, f.event])).toEqual([
        ["2", "ClaudeAssistantMessage"],
        ["3", "ClaudeAssistantMessage"],
        ["4", "ClaudeAssistantMessage"],
        ["5", "RunFailed"],
        ["6", "SessionRenamed"]
      ])
      expect(upToBarrier.every((f) => JSON.parse(f.data).sessionId === sessionId)).toBe(true)
    } finally {
      sse.close()
    }
  })

  it("replays everything without Last-Event-ID; resumes live when the client already has everything", async () => {
    const h = await start()
    const { sessionId, runId } = await h.seedRunning()
    const full = await openSse(`${h.url}/v1/sessions/${sessionId}/events/live`)
    try {
      expect((await full.waitForFrames(2)).map((f) => f.id)).toEqual(["0", "1"])
    } finally {
      full.close()
    }
    const caughtUp = await openSse(`${h.url}/v1/sessions/${sessionId}/events/live?lastEventId=1`)
    try {
      await say(h, sessionId, runId, "new")
      expect((await caughtUp.waitForFrames(1)).map((f) => f.id)).toEqual(["2"])
    } finally {
      caughtUp.close()
    }
  })

  it("ends its store subscription when the client goes away", async () => {
    const { counts, options } = countingSubscriptions()
    const h = await start(options)
    const { sessionId } = await h.seedRunning()
    const sse = await openSse(`${h.url}/v1/sessions/${sessionId}/events/live`)
    await sse.waitForFrames(2)
    await eventually(() => counts.opened === 1, "the live subscription")
    expect(counts.ended).toBe(0)
    sse.close()
    await eventually(() => counts.ended === 1, "the subscription to end")
    await eventually(
      () => h.logs.some((l) => l.msg === "SSE stream ended" && l.fields.reason === "client_closed"),
      "the stream to end"
    )
  })

  it("closing the server ends open SSE connections and their subscriptions", async () => {
    const { counts, options } = countingSubscriptions()
    const h = await start(options)
    const { sessionId } = await h.seedRunning()
    const sse = await openSse(`${h.url}/v1/sessions/${sessionId}/events/live`)
    await sse.waitForFrames(2)
    await eventually(() => counts.opened === 1, "the live subscription")
    const started = Date.now()
    await h.server.close()
    await sse.ended
    expect(Date.now() - started).toBeLessThan(2_000)
    await eventually(() => counts.ended === 1, "the subscription to end")
  })

  it("HEAD answers the headers without opening a subscription", async () => {
    const { counts, options } = countingSubscriptions()
    const h = await start(options)
    const { sessionId } = await h.seedRunning()
    const r = await h.fetch(`/v1/sessions/${sessionId}/events/live`, { method: "HEAD" })
    expect(r.status).toBe(200)
    expect(r.headers.get("content-type")).toMatch(/^text\/event-stream/)
    const n = await h.fetch(`/v1/sessions/${sessionId}/events`, { method: "HEAD", headers: { accept: "application/x-ndjson" } })
    expect(n.status).toBe(200)
    // Barrier: a GET after the HEADs opens its subscription once it has replayed; had a HEAD
    // opened one, it would have been counted before (or with) the GET's.
    const sse = await openSse(`${h.url}/v1/sessions/${sessionId}/events/live`)
    try {
      await sse.waitForFrames(2)
      await eventually(() => counts.opened >= 1, "the GET's live subscription")
      expect(counts.opened).toBe(1)
    } finally {
      sse.close()
    }
  })

  it("404 for an unknown session, 400 for a bad Last-Event-ID", async () => {
    const h = await start()
    const { sessionId } = await h.seedSession()
    const r = await h.fetch(`/v1/sessions/${randomUUID()}/events/live`)
    expect(r.status).toBe(404)
    expect((await problemOf(r)).status).toBe(404)
    expect((await h.fetch(`/v1/sessions/${sessionId}/events/live`, { headers: { "last-event-id": "abc" } })).status).toBe(400)
  })

  it("409 naming the current revision for a Last-Event-ID past the stream's end, header or query", async () => {
    const h = await start()
    const { sessionId, runId } = await h.seedRunning() // revisions 0..1
    for (const ask of [
      { headers: { "last-event-id": "50" } },
      { query: "?lastEventId=2" },
      { headers: { "last-event-id": "2" }, method: "HEAD" }
    ]) {
      const r = await h.fetch(`/v1/sessions/${sessionId}/events/live${ask.query ?? ""}`, {
        ...(ask.headers ? { headers: ask.headers } : {}),
        ...(ask.method ? { method: ask.method } : {})
      })
      expect(r.status, JSON.stringify(ask)).toBe(409)
      if (ask.method === "HEAD") continue
      const p = await problemOf(r)
      expect(p).toMatchObject({ type: "urn:agentlog:problem:last-event-id-ahead", status: 409, currentRevision: 1 })
      expect(p.detail).toMatch(/current revision is 1\b/)
    }
    // The newest revision itself is a client that is up to date: it gets what comes next.
    const upToDate = await openSse(`${h.url}/v1/sessions/${sessionId}/events/live`, { "last-event-id": "1" })
    try {
      await say(h, sessionId, runId, "next")
      expect((await upToDate.waitForFrames(1)).map((f) => f.id)).toEqual(["2"])
    } finally {
      upToDate.close()
    }
  })
})

describe("GET /v1/events (audit)", () => {
  it("every session's events in global order, filtered and paged by cursor", async () => {
    const h = await start()
    const a = await h.seedRunning()
    const b = await h.seedCompleted()
    await say(h, a.sessionId, a.runId, "x")
    await h.caughtUp()
    const positions: Array<string> = []
    let cursor: string | null = null
    do {
      const page: Json = await json(await h.fetch(`/v1/events?limit=3${cursor ? `&cursor=${cursor}` : ""}`))
      positions.push(...page.items.map((e: Json) => e.position))
      cursor = page.nextCursor
    } while (cursor !== null)
    const all = [...(await h.events(a.sessionId)), ...(await h.events(b.sessionId))]
    expect(positions.map(Number)).toEqual(all.map((e) => Number(e.position.commit)).sort((x, y) => x - y))

    const launched = await json(await h.fetch("/v1/events?type=SessionLaunched"))
    expect(launched.items.map((e: Json) => e.sessionId).sort()).toEqual([a.sessionId, b.sessionId].sort())
    expect(launched.items[0].data).toHaveProperty("query")
    const two = await json(await h.fetch("/v1/events?type=SessionLaunched,RunCompleted"))
    expect(two.items).toHaveLength(3)
    const ofA = await json(await h.fetch(`/v1/events?session=${a.sessionId}`))
    expect(ofA.items.every((e: Json) => e.sessionId === a.sessionId)).toBe(true)
    expect(ofA.items).toHaveLength((await h.events(a.sessionId)).length)
    const future = await json(await h.fetch(`/v1/events?after=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`))
    expect(future.items).toHaveLength(0)
    const past = await json(await h.fetch(`/v1/events?before=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}&limit=500`))
    expect(past.items).toHaveLength(all.length)
    for (const q of ["cursor=abc", "after=soon", "session=xyz", "limit=501"])
      expect((await h.fetch(`/v1/events?${q}`)).status, q).toBe(400)
  })
})
