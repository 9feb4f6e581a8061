// Idempotency-Key for launch, continue and fork: the key's syntax, the fingerprint of a
// request, and the ids derived from a key. There is no table of keys: the ids of what a
// keyed request creates derive from the key, so the store itself refuses to create it
// twice, and the first answer is read back from the event that created it (see
// sessionRoutes.ts).
import { createHash } from "node:crypto"
import { badRequest } from "./problem.ts"

/** A key is 1..255 visible ASCII characters. */
export const parseIdempotencyKey = (header: string | undefined): string | undefined => {
  if (header === undefined) return undefined
  if (!/^[\x21-\x7e]{1,255}$/.test(header)) throw badRequest("Idempotency-Key must be 1 to 255 visible ASCII characters")
  return header
}

/** JSON with object keys sorted, so the same body written differently has one fingerprint. */
const canonical = (v: unknown): string => {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`
  if (typeof v === "object" && v !== null)
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(",")}}`
  return JSON.stringify(v) ?? "null"
}

export const fingerprintOf = (method: string, pathname: string, body: unknown): string =>
  createHash("sha256").update(`${method} ${pathname}\n${canonical(body)}`).digest("hex")

/** A UUID (v5 layout) derived from the key and a purpose: the same key always names the same ids. */
export const derivedUuid = (...parts: ReadonlyArray<string>): string => {
  const h = createHash("sha256").update(["agentlog-idempotency", ...parts].join("\u0000")).digest()
  h[6] = (h[6]! & 0x0f) | 0x50
  h[8] = (h[8]! & 0x3f) | 0x80
  const x = h.subarray(0, 16).toString("hex")
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`
}
