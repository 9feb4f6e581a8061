// One JSON line per fact, on stderr, so a person can tail it and a machine can parse it.
export type LogLevel = "debug" | "info" | "warn" | "error"

export interface Logger {
  readonly log: (level: LogLevel, msg: string, fields?: Record<string, unknown>) => void
}

const order: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 }

const replacer = (_k: string, v: unknown) => (typeof v === "bigint" ? v.toString() : v)

export const makeLogger = (
  minLevel: LogLevel = "info",
  write: (line: string) => void = (line) => process.stderr.write(line + "\n")
): Logger => ({
  log: (level, msg, fields) => {
    if (order[level] < order[minLevel]) return
    write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }, replacer))
  }
})

export const silentLogger: Logger = { log: () => {} }

/** The message of something thrown or failed with: an Error, a tagged error, anything else. */
export const errorText = (e: unknown): string =>
  e instanceof Error ? e.message : typeof e === "object" && e !== null && "message" in e ? String(e.message) : String(e)
