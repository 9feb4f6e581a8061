// Where a webhook may point: http(s) only, no credentials in the URL (it is recorded and
// shown), and plain http only to this machine unless the service allows it (a delivery
// carries the event's data: on the wire it should be encrypted).
import { isLoopback } from "../config.ts"

/** The URL, normalised, or why it is refused. */
export const checkWebhookUrl = (raw: string, allowHttp: boolean): { readonly url: string } | { readonly refused: string } => {
  let u: URL
  try {
    u = new URL(raw)
  } catch {
    return { refused: "is not an absolute URL" }
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") return { refused: `must be http or https, not ${u.protocol.slice(0, -1)}` }
  if (u.username !== "" || u.password !== "") return { refused: "must not carry credentials (the URL is recorded and shown; the secret signs each delivery)" }
  if (u.hash !== "") return { refused: "must not have a fragment" }
  const host = u.hostname.replace(/^\[(.*)\]$/, "$1")
  if (u.protocol === "http:" && !allowHttp && !isLoopback(host))
    return { refused: "plain http is only allowed to a loopback address (set AGENTLOG_WEBHOOK_ALLOW_HTTP=1 to allow it elsewhere)" }
  return { url: u.toString() }
}
