// The first screen's reads, sent before the rest of the page's script is evaluated: boot.ts,
// the page's entry, starts them before it loads React and the screens (on a busy machine the
// bench's timeline showed that evaluation taking 150-450 ms, with the first request leaving
// only after it). The typed client (api.ts) takes each answer once,
// when it asks for the same URL; anything else goes to the network as usual.
import { tailStart } from "./sessionLoad.ts"

const started = new Map<string, Promise<Response>>()
const startedAt = performance.now()

const get = (path: string, accept = "application/json"): Promise<Response> => {
  const answer = fetch(path, { headers: { "X-Agentlog-Client": "web", Accept: accept }, credentials: "same-origin" })
  // Not taken (a login first, say): nobody waits for it, so a failure is nobody's to report.
  answer.catch(() => undefined)
  started.set(path, answer)
  return answer
}

/**
 * Asks for what the screen at `pathname` reads first: the URLs its queries make
 * (Sessions.tsx: pendingApprovalsQuery and sessionsQuery(firstFilters); live.ts:
 * sessionQuery and the first read of the events). A URL that no longer matches only loses the head start.
 */
export const startEarly = (pathname: string): { approvals: Promise<Response>; sessions?: Promise<Response> } => {
  const approvals = get("/v1/approvals?status=pending&limit=200")
  if (pathname === "/") return { approvals, sessions: get("/v1/sessions?archived=false&limit=100") }
  const opened = /^\/sessions\/([0-9a-f-]{36})$/.exec(pathname)?.[1]
  if (opened === undefined) return { approvals }
  // A session: its row, then the events of its tail (live.ts's first read) as soon as the
  // row says where the tail starts, without waiting for the page's first render.
  void get(`/v1/sessions/${opened}`)
    .then((r) => (r.ok ? r.clone().json() : undefined))
    .then((row: unknown) => {
      const revision = row !== null && typeof row === "object" && "revision" in row && typeof row.revision === "number" ? row.revision : undefined
      if (revision === undefined) return
      const from = tailStart(revision)
      get(`/v1/sessions/${opened}/events${from > 0 ? `?fromRevision=${from}` : ""}`, "application/x-ndjson")
    })
    .catch(() => undefined)
  return { approvals }
}

/** The answer already asked for this GET, once, while the page is starting. */
export const takeEarly = (request: Request): Promise<Response> | undefined => {
  if (request.method !== "GET" || started.size === 0) return undefined
  const url = new URL(request.url)
  const key = url.pathname + url.search
  const answer = started.get(key)
  started.delete(key)
  return performance.now() - startedAt < 10_000 ? answer : undefined
}
