// GET /v1/events/live: the change feed the page's session list follows. It replays
// nothing; its first frame names the store's position at the start, so a list read at that
// position plus the frames after it miss nothing.
import { randomUUID } from "node:crypto"
import { afterEach, describe, expect, it } from "vitest"
import { startHarness, type Harness } from "./httpHarness.ts"
import { openSse } from "./sseClient.ts"

let h: Harness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

describe("GET /v1/events/live (SSE)", () => {
  it("starts with the head position, then follows every session's events of the types asked for", async () => {
    h = await startHarness()
    const before = await h.seedRunning()
    const sse = await openSse(`${h.url}/v1/events/live?type=RunFailed,SessionRenamed`)
    try {
      expect(sse.response.status).toBe(200)
      expect(sse.response.headers.get("content-type")).toMatch(/^text\/event-stream/)
      const [ready] = await sse.waitForFrames(1)
      expect(ready!.event).toBe("ready")
      const stored = await h.events(before.sessionId)
      // The head: the last event appended before the feed started (nothing of it replayed).
      expect(JSON.parse(ready!.data)).toEqual({ position: String(stored[stored.length - 1]!.position.commit) })
      const other = await h.seedRunning()
      await h.command({
        kind: "RecordClaudeMessage",
        sessionId: other.sessionId,
        runId: other.runId,
        message: { type: "assistant", uuid: randomUUID(), message: { role: "assistant", content: [{ type: "text", text: "not asked for" }] } }
      })
      await h.command({ kind: "FinishRun", sessionId: before.sessionId, runId: before.runId, outcome: { kind: "failed", error: "boom" } })
      // The rename is the barrier: the frames up to it are all the feed sent.
      await h.command({ kind: "RenameSession", sessionId: other.sessionId, title: "barrier" })
      const frames = await sse.waitForFrames(3)
      expect(frames.slice(1).map((f) => [f.event, JSON.parse(f.data).sessionId])).toEqual([
        ["RunFailed", before.sessionId],
        ["SessionRenamed", other.sessionId]
      ])
      expect(frames.every((f) => f.id === undefined)).toBe(true)
      expect(JSON.parse(frames[1]!.data)).toMatchObject({ type: "RunFailed", revision: 2, stream: `session-${before.sessionId}` })
    } finally {
      sse.close()
    }
  })

  it("refuses an unknown query parameter", async () => {
    h = await startHarness()
    const r = await h.fetch("/v1/events/live?since=1")
    expect(r.status).toBe(400)
  })
})
