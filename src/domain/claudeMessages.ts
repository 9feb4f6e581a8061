// Turns one Claude stream message into the domain event that records it. Total over any
// JSON object: new or odd message types are recorded as ClaudeStreamEvent, never dropped.
import type { Schema } from "effect"
import { event, type SessionEvent, type Tokens } from "./sessionEvents.ts"

export type ClaudeMessage = { readonly [k: string]: Schema.Json }

const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0)
const str = (v: unknown, fallback: string): string => (typeof v === "string" && v.length > 0 ? v : fallback)
const obj = (v: unknown): { readonly [k: string]: Schema.Json } =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as { [k: string]: Schema.Json }) : {}

export interface ResultFigures {
  readonly totalCostUsd: number
  readonly runCostUsd: number
  readonly usage: { readonly [k: string]: Schema.Json }
  readonly numTurns: number
  readonly durationMs: number
}

/**
 * Claude reports cost cumulatively over a resumed Claude session; a run's own share is
 * the difference from the previous result (or the whole figure when a new Claude session began).
 */
export const resultFigures = (message: ClaudeMessage, previousTotalCostUsd: number): ResultFigures => {
  const total = Math.max(0, num(message.total_cost_usd))
  return {
    totalCostUsd: total,
    runCostUsd: total >= previousTotalCostUsd ? total - previousTotalCostUsd : total,
    usage: obj(message.usage),
    numTurns: num(message.num_turns),
    durationMs: num(message.duration_ms)
  }
}

const count = (v: unknown): number => Math.min(Number.MAX_SAFE_INTEGER, Math.max(0, Math.trunc(num(v))))

/** The token counts in the SDK's usage record (a missing or odd count is 0). */
export const tokensOf = (usage: unknown): Tokens => {
  const u = obj(usage)
  return {
    input: count(u.input_tokens),
    output: count(u.output_tokens),
    cacheRead: count(u.cache_read_input_tokens),
    cacheCreation: count(u.cache_creation_input_tokens)
  }
}

export const isResultError = (message: ClaudeMessage): boolean =>
  message.is_error === true || (typeof message.subtype === "string" && message.subtype !== "success")

/**
 * The Claude session a message names, if any. Only an id that could be one (1 to 200
 * characters, as ClaudeSessionBound stores it) binds the session: a message with a
 * stranger session_id is still recorded, as it is, but names no session to resume.
 */
export const claudeSessionIdOf = (message: ClaudeMessage): string | undefined =>
  typeof message.session_id === "string" && message.session_id.length > 0 && message.session_id.length <= 200
    ? message.session_id
    : undefined

export const claudeMessageEvent = (runId: string, message: ClaudeMessage, previousTotalCostUsd: number): SessionEvent => {
  switch (message.type) {
    case "system":
      return event("ClaudeSystemEvent", { runId, subtype: str(message.subtype, "unknown"), message })
    case "assistant":
      return event("ClaudeAssistantMessage", { runId, message })
    case "user":
      return event("ClaudeUserMessage", { runId, message })
    case "result": {
      const { totalCostUsd, runCostUsd, usage, numTurns, durationMs } = resultFigures(message, previousTotalCostUsd)
      return event("ClaudeResult", {
        runId,
        subtype: str(message.subtype, "unknown"),
        isError: isResultError(message),
        totalCostUsd,
        runCostUsd,
        usage,
        tokens: tokensOf(usage),
        numTurns,
        durationMs,
        permissionDenials: Array.isArray(message.permission_denials) ? message.permission_denials : [],
        message
      })
    }
    default:
      return event("ClaudeStreamEvent", { runId, messageType: str(message.type, "unknown"), message })
  }
}
