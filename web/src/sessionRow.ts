// What a row of the session list and of "Needs you" says, shared by the React screen
// (screens/Sessions.tsx) and the first screen drawn before React is loaded (firstScreen.ts),
// so both draw the same words. No React here.
import type { SessionRow, SessionStatus } from "./api.ts"
import { duration } from "./format.ts"

export const statuses: ReadonlyArray<SessionStatus> = ["draft", "queued", "running", "waiting_approval", "completed", "failed", "interrupted", "abandoned", "discarded"]

/** The list's row height (the virtualizer's size; the rows are drawn at it). */
export const rowHeight = 34

/** Where a session opens: a draft (or a discarded one) in the form that edits and launches it. */
export const sessionPath = (s: { sessionId: string; status: string }): string =>
  s.status === "draft" || s.status === "discarded" ? `/new?draft=${s.sessionId}` : `/sessions/${s.sessionId}`

export const statusLabel = (status: string): string => status.replace("_", " ")

export const rowTitle = (s: SessionRow): string => s.title ?? (s.query.slice(0, 80) || "(no prompt yet)")

/** How long an approval has waited, and how long it has left. */
export const waitingText = (requestedAt: string, expiresAt: string | null, now: number): string => {
  const left = expiresAt ? Date.parse(expiresAt) - now : undefined
  return `waiting ${duration(now - Date.parse(requestedAt))}${left === undefined ? "" : ` · ${left > 0 ? `expires in ${duration(left)}` : "expiring"}`}`
}
