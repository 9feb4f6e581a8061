// One JSON line per fact, on stderr, so a person can tail it and a machine can parse it.
import { controlChars } from "./domain/controlChars.ts"

export type LogLevel = "debug" | "info" | "warn" | "error"

export interface Logger {
  readonly log: (level: LogLevel, msg: string, fields?: Record<string, unknown>) => void
}

const order: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 }

const replacer = (_k: string, v: unknown) => (typeof v === "bigint" ? v.toString() : v)

// JSON.stringify escapes only C0: what reaches a log line from outside (a request path, a
// title) must not move a terminal's cursor, break a line for a JS reader, or reorder text.
const unsafe = new RegExp(`[${controlChars}]`, "gu")
const escapeControls = (line: string) =>
  line.replace(unsafe, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)

export const makeLogger = (
  minLevel: LogLevel = "info",
  write: (line: string) => void = (line) => process.stderr.write(line + "\n")
): Logger => ({
  log: (level, msg, fields) => {
    if (order[level] < order[minLevel]) return
    write(escapeControls(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }, replacer)))
  }
})

export const silentLogger: Logger = { log: () => {} }

/** The message of something thrown or failed with: an Error, a tagged error, anything else. */
export const errorText = (e: unknown): string =>
  e instanceof Error ? e.message : typeof e === "object" && e !== null && "message" in e ? String(e.message) : String(e)
