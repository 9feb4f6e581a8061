// How a delivery is signed: HMAC-SHA256 with the subscription's secret over
// `<timestamp>.<body>`, sent as `X-Agentlog-Signature: sha256=<hex>` beside
// `X-Agentlog-Timestamp: <unix seconds>`. The timestamp inside the MAC lets a receiver
// refuse an old delivery replayed at it; the event id (`X-Agentlog-Event-Id`) lets it
// drop a repeat of one it has already handled.
import { createHmac, timingSafeEqual } from "node:crypto"

export const signatureHeader = "x-agentlog-signature"
export const timestampHeader = "x-agentlog-timestamp"
export const eventIdHeader = "x-agentlog-event-id"
export const webhookIdHeader = "x-agentlog-webhook-id"

export const sign = (secret: string, timestamp: number, body: string): string =>
  `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`

/** What a receiver checks: the MAC, and that the timestamp is within `toleranceS` of now. */
export const verify = (
  secret: string,
  headers: { readonly signature: string | undefined; readonly timestamp: string | undefined },
  body: string,
  nowS: number,
  toleranceS = 300
): boolean => {
  const ts = Number(headers.timestamp)
  if (!Number.isInteger(ts) || Math.abs(nowS - ts) > toleranceS || headers.signature === undefined) return false
  const expected = Buffer.from(sign(secret, ts, body))
  const given = Buffer.from(headers.signature)
  return given.length === expected.length && timingSafeEqual(given, expected)
}
