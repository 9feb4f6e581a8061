// What a projection handler sees: the recorded event decoded (and upcast) with the
// domain's schemas, once for every read model, with the facts every handler needs worked
// out once (session, run, time), and total accessors for the JSON inside Claude's
// messages. Nothing here throws on an odd shape, and nothing reads the clock: the time of
// an event is its metadata's recordedAt, else the store's created, so a rebuild writes
// the same bytes.
import type { SessionEvent } from "../domain/sessionEvents.ts"
import { decodeStored, type DecodedEvent } from "../domain/storedEvents.ts"
import { sessionIdOf } from "../domain/streamName.ts"
import type { Position, RecordedEvent } from "../eventstore/eventStore.ts"
import { encodePosition } from "../eventstore/position.ts"

export type JsonObject = { readonly [k: string]: unknown }

export interface ProjectedEvent {
  readonly recorded: RecordedEvent
  /** The session of a `session-<uuid>` stream; null for any other stream. */
  readonly sessionId: string | null
  readonly type: string
  /** The event through the one decode-and-upcast step (src/domain/storedEvents.ts). */
  readonly decoded: DecodedEvent
  /** The decoded event; null when its type is unknown or its data fails its schema. */
  readonly event: SessionEvent | null
  /** The decoded event's data (at the current version); for an event that did not decode, its stored data when that is a JSON object, else {}. */
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
}

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

/** A time in one canonical, sortable form; null when `v` is not a usable time. */
export const isoTime = (v: unknown): string | null => {
  if (typeof v !== "string" && !(v instanceof Date)) return null
  const d = v instanceof Date ? v : new Date(v)
  const t = d.getTime()
  // Years 0..9999 keep toISOString at its fixed 24-character, lexically sortable form.
  if (!Number.isFinite(t) || t < -62167219200000 || t > 253402300799999) return null
  return d.toISOString()
}

export const toProjected = (e: RecordedEvent): ProjectedEvent => {
  const decoded = decodeStored(e)
  const event = decoded._tag === "Decoded" ? decoded.event : null
  const data = event !== null ? (event.data as JsonObject) : obj(e.data)
  const metadata = obj(e.metadata)
  return {
    recorded: e,
    sessionId: sessionIdOf(e.stream),
    type: e.type,
    decoded,
    event,
    data,
    metadata,
    runId: str(data.runId) ?? str(metadata.runId),
    at: isoTime(metadata.recordedAt) ?? isoTime(e.created) ?? "1970-01-01T00:00:00.000Z",
    revision: Number(e.revision),
    position: e.position,
    positionText: encodePosition(e.position)
  }
}

/** Milliseconds from one ISO time to another (null when either is missing). */
export const msBetween = (from: string | null, to: string | null): number | null =>
  from === null || to === null ? null : Date.parse(to) - Date.parse(from)
