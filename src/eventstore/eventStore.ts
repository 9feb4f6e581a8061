// The EventStore port. Adapters (sqliteEventStore.ts, esdbEventStore.ts) implement it;
// nothing here knows about SQLite or gRPC. Every adapter passes test/contract.
import { Context, Data } from "effect"
import type { Effect, Stream } from "effect"

/**
 * A place in the global ($all) order. For the embedded store commit === prepare ===
 * the row's global sequence; for EventStoreDB they are the transaction-log offsets.
 * Outside the store it is an opaque cursor (see position.ts).
 */
export interface Position {
  readonly commit: bigint
  readonly prepare: bigint
}

/** What the caller believes the stream's last revision is. */
export type ExpectedRevision = "no_stream" | "any" | "exists" | bigint

/** An event to append. `id` is a UUID; appending the same id again is idempotent. */
export interface EventData {
  readonly id: string
  readonly type: string
  readonly data: unknown
  readonly metadata: unknown
}

export interface RecordedEvent {
  readonly _tag: "RecordedEvent"
  readonly stream: string
  /** 0-based position within its stream. */
  readonly revision: bigint
  readonly position: Position
  readonly id: string
  readonly type: string
  readonly data: unknown
  readonly metadata: unknown
  readonly created: Date
}

/**
 * A recorded event with its data and metadata as the JSON text the store holds, for
 * passing on without parsing (see EventStoreShape.readStreamJson).
 */
export interface RecordedEventJson {
  readonly _tag: "RecordedEventJson"
  readonly stream: string
  readonly revision: bigint
  readonly position: Position
  readonly id: string
  readonly type: string
  /** Exactly JSON.stringify(data) of the event readStream would return. */
  readonly dataJson: string
  /** Exactly JSON.stringify(metadata) of the event readStream would return. */
  readonly metadataJson: string
  readonly created: Date
}

/** The event readStream/readAll would have returned for `e`. */
export const parseRecordedJson = (e: RecordedEventJson): RecordedEvent => ({
  _tag: "RecordedEvent",
  stream: e.stream,
  revision: e.revision,
  position: e.position,
  id: e.id,
  type: e.type,
  data: JSON.parse(e.dataJson),
  metadata: JSON.parse(e.metadataJson),
  created: e.created
})

/** Marks the boundary between catch-up and live delivery in a subscription. */
export interface CaughtUp {
  readonly _tag: "CaughtUp"
  /** The last position delivered before going live, when known. */
  readonly position?: Position | undefined
}

export interface AppendResult {
  /** Revision of the last event now in the stream. */
  readonly nextRevision: bigint
  /** Position of the last appended event. */
  readonly position: Position
}

export interface ReadStreamOptions {
  readonly fromRevision?: bigint | "start" | "end"
  readonly direction?: "forwards" | "backwards"
  readonly maxCount?: number
}

export interface AllFilter {
  /** Keep events whose stream name starts with any of these. */
  readonly streamPrefix?: ReadonlyArray<string>
  /** Keep events whose type is one of these. */
  readonly eventTypes?: ReadonlyArray<string>
}

export interface ReadAllOptions {
  /** Inclusive: the event at this position, if any, is returned first. */
  readonly fromPosition?: Position | "start"
  readonly direction?: "forwards" | "backwards"
  readonly filter?: AllFilter
  readonly maxCount?: number
}

export interface SubscribeAllOptions {
  /** Exclusive: delivery starts after this position ("end": only events appended from now). */
  readonly from: Position | "start" | "end"
  readonly filter?: AllFilter
}

/**
 * Where a stream subscription starts, exclusive: after this revision ("start": from the
 * stream's first event; "end": only events appended from now).
 */
export type StreamSubscriptionStart = bigint | "start" | "end"

export class WrongExpectedVersion extends Data.TaggedError("WrongExpectedVersion")<{
  readonly stream: string
  readonly expected: ExpectedRevision
  /** The stream's actual last revision, or "no_stream". */
  readonly actual: bigint | "no_stream"
}> {
  override get message() {
    return `stream ${this.stream}: expected revision ${String(this.expected)}, actual ${String(this.actual)}`
  }
}

export class StreamNotFound extends Data.TaggedError("StreamNotFound")<{
  readonly stream: string
}> {
  override get message() {
    return `stream ${this.stream} not found`
  }
}

/** The store cannot be reached (connection dropped, server down). Retryable. */
export class EventStoreUnavailable extends Data.TaggedError("EventStoreUnavailable")<{
  readonly reason: string
}> {
  override get message() {
    return `event store unavailable: ${this.reason}`
  }
}

/** Anything else the store refused or failed at (bad input, corrupted file). */
export class EventStoreFailure extends Data.TaggedError("EventStoreFailure")<{
  readonly reason: string
}> {
  override get message() {
    return this.reason
  }
}

export type ReadError = StreamNotFound | EventStoreUnavailable | EventStoreFailure
export type AppendError = WrongExpectedVersion | EventStoreUnavailable | EventStoreFailure

export interface EventStoreShape {
  append(
    stream: string,
    events: ReadonlyArray<EventData>,
    expected: ExpectedRevision
  ): Effect.Effect<AppendResult, AppendError>
  readStream(stream: string, options?: ReadStreamOptions): Stream.Stream<RecordedEvent, ReadError>
  /**
   * readStream's events with data and metadata as JSON text, for callers that only write
   * them out again (NDJSON replays): an adapter that keeps the text passes it on unparsed.
   */
  readStreamJson(stream: string, options?: ReadStreamOptions): Stream.Stream<RecordedEventJson, ReadError>
  readAll(options?: ReadAllOptions): Stream.Stream<RecordedEvent, ReadError>
  /**
   * readAll's events as JSON text: for a caller that hands them to another thread (a
   * rebuild's worker), where text is cheap to copy and parsed objects are not.
   */
  readAllJson(options?: ReadAllOptions): Stream.Stream<RecordedEventJson, ReadError>
  subscribeAll(options: SubscribeAllOptions): Stream.Stream<RecordedEvent | CaughtUp, ReadError>
  /**
   * One stream's events after `from` (exclusive), one CaughtUp, then live events. A stream
   * that has no events yet is waited for: CaughtUp comes first, its events when they come.
   */
  subscribeStream(stream: string, from: StreamSubscriptionStart): Stream.Stream<RecordedEvent | CaughtUp, ReadError>
  /** The position of the newest event in the store (or null when empty). */
  headPosition(): Effect.Effect<Position | null, ReadError>
  /**
   * Releases the store. Afterwards every call fails with EventStoreFailure, and open
   * subscriptions end with it. Idempotent.
   */
  close(): Effect.Effect<void>
}

export class EventStore extends Context.Service<EventStore, EventStoreShape>()("agentlog/EventStore") {}
