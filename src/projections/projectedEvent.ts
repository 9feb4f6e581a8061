// What a projection handler sees: the recorded event decoded (and upcast) with the
// domain's schemas, once for every read model, with the facts every handler needs worked
// out once (session, run, time), and total accessors for the JSON inside Claude's
// messages. Nothing here throws on an odd shape, and nothing reads the clock: the time of
// an event is its metadata's recordedAt, else the store's created, so a rebuild writes
// the same bytes.
import { decodeStored, type DecodedEvent, upcastStored } from "../domain/storedEvents.ts"
import { sessionIdOf } from "../domain/streamName.ts"
import type { Position, RecordedEvent } from "../eventstore/eventStore.ts"
import { encodePosition } from "../eventstore/position.ts"

export type JsonObject = { readonly [k: string]: unknown }

export const obj = (v: unknown): JsonObject =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as JsonObject) : {}
export const arr = (v: unknown): ReadonlyArray<unknown> => (Array.isArray(v) ? v : [])
export const str = (v: unknown): string | null => (typeof v === "string" ? v : null)
export const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0)
/** 1/0 for a JSON boolean, null otherwise. */
export const bool = (v: unknown): 0 | 1 | null => (v === true ? 1 : v === false ? 0 : null)
/** JSON text of a value, or null when there is none. */
export const json = (v: unknown): string | null => {
  if (v === undefined) return null
  try {
    return JSON.stringify(v) ?? null
  } catch {
    return null
  }
}

// What toISOString writes, for a date that exists in every month: such a text is its own
// canonical form (every recordedAt agentlog writes), and parsing and printing it again was
// a twentieth of a rebuild.
const canonicalTime = /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$/

/** A time in one canonical, sortable form; null when `v` is not a usable time. */
export const isoTime = (v: unknown): string | null => {
  if (typeof v === "string" && canonicalTime.test(v)) return v
  if (typeof v !== "string" && !(v instanceof Date)) return null
  const d = v instanceof Date ? v : new Date(v)
  const t = d.getTime()
  // Years 0..9999 keep toISOString at its fixed 24-character, lexically sortable form.
  if (!Number.isFinite(t) || t < -62167219200000 || t > 253402300799999) return null
  return d.toISOString()
}

// A class, not an object literal with a getter: handlers read these fields for every
// event, and a literal with an accessor made every one of those reads slower.
export class ProjectedEvent {
  readonly recorded: RecordedEvent
  /** The session of a `session-<uuid>` stream; null for any other stream. */
  readonly sessionId: string | null
  readonly type: string
  /** The event's data upcast to the current version, when it is a JSON object; else {}. */
  readonly data: JsonObject
  readonly metadata: JsonObject
  /** data.runId, else metadata.runId. */
  readonly runId: string | null
  /** ISO 8601 (toISOString form), from metadata.recordedAt or else the store's created. */
  readonly at: string
  readonly revision: number
  readonly position: Position
  /** The position as the API's opaque cursor. */
  readonly positionText: string
  #decoded: DecodedEvent | undefined
  constructor(e: RecordedEvent) {
    const data = obj(upcastStored(e).data)
    const metadata = obj(e.metadata)
    this.recorded = e
    this.sessionId = sessionIdOf(e.stream)
    this.type = e.type
    this.data = data
    this.metadata = metadata
    this.runId = str(data.runId) ?? str(metadata.runId)
    this.at = isoTime(metadata.recordedAt) ?? isoTime(e.created) ?? "1970-01-01T00:00:00.000Z"
    this.revision = Number(e.revision)
    this.position = e.position
    this.positionText = encodePosition(e.position)
    this.#decoded = undefined
  }
  /**
   * The event through the one decode-and-upcast step (src/domain/storedEvents.ts),
   * decoded when a handler first asks: checking a Claude message against its schema
   * costs about twice its JSON.parse, and only the state machine's events need it.
   */
  get decoded(): DecodedEvent {
    return (this.#decoded ??= decodeStored(this.recorded))
  }
}

export const toProjected = (e: RecordedEvent): ProjectedEvent => new ProjectedEvent(e)
