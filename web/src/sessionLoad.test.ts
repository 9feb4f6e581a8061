import { describe, expect, it, vi } from "vitest"
import type { EventView, Schemas } from "./api.ts"
import { emptyFold, fold } from "./fold.ts"
import { addEvents, fillIn, firstRead, tailEvents, tailStart } from "./sessionLoad.ts"

const ev = (revision: number, type: string, data: Record<string, unknown>): EventView => ({
  stream: "session-s",
  sessionId: "s",
  revision,
  position: String(revision + 1),
  id: `e${revision}`,
  type,
  data,
  metadata: {},
  created: new Date(Date.UTC(2026, 10, 30, 10, 0, revision)).toISOString()
})

/** `runs` runs of seven events each: a prompt, a Bash call and its result, text, the result and the run's end. */
const longSession = (runs: number): Array<EventView> => {
  const out: Array<EventView> = []
  const add = (type: string, data: Record<string, unknown>) => out.push(ev(out.length, type, data))
  for (let i = 0; i < runs; i++) {
    const runId = `r${i}`
    if (i === 0) add("SessionLaunched", { sessionId: "s", runId, query: "start", options: { title: "long", cwd: "/w" } })
    else add("ContinueRequested", { runId, query: `prompt ${i}` })
    add("RunStarted", { runId })
    add("ClaudeAssistantMessage", { runId, message: { uuid: `u${i}`, session_id: "c", parent_tool_use_id: null, message: { content: [{ type: "tool_use", id: `tu${i}`, name: "Bash", input: { command: `ls ${i}` } }] } } })
    add("ClaudeUserMessage", { runId, message: { message: { content: [{ type: "tool_result", tool_use_id: `tu${i}`, content: `out ${i}` }] } } })
    add("ClaudeAssistantMessage", { runId, message: { message: { content: [{ type: "text", text: `done ${i}` }] } } })
    add("ClaudeResult", { runId, subtype: "success", runCostUsd: 0.01, usage: { input_tokens: 10, output_tokens: 2 }, numTurns: 1, message: { result: "ok" } })
    add("RunCompleted", { runId })
  }
  return out
}

/** The session's row as the read model has it at `revision` (what the page reads first). */
const rowAt = (events: ReadonlyArray<EventView>, revision: number): Schemas["Session"] => {
  const f = fold(emptyFold, events.slice(0, revision + 1))
  return {
    sessionId: "s",
    status: "completed",
    archived: false,
    title: f.title,
    query: "start",
    model: f.model,
    cwd: f.cwd,
    options: {},
    parentSessionId: null,
    forkedAt: null,
    claudeSessionId: null,
    runId: f.runId ?? "",
    runs: f.totals.runs,
    turns: f.totals.turns,
    costUsd: f.totals.costUsd,
    inputTokens: f.totals.inputTokens,
    outputTokens: f.totals.outputTokens,
    cacheReadTokens: 0,
    cacheCreationTokens: 0,
    pendingApprovals: 0,
    lastError: null,
    createdAt: events[0]!.created,
    updatedAt: events[revision]!.created,
    lastRevision: revision,
    lastPosition: String(revision + 1),
    revision,
    children: []
  }
}

describe("a long session's first read, the live stream and the fill-in", () => {
  const all = longSession(100)

  it("draws the newest entries from the tail, with the row's status and totals", () => {
    const row = rowAt(all, all.length - 1)
    const from = tailStart(row.revision)
    expect(from).toBe(all.length - tailEvents)
    const first = firstRead(all.slice(from), from, row)
    const whole = fold(emptyFold, all)
    expect(first.complete).toBe(false)
    expect(first.folded.revision).toBe(whole.revision)
    expect(first.folded.status).toBe("completed")
    expect(first.folded.title).toBe("long")
    expect(first.folded.totals).toEqual(whole.totals)
    // The newest entries are the whole fold's, result included.
    expect(first.folded.entries.slice(-20)).toEqual(whole.entries.slice(-20))
  })

  it("ends as exactly the fold of the whole stream, whatever arrived live (repeats included) while the rest was read", () => {
    // The read model lags the stream: the first read goes on past its revision.
    const row = rowAt(all, 600)
    const from = tailStart(row.revision)
    const first = firstRead(all.slice(from, 650), from, row)
    // Live: what came after the first read, then a resumed stream repeating some of it.
    let l = addEvents(first, all.slice(650, 670))
    l = addEvents(l, all.slice(660, 680))
    const older = all.slice(0, from)
    l = fillIn(l, older, fold(emptyFold, older))
    l = addEvents(l, all.slice(675))
    expect(l.complete).toBe(true)
    expect(l.events).toEqual(all)
    expect(l.folded).toEqual(fold(emptyFold, all))
  })

  it("stays partial when the read of the events before the tail was cut short", () => {
    const row = rowAt(all, all.length - 1)
    const from = tailStart(row.revision)
    const first = firstRead(all.slice(from), from, row)
    const cut = all.slice(0, from - 1)
    expect(fillIn(first, cut, fold(emptyFold, cut))).toBe(first)
  })

  it("a short session is read whole at once", () => {
    const short = longSession(3)
    const first = firstRead(short, tailStart(short.length - 1), rowAt(short, short.length - 1))
    expect(first.complete).toBe(true)
    expect(first.folded).toEqual(fold(emptyFold, short))
  })
})

describe("the read of the events before the tail", () => {
  it("parses lines split across chunks, folds them, and stops at the tail's first revision", async () => {
    const all = longSession(20)
    const from = 100
    const text = all.map((e) => JSON.stringify(e)).join("\n") + "\n"
    // Chunks cut through lines (and through a multi-byte character's neighbours).
    const bytes = new TextEncoder().encode(text)
    const chunks: Array<Uint8Array> = []
    for (let i = 0; i < bytes.length; i += 997) chunks.push(bytes.slice(i, i + 997))
    let pulled = 0
    const body = new ReadableStream<Uint8Array>({
      pull: (c) => {
        const next = chunks[pulled++]
        if (next) c.enqueue(next)
        else c.close()
      }
    })
    const fetch = vi.spyOn(globalThis, "fetch").mockResolvedValue(new Response(body, { status: 200, headers: { "content-type": "application/x-ndjson" } }))
    const { readBefore } = await import("./live.ts")
    const { older, folded } = await readBefore("s", from, new AbortController().signal)
    expect(older).toEqual(all.slice(0, from))
    expect(folded).toEqual(fold(emptyFold, all.slice(0, from)))
    // It stopped reading once it reached the tail.
    expect(pulled).toBeLessThan(chunks.length)
    fetch.mockRestore()
  })
})
