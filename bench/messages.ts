// Realistic Claude stream messages (as the Agent SDK emits them, see
// test/support/CLAUDE_PROTOCOL_NOTES.md) of a chosen size, for the append and lag benches.
import type { EventData } from "../src/eventstore/eventStore.ts"
import { code, prose, Rng } from "./rng.ts"

export type Json = null | boolean | number | string | ReadonlyArray<Json> | { readonly [k: string]: Json }
export type ClaudeMessage = { readonly [k: string]: Json }

export const toolNames = ["Bash", "Read", "Edit", "Write", "Grep", "Glob", "WebFetch", "TodoWrite", "Task", "mcp__github__get_issue"] as const

/** How often each tool is used (Bash and Read dominate, as in real sessions). */
export const toolWeights: ReadonlyArray<readonly [string, number]> = [
  ["Bash", 30],
  ["Read", 25],
  ["Edit", 15],
  ["Grep", 10],
  ["Glob", 6],
  ["Write", 5],
  ["TodoWrite", 4],
  ["Task", 2],
  ["WebFetch", 2],
  ["mcp__github__get_issue", 1]
]

const usage = (rng: Rng) => ({
  input_tokens: rng.int(3, 40),
  cache_creation_input_tokens: rng.int(0, 4000),
  cache_read_input_tokens: rng.int(0, 60000),
  output_tokens: rng.int(20, 900),
  service_tier: "standard"
})

export type MessageKind = "text" | "thinking" | "tool_use" | "tool_result"

export interface MessageContext {
  readonly claudeSessionId: string
  /** tool_use id of the last tool_use, answered by the next tool_result. */
  lastToolUseId?: string
}

/** One SDK message of about `bytes` bytes of JSON (1–4 KB in the benches). */
export const claudeMessage = (rng: Rng, ctx: MessageContext, kind: MessageKind, bytes: number): ClaudeMessage => {
  const envelope = { parent_tool_use_id: null, session_id: ctx.claudeSessionId, uuid: rng.uuid() }
  const build = (fill: number): ClaudeMessage => {
    switch (kind) {
      case "text":
      case "thinking":
      case "tool_use": {
        let block: Json
        if (kind === "text") block = { type: "text", text: prose(rng, fill) }
        else if (kind === "thinking")
          block = { type: "thinking", thinking: prose(rng, fill), signature: rng.hex(Math.min(344, 32 + (fill >> 3))) }
        else {
          const id = `toolu_01${rng.hex(22)}`
          ctx.lastToolUseId = id
          const name = rng.weighted(toolWeights)
          const input: Json =
            name === "Bash"
              ? { command: code(rng, Math.min(fill, 300)).replace(/\n/g, " && "), description: prose(rng, Math.max(0, fill - 300)) }
              : name === "Edit"
                ? { file_path: `/work/repo/src/${rng.hex(6)}.ts`, old_string: code(rng, fill >> 1), new_string: code(rng, fill >> 1) }
                : { file_path: `/work/repo/src/${rng.hex(6)}.ts`, content: code(rng, fill) }
          block = { type: "tool_use", id, name, input }
        }
        return {
          type: "assistant",
          message: {
            id: `msg_01${rng.hex(22)}`,
            type: "message",
            role: "assistant",
            model: "claude-opus-5-5",
            content: [block],
            stop_reason: null,
            stop_sequence: null,
            usage: usage(rng)
          },
          ...envelope,
          request_id: `req_01${rng.hex(22)}`
        }
      }
      case "tool_result": {
        const id = ctx.lastToolUseId ?? `toolu_01${rng.hex(22)}`
        const out = code(rng, fill)
        return {
          type: "user",
          message: { role: "user", content: [{ tool_use_id: id, type: "tool_result", content: out, is_error: rng.float() < 0.05 }] },
          ...envelope,
          tool_use_result: { stdout: out.slice(0, 200), stderr: "", interrupted: false, isImage: false }
        }
      }
    }
  }
  // Size the filler so the whole message lands close to `bytes`.
  const base = JSON.stringify(build(16)).length - 16
  return build(Math.max(16, bytes - base))
}

/** A conversation-like sequence of kinds: text, tool_use/tool_result pairs, some thinking. */
export const nextKind = (rng: Rng, previous: MessageKind | undefined): MessageKind => {
  if (previous === "tool_use") return "tool_result"
  return rng.weighted<MessageKind>([
    ["tool_use", 45],
    ["text", 40],
    ["thinking", 15]
  ])
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)))

/**
 * Each session sends a conversation-like run of messages (1–4 KB) until `deadline`, one every
 * `intervalMs` on average. Messages are due at fixed (jittered) times, whatever the previous
 * one cost, so the offered load is sessions / intervalMs whatever the machine does.
 */
export const streamMessages = <S extends { readonly claude: MessageContext }>(
  sessions: ReadonlyArray<S>,
  seed: number,
  started: number,
  deadline: number,
  intervalMs: number,
  send: (session: S, index: number, message: ClaudeMessage) => Promise<void>
): Promise<unknown> =>
  Promise.all(
    sessions.map(async (s, i) => {
      const r = new Rng(seed * 1000 + i)
      let kind: MessageKind | undefined
      let due = started + r.float() * intervalMs
      for (;;) {
        await sleep(due - performance.now())
        if (performance.now() >= deadline) break
        kind = nextKind(r, kind)
        await send(s, i, claudeMessage(r, s.claude, kind, r.int(1024, 4096)))
        due += intervalMs * (0.5 + r.float())
      }
    })
  )

/** The event SessionCommands would append for a Claude message, with the same metadata. */
export const claudeEvent = (rng: Rng, runId: string, message: ClaudeMessage, recordedAt: string): EventData => {
  const type = message.type === "assistant" ? "ClaudeAssistantMessage" : message.type === "user" ? "ClaudeUserMessage" : "ClaudeStreamEvent"
  return {
    id: rng.uuid(),
    type,
    data: { runId, message },
    metadata: { runId, correlationId: runId, schemaVersion: 1, recordedAt, source: "claude" }
  }
}
