// Conditional requests: If-Match on commands (the session's revision as a strong ETag),
// and the ETag a read hands out.
import { badRequest } from "./problem.ts"

/** `"<revision>"`: the ETag of a session at a revision of its stream. */
export const etagOf = (revision: bigint | number): string => `"${revision}"`

/**
 * The revision an If-Match header names: undefined when absent or `*`. Only one strong
 * ETag is accepted: a list or a weak validator cannot name one revision to append after.
 */
export const parseIfMatch = (header: string | null | undefined): bigint | undefined => {
  if (header === null || header === undefined) return undefined
  const v = header.trim()
  if (v === "*") return undefined
  const m = /^"(0|[1-9][0-9]{0,18})"$/.exec(v)
  if (!m) throw badRequest('If-Match must be one strong ETag of the form "<revision>"')
  return BigInt(m[1]!)
}
