// Reads a request body as JSON: the size limit is enforced while reading (a lying or
// missing Content-Length changes nothing), the media type must be JSON, and malformed
// JSON is a 400, and so is a body nested too deeply or with a `__proto__` key. Returns
// undefined when there is no body at all.
import { badRequest, malformedJson, payloadTooLarge, unsupportedMediaType } from "./problem.ts"

const jsonMediaType = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i

export const isJsonMediaType = (contentType: string | null | undefined): boolean =>
  contentType !== null && contentType !== undefined && jsonMediaType.test(contentType.trim())

/** The raw bytes of the body, refusing more than `limit` bytes as soon as they arrive. */
export const readLimited = async (request: Request, limit: number): Promise<Uint8Array> => {
  const declared = request.headers.get("content-length")
  if (declared !== null && /^\d+$/.test(declared) && Number(declared) > limit) throw payloadTooLarge(limit)
  if (request.body === null) return new Uint8Array(0)
  const reader = request.body.getReader()
  const chunks: Array<Uint8Array> = []
  let size = 0
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      size += value.byteLength
      if (size > limit) {
        await reader.cancel().catch(() => {})
        throw payloadTooLarge(limit)
      }
      chunks.push(value)
    }
  } finally {
    reader.releaseLock()
  }
  const out = new Uint8Array(size)
  let at = 0
  for (const c of chunks) {
    out.set(c, at)
    at += c.byteLength
  }
  return out
}

const decoder = new TextDecoder("utf-8", { fatal: true })

/** The JSON body, or undefined when the request has none. */
export const readJsonBody = async (request: Request, limit: number): Promise<unknown> => {
  const hasBody =
    request.body !== null &&
    (request.headers.has("transfer-encoding") || (request.headers.get("content-length") ?? "0") !== "0")
  if (!hasBody) return undefined
  if (!isJsonMediaType(request.headers.get("content-type"))) throw unsupportedMediaType("application/json")
  const bytes = await readLimited(request, limit)
  if (bytes.byteLength === 0) return undefined
  let text: string
  try {
    text = decoder.decode(bytes)
  } catch {
    throw malformedJson("the body is not valid UTF-8")
  }
  let json: unknown
  try {
    json = JSON.parse(text) as unknown
  } catch {
    throw malformedJson("the body is not valid JSON")
  }
  checkShape(json)
  return json
}

/** Deeper than this, a body is refused: no option or tool input needs it, and recursion over it (validation, serialisation) would run out of stack. */
export const maxJsonDepth = 64

/**
 * Refuses bodies nested deeper than maxJsonDepth and keys named `__proto__` (which code
 * further on may treat as the prototype rather than a key). Iterative, so a deep body
 * cannot overflow the stack here either.
 */
const checkShape = (json: unknown): void => {
  const pending: Array<[unknown, number]> = [[json, 1]]
  while (pending.length > 0) {
    const [value, depth] = pending.pop()!
    if (typeof value !== "object" || value === null) continue
    if (depth > maxJsonDepth) throw badRequest(`the body is nested deeper than ${maxJsonDepth} levels`)
    if (Array.isArray(value)) {
      for (const v of value) pending.push([v, depth + 1])
      continue
    }
    for (const key of Object.keys(value)) {
      if (key === "__proto__") throw badRequest("the body has a key named __proto__")
      pending.push([(value as Record<string, unknown>)[key], depth + 1])
    }
  }
}
