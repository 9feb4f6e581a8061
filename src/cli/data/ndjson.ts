// The export file: one event per line, in the store's global order, with what makes the
// event itself (stream, revision, id, type, data, metadata) and when the store recorded it.
// data and metadata are the JSON text the store holds, so an import stores the same bytes.
import type { RecordedEventJson } from "../../eventstore/eventStore.ts"

export interface ExportedEvent {
  readonly stream: string
  readonly revision: bigint
  readonly id: string
  readonly type: string
  readonly created: string
  readonly data: unknown
  readonly metadata: unknown
  readonly dataJson: string
  readonly metadataJson: string
}

export const eventLine = (e: RecordedEventJson): string =>
  `{"stream":${JSON.stringify(e.stream)},"revision":${e.revision},"id":${JSON.stringify(e.id)},"type":${JSON.stringify(e.type)},` +
  `"created":${JSON.stringify(e.created.toISOString())},"data":${e.dataJson},"metadata":${e.metadataJson}}\n`

/** A line of an export file, or why it is not one. */
export const parseLine = (line: string): ExportedEvent | string => {
  let v: Record<string, unknown>
  try {
    v = JSON.parse(line) as Record<string, unknown>
  } catch (e) {
    return `not JSON (${e instanceof Error ? e.message : String(e)})`
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) return "not a JSON object"
  const { stream, revision, id, type, created, data, metadata } = v
  if (typeof stream !== "string" || stream === "") return "no stream"
  if (typeof revision !== "number" || !Number.isSafeInteger(revision) || revision < 0) return "no revision (a non-negative integer)"
  if (typeof id !== "string") return "no id"
  if (typeof type !== "string" || type === "") return "no type"
  if (!("data" in v)) return "no data"
  return {
    stream,
    revision: BigInt(revision),
    id,
    type,
    created: typeof created === "string" ? created : "",
    data,
    metadata: metadata ?? null,
    // Parsing and writing again gives back the text an export wrote: it was JSON.stringify's.
    dataJson: JSON.stringify(data),
    metadataJson: JSON.stringify(metadata ?? null)
  }
}
