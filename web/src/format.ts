// How numbers and times read on the page. No React here: the first screen's drawing
// (firstScreen.ts) uses these before React is loaded.

export const ago = (iso: string | null | undefined, now = Date.now()): string => {
  if (!iso) return ""
  const s = Math.round((now - Date.parse(iso)) / 1000)
  return s < 5 ? "now" : `${duration(s * 1000)} ago`
}

export const duration = (ms: number): string => {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m${String(s % 60).padStart(2, "0")}s`
  const h = Math.floor(m / 60)
  if (h < 48) return `${h}h${String(m % 60).padStart(2, "0")}m`
  return `${Math.floor(h / 24)}d`
}

/** A cost; the API writes a non-finite number as a string ("Infinity"), shown as it is. */
export const usd = (n: number | string): string => (typeof n === "string" ? n : n === 0 ? "$0" : n < 0.01 ? `$${n.toFixed(4)}` : `$${n.toFixed(2)}`)

export const tokens = (n: number): string => (n < 1000 ? String(n) : n < 1e6 ? `${(n / 1000).toFixed(1)}k` : `${(n / 1e6).toFixed(1)}M`)

export const shortId = (id: string): string => id.slice(0, 8)

export const pretty = (v: unknown): string => {
  try {
    return JSON.stringify(v, null, 2) ?? String(v)
  } catch {
    return String(v)
  }
}

/** One line saying what a tool call does: the command, the path, or the input. */
export const toolSummary = (_toolName: string, input: unknown): string => {
  const i = (input ?? {}) as Record<string, unknown>
  const pick = (k: string) => (typeof i[k] === "string" ? (i[k] as string) : undefined)
  const s = pick("command") ?? pick("file_path") ?? pick("path") ?? pick("pattern") ?? pick("url") ?? pick("description") ?? pick("prompt")
  if (s === undefined) return JSON.stringify(input ?? null).slice(0, 160)
  // The first line, without splitting a long input (a file's content) into all of its lines.
  const end = s.indexOf("\n")
  return s.slice(0, end === -1 ? 160 : Math.min(end, 160))
}
