// The whole flow, as a team integrating agentlog would write it: a client generated from
// the served OpenAPI document (openapi-typescript + openapi-fetch), strict TypeScript, no
// casts. generatedClient.test.ts type-checks this file against freshly generated types
// and runs it against a real service.
import createClient from "openapi-fetch"
import type { components, paths } from "../../src/http/api.generated.ts"

type Session = components["schemas"]["Session"]
type Event = components["schemas"]["Event"]
type TranscriptEntry = components["schemas"]["TranscriptEntry"]

export interface FlowReport {
  readonly sessionId: string
  readonly transcriptPages: number
  readonly entries: ReadonlyArray<TranscriptEntry>
  readonly events: ReadonlyArray<Event>
  readonly ndjson: ReadonlyArray<Event>
  readonly continued: Session
  readonly fork: Session
  readonly interrupted: Session
  readonly archived: Session
}

export interface FlowSetup {
  readonly baseUrl: string
  /** An existing directory for the sessions to work in. */
  readonly cwd: string
  /** A file the first session's Write tool call writes (its input is changed by the decision). */
  readonly target: string
  /** Resolves once the interrupted session's model has started answering. */
  readonly interruptible: () => Promise<void>
  /** The fetch the client uses (the test's checks every answer against the document). */
  readonly fetch?: (request: Request) => Promise<Response>
}

const ended: ReadonlyArray<Session["status"]> = ["completed", "failed", "interrupted", "abandoned"]

export const runFlow = async (setup: FlowSetup): Promise<FlowReport> => {
  // The JSON representations (answers and problems): the events page is then one type, its
  // NDJSON form is asked for explicitly below.
  const client = createClient<paths, "application/json" | "application/problem+json">({
    baseUrl: setup.baseUrl,
    ...(setup.fetch ? { fetch: setup.fetch } : {})
  })

  const poll = async <A>(what: string, probe: () => Promise<A | undefined>): Promise<A> => {
    for (let i = 0; i < 1_500; i++) {
      const found = await probe()
      if (found !== undefined) return found
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    throw new Error(`gave up waiting for ${what}`)
  }
  const session = async (id: string): Promise<Session> => {
    const { data, error } = await client.GET("/v1/sessions/{id}", { params: { path: { id } } })
    if (data === undefined) throw new Error(`GET session: ${error?.detail}`)
    return data
  }
  const waitUntil = (id: string, statuses: ReadonlyArray<Session["status"]>) =>
    poll(`${id} to be ${statuses.join("/")}`, async () => {
      const s = await session(id)
      return statuses.includes(s.status) ? s : undefined
    })

  // Launch, idempotently.
  const launched = await client.POST("/v1/sessions", {
    body: { query: "please write the file", cwd: setup.cwd, title: "typed flow", maxTurns: 5 },
    headers: { "Idempotency-Key": "typed-flow-launch" }
  })
  if (launched.data === undefined) throw new Error(`launch: ${launched.error?.detail}`)
  const sessionId = launched.data.sessionId

  // The approval, decided with a changed input.
  const approval = await poll("a pending approval", async () => {
    const { data } = await client.GET("/v1/approvals", { params: { query: { status: "pending", session: sessionId, limit: 10 } } })
    return data?.items[0]
  })
  const decided = await client.POST("/v1/approvals/{id}/decision", {
    params: { path: { id: approval.approvalId } },
    body: { decision: "allow", message: "with other content", updatedInput: { file_path: setup.target, content: "decided" } }
  })
  if (decided.data === undefined) throw new Error(`decision: ${decided.error?.detail}`)
  const done = await waitUntil(sessionId, ended)

  // The transcript, two entries a page.
  const entries: Array<TranscriptEntry> = []
  let afterSeq: number | undefined
  let transcriptPages = 0
  for (;;) {
    const { data, error } = await client.GET("/v1/sessions/{id}/transcript", {
      params: { path: { id: sessionId }, query: { limit: 2, minPosition: done.lastPosition, ...(afterSeq !== undefined ? { afterSeq } : {}) } }
    })
    if (data === undefined) throw new Error(`transcript: ${error?.detail}`)
    transcriptPages++
    entries.push(...data.entries)
    if (data.nextAfterSeq === null) break
    afterSeq = data.nextAfterSeq
  }

  // The events: JSON pages, then all of them as NDJSON.
  const events: Array<Event> = []
  const eventsPage = (fromRevision: number) =>
    client.GET("/v1/sessions/{id}/events", { params: { path: { id: sessionId }, query: { fromRevision, limit: 5 } } })
  let fromRevision: number | null = 0
  while (fromRevision !== null) {
    const { data, error } = await eventsPage(fromRevision)
    if (data === undefined) throw new Error(`events: ${error?.detail}`)
    events.push(...data.items)
    fromRevision = data.nextRevision
  }
  const nd = await client.GET("/v1/sessions/{id}/events", {
    params: { path: { id: sessionId } },
    headers: { Accept: "application/x-ndjson" },
    parseAs: "text"
  })
  if (nd.data === undefined) throw new Error("events as NDJSON")
  const ndjson = nd.data
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line): Event => JSON.parse(line))

  // Continue where it stands (If-Match), then fork it.
  const current = await client.GET("/v1/sessions/{id}", { params: { path: { id: sessionId } } })
  const etag = current.response.headers.get("ETag")
  if (etag === null) throw new Error("no ETag")
  const cont = await client.POST("/v1/sessions/{id}/continue", {
    params: { path: { id: sessionId } },
    body: { query: "and once more" },
    headers: { "If-Match": etag }
  })
  if (cont.data === undefined) throw new Error(`continue: ${cont.error?.detail}`)
  const continued = await waitUntil(sessionId, ended)
  const forked = await client.POST("/v1/sessions/{id}/fork", { params: { path: { id: sessionId } }, body: { query: "what if?" } })
  if (forked.data === undefined) throw new Error(`fork: ${forked.error?.detail}`)
  const fork = await waitUntil(forked.data.sessionId, ended)

  // Interrupt a session while its model answers.
  const slow = await client.POST("/v1/sessions", { body: { query: "take your time", cwd: setup.cwd } })
  if (slow.data === undefined) throw new Error(`launch: ${slow.error?.detail}`)
  await setup.interruptible()
  await waitUntil(slow.data.sessionId, ["running"])
  const stop = await client.POST("/v1/sessions/{id}/interrupt", { params: { path: { id: slow.data.sessionId } } })
  if (stop.data === undefined) throw new Error(`interrupt: ${stop.error?.detail}`)
  const interrupted = await waitUntil(slow.data.sessionId, ended)

  // Archive and rename the first one.
  const archive = await client.POST("/v1/sessions/{id}/archive", { params: { path: { id: sessionId } } })
  if (archive.data === undefined) throw new Error(`archive: ${archive.error?.detail}`)
  const rename = await client.PATCH("/v1/sessions/{id}", { params: { path: { id: sessionId } }, body: { title: "typed flow, archived" } })
  if (rename.data === undefined || rename.data.position === null) throw new Error(`rename: ${rename.error?.detail}`)
  const archived = await client.GET("/v1/sessions/{id}", {
    params: { path: { id: sessionId }, query: { minPosition: rename.data.position } }
  })
  if (archived.data === undefined) throw new Error(`archived: ${archived.error?.detail}`)

  return { sessionId, transcriptPages, entries, events, ndjson, continued, fork, interrupted, archived: archived.data }
}
