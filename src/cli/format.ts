// How sessions and events look on a terminal, one line each.
import type { Schemas } from "./client.ts"

export const pad = (s: string, n: number) => (s.length >= n ? s : s + " ".repeat(n - s.length))
export const oneLine = (s: string, max = 100) => {
  const flat = s.replace(/\s+/g, " ").trim()
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat
}
export const money = (usd: unknown) => (typeof usd === "number" ? `$${usd.toFixed(4)}` : "")

export type Json = { readonly [k: string]: unknown }
export const obj = (v: unknown): Json => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : {})
const arr = (v: unknown): ReadonlyArray<unknown> => (Array.isArray(v) ? v : [])
export const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0)
export const text = (v: unknown): string => (typeof v === "string" ? v : v === undefined || v === null ? "" : JSON.stringify(v))

/** The content blocks of a recorded Claude message (data.message is the SDK message). */
export const contentOf = (data: Json): ReadonlyArray<Json> => arr(obj(obj(data.message).message).content).map(obj)

export const toolUseLine = (block: Json) => `[${text(block.name)}] ${JSON.stringify(block.input)}`
export const toolResultLine = (block: Json) => `[result${block.is_error === true ? ", error" : ""}] ${text(block.content)}`

/** What a person wants to see of an event, on one line. */
export const summary = (e: Schemas["Event"]): string => {
  const d = e.data
  switch (e.type) {
    case "SessionLaunched":
    case "SessionForked":
    case "ContinueRequested":
      return oneLine(text(d.query))
    case "ClaudeAssistantMessage":
      return oneLine(
        contentOf(d)
          .map((c) => (c.type === "text" ? text(c.text) : c.type === "tool_use" ? toolUseLine(c) : `[${text(c.type)}]`))
          .join(" ")
      )
    case "ClaudeUserMessage":
      return oneLine(
        contentOf(d)
          .map((c) => (c.type === "tool_result" ? toolResultLine(c) : c.type === "text" ? text(c.text) : `[${text(c.type)}]`))
          .join(" ")
      )
    case "ClaudeResult":
      return `${text(d.subtype)}${d.isError === true ? " (error)" : ""}, ${text(d.numTurns)} turns, ${money(d.runCostUsd)}`
    case "ApprovalRequested":
      return `${text(d.toolName)} ${oneLine(JSON.stringify(d.input), 80)} (approval ${text(d.approvalId)})`
    case "ApprovalDecided":
      return `${text(d.decision)} by ${text(d.decidedBy)}${d.message ? `: ${oneLine(text(d.message), 80)}` : ""}`
    case "RunFailed":
      return oneLine(text(d.error), 300)
    case "RunCompleted":
      return `${text(d.numTurns)} turns, ${money(d.runCostUsd)}`
    case "SessionRenamed":
      return text(d.title)
    default:
      return ""
  }
}

export const eventLine = (e: Schemas["Event"]) => `${pad(String(e.revision), 5)} ${e.created.slice(11, 19)}  ${pad(e.type, 24)} ${summary(e)}`.trimEnd()

/** The 202 of a command, for a person: the session and the status it left. */
export const acceptedLine = (a: Schemas["CommandAccepted"]) =>
  `${a.sessionId}  ${a.status}${a.queuePosition !== undefined ? ` (queue position ${a.queuePosition})` : ""}`
