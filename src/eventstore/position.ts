// Positions travel through the API as opaque cursors; inside they are compared as numbers.
import type { Position } from "./eventStore.ts"

export const startPosition: Position = { commit: 0n, prepare: 0n }

export const comparePositions = (a: Position, b: Position): -1 | 0 | 1 =>
  a.commit < b.commit ? -1 : a.commit > b.commit ? 1 : a.prepare < b.prepare ? -1 : a.prepare > b.prepare ? 1 : 0

/** "<commit>-<prepare>"; the embedded store writes just "<n>" when both are equal. */
export const encodePosition = (p: Position): string =>
  p.commit === p.prepare ? `${p.commit}` : `${p.commit}-${p.prepare}`

const cursorPattern = /^(\d{1,20})(?:-(\d{1,20}))?$/

/** Both stores keep positions as signed 64-bit integers (SQLite INTEGER, the server's long). */
const maxPosition = 2n ** 63n - 1n

/** Parses a cursor from a client; null when it is not one we could have issued. */
export const decodePosition = (s: string): Position | null => {
  const m = cursorPattern.exec(s)
  if (!m) return null
  const commit = BigInt(m[1]!)
  const prepare = m[2] === undefined ? commit : BigInt(m[2])
  if (commit > maxPosition || prepare > maxPosition) return null
  return { commit, prepare }
}
