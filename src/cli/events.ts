// A session's events as the CLI reads them: the recorded page (NDJSON) and the live
// Server-Sent Events, decoded with the API's own Event schema (the one the document
// describes), so a line that is not an event is an error here and not a guess.
import { Schema } from "effect"
import { Event } from "../http/responses.ts"
import { CliError, type Client, must, type Schemas } from "./client.ts"

const decodeEvent = Schema.decodeUnknownSync(Schema.fromJsonString(Event))

export const parseEvent = (json: string): Schemas["Event"] => {
  try {
    return decodeEvent(json)
  } catch (e) {
    throw new CliError(`the service sent something that is not an event: ${String(e).slice(0, 300)}`)
  }
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
      const data = block
        .split(/\r?\n/)
        .filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(5).replace(/^ /, ""))
      if (data.length > 0) yield data.join("\n")
    }
  }
}
