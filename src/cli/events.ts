// A session's events as the CLI reads them: the recorded page (NDJSON) and the live
// Server-Sent Events, each line checked to be an Event as the document describes it, so a
// line that is not one is an error here and not a guess. (A check of the fields rather than
// the API's Effect schema: loading Effect would cost every command a second at start.)
import { CliError, type Client, must, type Schemas } from "./client.ts"

const isObject = (v: unknown): v is { readonly [k: string]: unknown } => typeof v === "object" && v !== null && !Array.isArray(v)

const isEvent = (v: unknown): v is Schemas["Event"] =>
  isObject(v) &&
  typeof v.stream === "string" &&
  (v.sessionId === null || typeof v.sessionId === "string") &&
  Number.isInteger(v.revision) &&
  typeof v.position === "string" &&
  typeof v.id === "string" &&
  typeof v.type === "string" &&
  isObject(v.data) &&
  isObject(v.metadata) &&
  typeof v.created === "string"

export const parseEvent = (json: string): Schemas["Event"] => {
  let value: unknown
  try {
    value = JSON.parse(json)
  } catch {}
  if (!isEvent(value)) throw new CliError(`the service sent something that is not an event: ${json.slice(0, 300)}`)
  return value
}

const streamOf = (body: ReadableStream<Uint8Array> | null): ReadableStream<Uint8Array> => {
  if (body === null) throw new CliError("the service answered without a body")
  return body
}

/** Every event of the session from `fromRevision`, as recorded. */
export async function* recordedEvents(client: Client, id: string, fromRevision: number): AsyncGenerator<Schemas["Event"]> {
  const body = await must(
    client.api.GET("/v1/sessions/{id}/events", {
      params: { path: { id }, query: { fromRevision } },
      headers: { accept: "application/x-ndjson" },
      parseAs: "stream"
    })
  )
  let buffer = ""
  const decoder = new TextDecoder()
  for await (const chunk of streamOf(body)) {
    buffer += decoder.decode(chunk, { stream: true })
    const lines = buffer.split("\n")
    buffer = lines.pop() ?? ""
    for (const l of lines) if (l.trim() !== "") yield parseEvent(l)
  }
  if (buffer.trim() !== "") yield parseEvent(buffer)
}

/** The session's events as they are recorded, after revision `after` (-1: from the start). */
export async function* liveEvents(client: Client, id: string, after: number, signal?: AbortSignal): AsyncGenerator<Schemas["Event"]> {
  const body = await must(
    client.api.GET("/v1/sessions/{id}/events/live", {
      params: { path: { id }, ...(after >= 0 ? { header: { "Last-Event-ID": after } } : {}) },
      headers: { accept: "text/event-stream" },
      parseAs: "stream",
      ...(signal ? { signal } : {})
    })
  )
  for await (const f of sseFrames(streamOf(body))) yield parseEvent(f)
}

const pause = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener("abort", done)
      resolve()
    }
    signal?.addEventListener("abort", done, { once: true })
  })

/**
 * The session's events after revision `after`, live and without end: a dropped connection
 * (a restart of the service) is resumed with Last-Event-ID, so nothing is missed or seen
 * twice. A refusal (404, 409, …) ends it with that error, since retrying will not change
 * it; an unreachable service is retried, backing off to 5 s. Ends when `signal` aborts.
 */
export async function* followEvents(client: Client, id: string, after: number, signal?: AbortSignal): AsyncGenerator<Schemas["Event"]> {
  let last = after
  let waited = 0
  while (!signal?.aborted) {
    try {
      for await (const e of liveEvents(client, id, last, signal)) {
        waited = 0
        last = e.revision
        yield e
      }
    } catch (e) {
      if (signal?.aborted) return
      if (e instanceof CliError && !e.message.startsWith("cannot reach")) throw e
    }
    waited = Math.min(5_000, waited * 2 || 100)
    await pause(waited, signal)
  }
}

/** The data of each text/event-stream frame, as frames arrive. */
async function* sseFrames(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder()
  let buffer = ""
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true })
    let end: number
    while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const block = buffer.slice(0, end)
      buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, "")
      const lines = block.split(/\r?\n/)
      // A frame without an id is a live notice (workspace-changed), not a recorded event.
      if (!lines.some((l) => l.startsWith("id:"))) continue
      const data = lines
        .filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(5).replace(/^ /, ""))
      if (data.length > 0) yield data.join("\n")
    }
  }
}
