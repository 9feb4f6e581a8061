// What every adapter checks before an append reaches its store: the same refusals, worded
// the same way, whichever store is behind the port.
import type { EventData, ExpectedRevision } from "./eventStore.ts"
import { EventStoreFailure } from "./eventStore.ts"

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** An event ready to store: its id lower-cased, its data and metadata as JSON text. */
export interface CheckedEvent {
  readonly id: string
  readonly type: string
  readonly data: unknown
  readonly dataJson: string
  readonly metadataJson: string
}

export const checkAppend = (
  stream: string,
  events: ReadonlyArray<EventData>,
  expected: ExpectedRevision
): ReadonlyArray<CheckedEvent> | EventStoreFailure => {
  const invalid = (reason: string) => new EventStoreFailure({ reason: `append to ${stream}: ${reason}` })
  if (typeof stream !== "string" || stream.length === 0) return invalid("the stream name is empty")
  if (events.length === 0) return invalid("no events to append")
  if (typeof expected === "bigint" && expected < 0n) return invalid(`invalid expected revision ${expected}`)
  const ids = new Set<string>()
  const out: Array<CheckedEvent> = []
  for (const e of events) {
    if (typeof e.id !== "string" || !uuidPattern.test(e.id)) return invalid(`event id ${String(e.id)} is not a UUID`)
    const id = e.id.toLowerCase()
    if (ids.has(id)) return invalid(`event id ${id} appears twice in one append`)
    ids.add(id)
    if (typeof e.type !== "string" || e.type.length === 0) return invalid(`event ${id} has no type`)
    let dataJson: string | undefined
    let metadataJson: string | undefined
    try {
      dataJson = JSON.stringify(e.data)
      metadataJson = JSON.stringify(e.metadata ?? null)
    } catch (err) {
      return invalid(`event ${id} is not JSON-serializable (${err instanceof Error ? err.message : String(err)})`)
    }
    if (dataJson === undefined || metadataJson === undefined) return invalid(`event ${id} has no JSON data`)
    out.push({ id, type: e.type, data: e.data, dataJson, metadataJson })
  }
  return out
}
