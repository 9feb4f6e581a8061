// Full-text search over the transcripts (GET /v1/search): what a person looking for "where
// did Claude run rm -rf" finds, ranked, naming the session, the entry and the revision.
import { afterEach, expect, it } from "vitest"
import type { ClaudeMessage } from "../../src/domain/claudeMessages.ts"
import { assistantText, newId } from "../support/domainFixtures.ts"
import { expectProblem } from "./expectProblem.ts"
import { startHarness, type Harness } from "./httpHarness.ts"

let h: Harness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

type Json = Record<string, any>

const toolUse = (claude: string, id: string, command: string): ClaudeMessage => ({
  type: "assistant",
  session_id: claude,
  uuid: newId(),
  parent_tool_use_id: null,
  message: { id: `msg_${id}`, role: "assistant", content: [{ type: "tool_use", id, name: "Bash", input: { command } }] }
})
const toolResult = (claude: string, id: string, content: string): ClaudeMessage => ({
  type: "user",
  session_id: claude,
  uuid: newId(),
  parent_tool_use_id: null,
  message: { role: "user", content: [{ type: "tool_result", tool_use_id: id, content }] }
})

it("finds entries by their text, tool input and tool result, best first, in all sessions or one", async () => {
  h = await startHarness()
  const say = async (s: { sessionId: string; runId: string }, message: ClaudeMessage) =>
    h!.command({ kind: "RecordClaudeMessage", sessionId: s.sessionId, runId: s.runId, message })
  const a = await h.seedRunning()
  const b = await h.seedRunning()
  await say(a, assistantText("claude-a", "The quick brown fox jumps over the lazy dog"))
  await say(a, toolUse("claude-a", "toolu_rm", "rm -rf build/cache"))
  await say(b, assistantText("claude-b", "A fox, a fox, and another fox in the henhouse"))
  // The result arrives later and is merged into the tool call's entry: still found by it.
  await say(a, toolResult("claude-a", "toolu_rm", "removed 1234 flamingos"))
  await h.caughtUp()

  const search = async (query: string): Promise<Array<Json>> => {
    const r = await h!.fetch(`/v1/search?${query}`)
    expect(r.status, await r.clone().text()).toBe(200)
    return ((await r.json()) as Json).items
  }
  const fox = await search("q=fox")
  expect(fox.map((x) => x.sessionId)).toEqual([b.sessionId, a.sessionId])
  expect(fox[0]!.snippet).toContain("[fox]")
  expect(fox[1]).toMatchObject({ kind: "assistant_text", seq: expect.any(Number), revision: expect.any(Number) })

  const rm = await search(`q=${encodeURIComponent("rm build")}`)
  expect(rm.map((x) => [x.sessionId, x.kind, x.toolName])).toEqual([[a.sessionId, "tool_call", "Bash"]])
  const flamingos = await search("q=flaming*")
  expect(flamingos.map((x) => x.seq)).toEqual([rm[0]!.seq])

  // The hit cites the stream revision the entry came from.
  const events = await h.events(a.sessionId)
  expect(events[rm[0]!.revision]!.type).toBe("ClaudeAssistantMessage")

  expect((await search(`q=fox&session=${a.sessionId}`)).map((x) => x.sessionId)).toEqual([a.sessionId])
  expect(await search("q=nothing-like-this")).toEqual([])
  expect((await search("q=fox&limit=1&offset=1")).map((x) => x.sessionId)).toEqual([a.sessionId])
  // Quotes, operators and column filters are only text.
  for (const q of ['"', "NEAR(fox", "text:fox OR", "fox AND NOT", "-fox", "^fox", "(", "fox\"*"]) await search(`q=${encodeURIComponent(q)}`)
  await expectProblem(await h.fetch("/v1/search"), 400, "validation-failed", ["?q"])
  await expectProblem(await h.fetch("/v1/search?q=***"), 400, "validation-failed", ["?q"])
  await expectProblem(await h.fetch("/v1/search?q=fox&limit=101"), 400, "validation-failed", ["?limit"])
})
