// The one way stored events come back in: the write side's fold, the projections and the
// replay routes all read a stored event through here. Its data is brought from the
// version it was written at (metadata.schemaVersion; 1 when absent, as every event
// before versioning was) up to the current one, step by step, then decoded with the
// current schema. Adding a version: bump schemaVersions and add the step from the
// previous one below; nothing else reads old shapes.
import { Result, Schema } from "effect"
import { tokensOf } from "./claudeMessages.ts"
import { eventSchemas, type EventType, isEventType, schemaVersions, type SessionEvent } from "./sessionEvents.ts"

/** What the store hands back: the type, the data and the metadata as written. */
export interface StoredEvent {
  readonly type: string
  readonly data: unknown
  readonly metadata: unknown
}

export type DecodedEvent =
  | { readonly _tag: "Decoded"; readonly event: SessionEvent; readonly storedVersion: number }
  /** A type this agentlog does not know (written by a newer one): readers skip it. */
  | { readonly _tag: "UnknownType"; readonly type: string }
  /** A known type whose data fails its schema, even after upcasting, or a version from the future. */
  | { readonly _tag: "Undecodable"; readonly type: EventType; readonly issue: string }

type JsonObject = { readonly [k: string]: unknown }
const objectOf = (v: unknown): JsonObject =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as JsonObject) : {}

/** upcasters[type][n] turns version n's data into version n + 1's. */
const upcasters: { readonly [K in EventType]?: { readonly [from: number]: (data: JsonObject) => JsonObject } } = {
  ClaudeResult: {
    1: (d) => ({ ...d, tokens: tokensOf(d.usage) })
  }
}

/** The version an event was written at. */
export const storedVersion = (metadata: unknown): number => {
  const v = objectOf(metadata).schemaVersion
  return typeof v === "number" && Number.isInteger(v) && v >= 1 ? v : 1
}

const upcastData = (type: EventType, from: number, data: unknown): unknown => {
  let d = data
  for (let v = from; v < schemaVersions[type]; v++) {
    const step = upcasters[type]?.[v]
    if (step !== undefined) d = step(objectOf(d))
  }
  return d
}

// Stored data passed its schema when it was appended: the first issue is enough, and
// fields a later version dropped are ignored rather than refused. No schema of the catalog
// transforms (what is stored is what the type is: the unit tests hold every type to it),
// so a value that already is the type needs no decoding: the guard costs half a decode,
// and the decoder runs only to say what is wrong.
const options = { errors: "first", onExcessProperty: "ignore" } as const
const guards = Object.fromEntries(
  Object.entries(eventSchemas).map(([t, s]) => [t, Schema.is(s as Schema.Codec<unknown>) as (u: unknown) => boolean])
) as unknown as Record<EventType, (u: unknown) => boolean>
const decoders = Object.fromEntries(
  Object.entries(eventSchemas).map(([t, s]) => [t, Schema.decodeUnknownResult(s as Schema.Codec<unknown>, options)])
) as Record<EventType, (u: unknown) => Result.Result<unknown, Schema.SchemaError>>

export const decodeStored = (e: StoredEvent): DecodedEvent => {
  const type = e.type
  if (!isEventType(type)) return { _tag: "UnknownType", type }
  const version = storedVersion(e.metadata)
  if (version > schemaVersions[type])
    return { _tag: "Undecodable", type, issue: `schema version ${version} is newer than this agentlog's ${schemaVersions[type]}` }
  const data = upcastData(type, version, e.data)
  if (guards[type](data)) return { _tag: "Decoded", event: { type, data } as SessionEvent, storedVersion: version }
  const r = decoders[type](data)
  return Result.isSuccess(r)
    ? { _tag: "Decoded", event: { type, data: r.success } as SessionEvent, storedVersion: version }
    : { _tag: "Undecodable", type, issue: r.failure.message }
}

/**
 * The stored event with its data at the current version and its metadata saying so, for
 * readers that pass events on (the replay routes): an event of another type or version
 * comes back as it was. Upcasting without decoding: a replay shows what is stored.
 */
export const upcastStored = <E extends StoredEvent>(e: E): E => {
  if (!isEventType(e.type) || schemaVersions[e.type] === 1) return e
  const version = storedVersion(e.metadata)
  if (version >= schemaVersions[e.type]) return e
  return {
    ...e,
    data: upcastData(e.type, version, e.data),
    metadata: { ...objectOf(e.metadata), schemaVersion: schemaVersions[e.type] }
  }
}

/** True when readers would see a stored event of this type and version differently from how it is stored. */
export const needsUpcast = (type: string, metadata: unknown): boolean =>
  isEventType(type) && storedVersion(metadata) < schemaVersions[type]

/**
 * upcastStored for an event still as the store's JSON text: text of a current version
 * goes out untouched (only types that have had a version 2 are even looked at).
 */
export const upcastStoredJson = <E extends { readonly type: string; readonly dataJson: string; readonly metadataJson: string }>(
  e: E
): E => {
  if (!isEventType(e.type) || schemaVersions[e.type] === 1) return e
  const metadata: unknown = JSON.parse(e.metadataJson)
  if (storedVersion(metadata) >= schemaVersions[e.type]) return e
  const u = upcastStored({ type: e.type, data: JSON.parse(e.dataJson) as unknown, metadata })
  return { ...e, dataJson: JSON.stringify(u.data), metadataJson: JSON.stringify(u.metadata) }
}
