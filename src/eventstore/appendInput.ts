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

/**
 * The largest event and the largest append a store takes. KurrentDB 25.1's defaults
 * (MaxAppendEventSize 16 MiB, MaxAppendSize 256 MiB): the embedded store keeps the same
 * limits, so a Claude message too large for one store is too large for the other, and the
 * run ends the same way wherever it is recorded.
 */
export interface StoreLimits {
  readonly maxEventBytes: number
  readonly maxAppendBytes: number
}

export const defaultStoreLimits: StoreLimits = { maxEventBytes: 16 * 1024 * 1024, maxAppendBytes: 256 * 1024 * 1024 }

/**
 * An event's size as KurrentDB counts it against its limits (Event.SizeOnDisk): data and
 * metadata bytes and the type at two bytes per UTF-16 unit.
 */
export const eventSize = (e: { readonly type: string; readonly dataJson: string; readonly metadataJson: string }) =>
  Buffer.byteLength(e.dataJson) + Buffer.byteLength(e.metadataJson) + e.type.length * 2

/** The refusal of an append over `limits`, worded as the esdb adapter words the server's. */
export const checkLimits = (
  stream: string,
  checked: ReadonlyArray<CheckedEvent>,
  limits: StoreLimits
): EventStoreFailure | undefined => {
  let total = 0
  for (const e of checked) {
    const size = eventSize(e)
    if (size > limits.maxEventBytes) {
      return new EventStoreFailure({
        reason: `append to ${stream}: event ${e.id} (${size} bytes) exceeds the store's maximum event size of ${limits.maxEventBytes} bytes`
      })
    }
    total += size
  }
  return total > limits.maxAppendBytes
    ? new EventStoreFailure({ reason: `append to ${stream}: maximum append size of ${limits.maxAppendBytes} bytes exceeded` })
    : undefined
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
