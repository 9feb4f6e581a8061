// The NDJSON replay's writer: each line is JSON.stringify(eventView(e)) of the same
// event, made from the store's text with what repeats between events kept per response
// (the stream's part, each type's JSON, the date part of the time).
import { describe, expect, it } from "vitest"
import type { RecordedEvent, RecordedEventJson } from "../../src/eventstore/eventStore.ts"
import { eventView, eventViewJsonWriter } from "../../src/http/eventRoutes.ts"

const stream = "session-0b0c9a7e-5f6d-4e3a-9c1b-2a3d4e5f6a7b"

const pair = (i: number, ms: number, type: string, data: unknown, metadata: unknown) => {
  const common = {
    stream,
    revision: BigInt(i),
    position: { commit: BigInt(1000 + i), prepare: BigInt(1000 + i) },
    id: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
    type,
    created: new Date(ms)
  }
  const recorded: RecordedEvent = { _tag: "RecordedEvent", ...common, data, metadata }
  const text: RecordedEventJson = {
    _tag: "RecordedEventJson",
    ...common,
    dataJson: JSON.stringify(data),
    metadataJson: JSON.stringify(metadata)
  }
  return { recorded, text }
}

describe("eventViewJsonWriter", () => {
  it("writes JSON.stringify(eventView(e)) for every time, type and data, in any order", () => {
    // Times around the day, second and millisecond boundaries, before 1970, past year
    // 9999, and times that come back to a day seen before.
    const times = [
      0, 1, 999, 1000, 59_999, 60_000, 3_599_999, 3_600_000, 86_399_999, 86_400_000, -1, -86_400_001,
      Date.UTC(2026, 0, 1, 23, 59, 59, 999), Date.UTC(2026, 0, 2), Date.UTC(2026, 0, 1, 12, 0, 0, 7),
      Date.UTC(9999, 11, 31, 23, 59, 59, 999), Date.UTC(10000, 0, 1), Date.UTC(-1, 5, 1), 1_767_225_602_592
    ]
    for (let i = 0; i < 500; i++) times.push(Math.floor(Math.sin(i + 1) * 4e12))
    const types = ["RunStarted", "ClaudeAssistantMessage", 'Odd "type" \\ ✓', "RunStarted"]
    const events = times.map((ms, i) =>
      pair(i, ms, types[i % types.length]!, { n: i, text: `line ${i} ✓ "quoted"\n` }, { schemaVersion: 1, recordedAt: "x" })
    )
    const line = eventViewJsonWriter()
    for (const { recorded, text } of events) expect(line(text)).toBe(JSON.stringify(eventView(recorded)))
  })

  it("upcasts an old version as eventView does: ClaudeResult v1 gains its tokens and says version 2", () => {
    const usage = { input_tokens: 20, output_tokens: 10, cache_read_input_tokens: 3, cache_creation_input_tokens: 4 }
    const data = { subtype: "success", result: "done", total_cost_usd: 0.01, num_turns: 1, usage }
    const { recorded, text } = pair(7, Date.UTC(2026, 0, 1), "ClaudeResult", data, { schemaVersion: 1, source: "claude" })
    const out = JSON.parse(eventViewJsonWriter()(text))
    expect(out).toEqual(JSON.parse(JSON.stringify(eventView(recorded))))
    expect(out.metadata.schemaVersion).toBe(2)
    expect(out.data.tokens).toEqual({ input: 20, output: 10, cacheRead: 3, cacheCreation: 4 })
  })
})
