// The EventStoreDB / KurrentDB adapter, on @eventstore/db-client 6.2.1, chosen by an
// `esdb://` (or `esdb+discover://`) connection string.
//
// What the client does, and what this file does about it (read from the client's dist/):
// - Appends go through BatchAppend when the server lists it in ServerFeatures (21.10+),
//   else through Append. BatchAppend has no client-side deadline (only one sent to the
//   server), so every append here is bounded by the connection's `defaultDeadline` (plus a
//   margin) and then fails with EventStoreUnavailable.
// - An idempotent append (same ids, same expected revision) is answered with the original
//   write's revision and position (servers 23.10+); an older server answers without a
//   position, and the position of the event at the returned revision is read from the
//   stream. agentlog's appends carry exact expected revisions: with `any` the server
//   recognises a retry only while its ids are in a bounded cache of recent ids.
// - Positions: each event's own log offset (commit = prepare on 25.1). An event that comes
//   without one is refused (EventStoreFailure), never given a made-up position.
// - An event over the server's MaxAppendEventSize (25.1) is refused with an error the
//   client has no type for; it is reported naming the event, its size and the setting.
// - `readAll` has no server-side filter in this client version: $all reads filter here.
//   `subscribeToAll` does filter on the server (one stream-prefix or event-type filter, or
//   excludeSystemEvents()); the full AllFilter is applied here as well.
// - System events (type starting with `$`, which includes `$>` links and `$metadata`) and
//   events in system streams (`$…`, which includes `$$<stream>` metadata streams) are never
//   returned from readAll / subscribeAll / headPosition.
// - Subscription start positions are exclusive, $all read positions inclusive (as in the
//   port). A backwards $all read from a position is made inclusive here: the event at that
//   position (read forwards) first, then the events before it.
// - The client signals the end of catch-up with a "caughtUp" event on the subscription
//   (from the server's caught_up message, servers 23.10+). It is a Node event, not an item
//   in the stream, so the adapter pushes a marker into the subscription's own readable
//   buffer when it fires: everything received before it is ahead of the marker.
// - subscribeStream is the server's stream subscription (subscribeToStream): catch-up from
//   the revision after `from`, caught_up, live; a stream that does not exist yet is caught
//   up at once and delivered when it is written.
// - Connection errors: the client drops its channel on UNAVAILABLE/CANCELLED and opens a new
//   one on the next call. A subscription that drops (or that the server ends) is reopened
//   here, after the last event received (position, or revision for a stream), with capped
//   exponential backoff, so a consumer sees every event once (no loss, no duplicate).
//   CaughtUp is emitted once per subscription, the first time it catches up.
import { Effect, Layer, Queue, Stream } from "effect"
import {
  EventStoreDBClient,
  convertToCommandError,
  eventTypeFilter,
  excludeSystemEvents,
  jsonEvent,
  streamNameFilter
} from "@eventstore/db-client"
import type {
  AppendResult as EsdbAppendResult,
  Filter as EsdbFilter,
  ResolvedEvent,
  StreamingRead
} from "@eventstore/db-client"
import {
  EventStore,
  EventStoreFailure,
  EventStoreUnavailable,
  StreamNotFound,
  WrongExpectedVersion,
  type AllFilter,
  type AppendError,
  type AppendResult,
  type CaughtUp,
  type EventData,
  type EventStoreShape,
  type ExpectedRevision,
  type Position,
  type ReadAllOptions,
  type ReadError,
  type ReadStreamOptions,
  type RecordedEvent,
  type RecordedEventJson,
  type SubscribeAllOptions
} from "./eventStore.ts"
import { checkAppend, eventSize } from "./appendInput.ts"
import { comparePositions } from "./position.ts"

export interface EsdbEventStoreOptions {
  /** Resubscription after a dropped subscription: first delay, doubling up to maxDelayMs. */
  readonly resubscribe?: {
    readonly initialDelayMs?: number
    readonly maxDelayMs?: number
    /** Consecutive failed attempts before subscribeAll fails with the last error. Default: no limit. */
    readonly maxAttempts?: number
  }
}

/** The client's own default for `defaultDeadline`. */
const clientDefaultDeadlineMs = 10_000

/** Matches the client's option-name normalisation (case, `-` and `_` ignored). */
const flat = (s: string) => s.trim().toLowerCase().replace(/[_-]/g, "")

/**
 * The connection string as given, with `throwOnAppendFailure` forced on (the adapter relies
 * on a thrown WrongExpectedVersionError, whose BatchAppend variant carries the actual
 * revision), and the deadline it implies.
 */
const normalise = (connectionString: string): { readonly connectionString: string; readonly deadlineMs: number } => {
  const trimmed = connectionString.trim()
  const q = trimmed.indexOf("?")
  const base = q < 0 ? trimmed : trimmed.slice(0, q)
  const params = q < 0 ? [] : trimmed.slice(q + 1).split("&").filter((p) => p.length > 0)
  let deadlineMs = clientDefaultDeadlineMs
  const kept = params.filter((p) => {
    const [key = "", value = ""] = p.split("=")
    if (flat(key) === "defaultdeadline" && /^\d+$/.test(value.trim())) deadlineMs = Number(value.trim())
    return flat(key) !== "throwonappendfailure"
  })
  kept.push("throwOnAppendFailure=true")
  return { connectionString: `${base}?${kept.join("&")}`, deadlineMs }
}

// ---- errors -------------------------------------------------------------------------------

const reasonOf = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/** The client's error type ("unavailable", "wrong-expected-version", …), for client and raw gRPC errors. */
const commandError = (e: unknown): { readonly type?: string; readonly message: string; readonly raw: unknown } => {
  if (typeof e !== "object" || e === null) return { message: String(e), raw: e }
  const converted = convertToCommandError(e as Error) as unknown as { type?: string; message?: string; maxAppendSize?: number }
  // Errors the client builds from BatchAppend's status details carry no message.
  const message = converted.message ||
    (converted.type === "maximum-append-size-exceeded"
      ? `maximum append size of ${converted.maxAppendSize} bytes exceeded`
      : converted.type ?? reasonOf(e))
  return { type: converted.type, message, raw: converted }
}

/** Connection-level trouble: the call may well succeed later. */
const retryableTypes = new Set(["unavailable", "deadline-exceeded", "cancelled", "timeout", "not-leader"])

/** A gRPC status the client does not recognise (INTERNAL, UNKNOWN, RESOURCE_EXHAUSTED, …). */
const isTransportError = (e: unknown) => {
  const c = commandError(e)
  return c.type === "unknown" && typeof (c.raw as { code?: unknown }).code === "number"
}

const storeError = (what: string, e: unknown): EventStoreUnavailable | EventStoreFailure => {
  const c = commandError(e)
  return c.type !== undefined && retryableTypes.has(c.type)
    ? new EventStoreUnavailable({ reason: `${what}: ${c.message}` })
    : new EventStoreFailure({ reason: `${what}: ${c.message}` })
}

const readError = (what: string, stream: string | undefined) => (e: unknown): ReadError => {
  const c = commandError(e)
  if (c.type === "stream-not-found" && stream !== undefined) return new StreamNotFound({ stream })
  return storeError(what, e)
}

/**
 * The server's refusal of one event over MaxAppendEventSize (25.1+): the client (6.2.1)
 * has no type for it and passes it on as unknown, with the server's message (Append) or
 * the status name (BatchAppend).
 */
const eventTooLarge = /MaximumAppendEventSizeExceeded|Maximum Append Event Size/

const appendError = (
  stream: string,
  expected: ExpectedRevision,
  checked: ReadonlyArray<{ readonly id: string; readonly type: string; readonly dataJson: string; readonly metadataJson: string }>
) => (e: unknown): AppendError => {
  const c = commandError(e)
  if (eventTooLarge.test(c.message)) {
    const largest = checked.reduce((a, b) => (eventSize(b) > eventSize(a) ? b : a))
    const limit = /Maximum Append Event Size of (\d+)/.exec(c.message)?.[1]
    return new EventStoreFailure({
      reason: `append to ${stream}: event ${largest.id} (${eventSize(largest)} bytes) exceeds the server's maximum event size` +
        (limit !== undefined ? ` of ${limit} bytes` : "") + " (MaxAppendEventSize)"
    })
  }
  if (c.type === "wrong-expected-version") {
    const actual = (c.raw as { actualVersion?: bigint | "no_stream" }).actualVersion
    return new WrongExpectedVersion({ stream, expected, actual: typeof actual === "bigint" ? actual : "no_stream" })
  }
  return storeError(`append to ${stream}`, e)
}

// ---- events -------------------------------------------------------------------------------

type EsdbRecorded = NonNullable<ResolvedEvent["event"]>

const utf8 = new TextEncoder()

/**
 * A server that sends an event without its log position is not one agentlog can run on
 * (checkpoints and cursors are positions): refused, never given a made-up position.
 */
const withoutPosition = (e: EsdbRecorded) =>
  new EventStoreFailure({ reason: `event ${e.id} of ${e.streamId} came without its $all position` })

const toRecorded = (e: EsdbRecorded): RecordedEvent | EventStoreFailure =>
  e.position === undefined
    ? withoutPosition(e)
    : {
      _tag: "RecordedEvent",
      stream: e.streamId,
      revision: e.revision,
      position: e.position,
      id: e.id,
      type: e.type,
      data: e.data,
      // Metadata is always written (JSON `null` when absent); an event written by another
      // client without metadata reads as null too.
      metadata: e.metadata === undefined ? null : e.metadata,
      created: e.created
    }

/** A page of client events as the port's, or the failure of the first one without a position. */
const toRecordedPage = (
  page: readonly [EsdbRecorded, ...Array<EsdbRecorded>]
): Effect.Effect<readonly [RecordedEvent, ...Array<RecordedEvent>], EventStoreFailure> => {
  const out: Array<RecordedEvent> = []
  for (const e of page) {
    const r = toRecorded(e)
    if (r._tag === "EventStoreFailure") return Effect.fail(r)
    out.push(r)
  }
  return Effect.succeed(out as unknown as readonly [RecordedEvent, ...Array<RecordedEvent>])
}

/** System events and system streams ($>, $metadata, $stats-…, $$meta streams, $ce-…). */
const isSystem = (e: EsdbRecorded) => e.type.startsWith("$") || e.streamId.startsWith("$")

/** The port's filter: an empty or absent list does not filter; both lists must match. */
const matchesFilter = (filter: AllFilter | undefined) => {
  const prefixes = filter?.streamPrefix ?? []
  const types = new Set(filter?.eventTypes ?? [])
  return (e: EsdbRecorded) =>
    !isSystem(e) &&
    (prefixes.length === 0 || prefixes.some((p) => e.streamId.startsWith(p))) &&
    (types.size === 0 || types.has(e.type))
}

/** The narrowest filter the server can apply for an AllFilter (the rest is applied here). */
const serverFilter = (filter: AllFilter | undefined): EsdbFilter => {
  const prefixes = filter?.streamPrefix ?? []
  if (prefixes.length > 0) return streamNameFilter({ prefixes: [...prefixes] })
  const types = filter?.eventTypes ?? []
  // Prefixes, not a regex: no escaping, no dialect differences (the server uses .NET regex).
  if (types.length > 0) return eventTypeFilter({ prefixes: [...types] })
  return excludeSystemEvents()
}

/** The port's checks, plus EventStoreDB's own: `$` streams belong to the server. */
const validate = (stream: string, events: ReadonlyArray<EventData>, expected: ExpectedRevision) => {
  if (typeof stream === "string" && stream.startsWith("$"))
    return new EventStoreFailure({ reason: `append to ${stream}: streams starting with $ are system streams` })
  const checked = checkAppend(stream, events, expected)
  if (checked instanceof EventStoreFailure) return checked
  const proposed = checked.map((e) =>
    jsonEvent({
      id: e.id,
      type: e.type,
      // The client JSON-encodes data itself; metadata goes as the bytes of its JSON so that
      // every value (null, false, 0, "") round-trips (the client drops falsy metadata).
      data: e.data as never,
      metadata: utf8.encode(e.metadataJson)
    })
  )
  return { checked, proposed }
}

const toEsdbExpected = (expected: ExpectedRevision) =>
  expected === "exists" ? ("stream_exists" as const) : expected === "no_stream" ? ("no_stream" as const) : expected

// ---- Node readables as Effect pulls ---------------------------------------------------------

const caughtUpMarker: unique symbol = Symbol("esdb caught up")
type Pulled<A> = A | typeof caughtUpMarker
const readDone: unique symbol = Symbol("esdb read done")

/** A client subscription (to $all or to a stream), as the adapter uses it. */
type ClientSubscription = ReadableLike & {
  on(event: "caughtUp" | "confirmation", listener: () => void): unknown
  push(item: unknown): boolean
  unsubscribe(): Promise<void>
}

/** What `reader` needs of the client's streams (Node Readables with narrowed listener types). */
interface ReadableLike {
  on(event: "readable" | "end" | "close" | "error", listener: (...args: Array<any>) => void): unknown
  read(): unknown
  readonly readableLength: number
  readonly readableEnded: boolean
}

/**
 * Reads a client stream (ReadStream / Subscription, object mode) in paused mode, so that
 * the gRPC call is flow-controlled by how fast items are taken. `next` yields what is
 * buffered, else waits; once the buffer is empty it fails with the stream's error, or
 * yields `readDone` when the stream ended.
 */
const reader = <A>(readable: ReadableLike) => {
  let error: { readonly e: unknown } | undefined
  let ended = false
  let wake: (() => void) | undefined
  const notify = () => {
    const w = wake
    wake = undefined
    w?.()
  }
  readable.on("readable", notify)
  readable.on("end", () => {
    ended = true
    notify()
  })
  readable.on("close", () => {
    ended = true
    notify()
  })
  // The client emits its errors with emit("error") and leaves the stream open.
  readable.on("error", (e) => {
    error ??= { e }
    notify()
  })
  const ready = () => readable.readableLength > 0 || error !== undefined || ended || readable.readableEnded
  const next = (max: number): Effect.Effect<Array<Pulled<A>> | typeof readDone, unknown> =>
    Effect.suspend(() => {
      const items: Array<Pulled<A>> = []
      while (items.length < max) {
        const item = readable.read() as Pulled<A> | null
        if (item === null) break
        items.push(item)
      }
      if (items.length > 0) return Effect.succeed(items)
      if (error) return Effect.fail(error.e)
      if (ended || readable.readableEnded) return Effect.succeed(readDone)
      return Effect.callback<void>((resume) => {
        if (ready()) return resume(Effect.void)
        wake = () => resume(Effect.void)
        return Effect.sync(() => {
          wake = undefined
        })
      }).pipe(Effect.andThen(next(max)))
    })
  return { next }
}

/** The recorded events of a read (a deleted event behind an unresolved link has none). */
const recordedOnly = <E>(
  self: Stream.Stream<Pulled<{ readonly event?: EsdbRecorded | undefined }>, E>
): Stream.Stream<EsdbRecorded, E> =>
  self.pipe(
    Stream.map((x) => (x === caughtUpMarker ? undefined : x.event)),
    Stream.filter((e): e is EsdbRecorded => e !== undefined)
  )

// ---- the store ------------------------------------------------------------------------------

export const makeEsdbEventStore = (
  connectionString: string,
  options: EsdbEventStoreOptions = {}
): Effect.Effect<EventStoreShape, EventStoreFailure> =>
  Effect.try({
    try: () => {
      if (!/^esdb(\+discover)?:\/\//.test(connectionString.trim())) {
        throw new Error("expected an esdb:// or esdb+discover:// connection string")
      }
      const normalised = normalise(connectionString)
      const connect = () => EventStoreDBClient.connectionString(normalised.connectionString)
      // Parse (and fail) now rather than on first use.
      return { first: connect(), connect, deadlineMs: normalised.deadlineMs }
    },
    catch: (e) => new EventStoreFailure({ reason: `esdb connection string: ${reasonOf(e)}` })
  }).pipe(Effect.map(({ first, connect, deadlineMs }) => build(first, connect, deadlineMs, options)))

const build = (
  first: EventStoreDBClient,
  connect: () => EventStoreDBClient,
  deadlineMs: number,
  options: EsdbEventStoreOptions
): EventStoreShape => {
  const initialDelayMs = options.resubscribe?.initialDelayMs ?? 100
  const maxDelayMs = options.resubscribe?.maxDelayMs ?? 5_000
  const maxAttempts = options.resubscribe?.maxAttempts ?? Infinity
  /** Appends are answered within the deadline, or fail as unavailable (BatchAppend has none client-side). */
  const appendTimeoutMs = deadlineMs + 1_000
  let closed = false

  // The client in use, and the ones replaced (still serving what was started on them).
  let client = first
  const retired: Array<EventStoreDBClient> = []
  /**
   * The client caches its first ServerFeatures answer for good, failures included, unless
   * the failure is UNAVAILABLE/CANCELLED (then it reconnects by itself): after an append
   * fails with any other gRPC-level error, later appends would fail the same way. Such a
   * client is replaced by a fresh one.
   */
  const replace = (failed: EventStoreDBClient) => {
    if (closed || client !== failed) return
    retired.push(failed)
    client = connect()
  }

  const closedFailure = () => new EventStoreFailure({ reason: "esdb event store is closed" })

  /**
   * A client read (ReadStream) as a Stream of raw items. The gRPC call is cancelled when
   * the Stream ends early, fails or is interrupted. While waiting for the server (not for
   * a slow consumer), it fails as unavailable after the deadline.
   */
  const fromRead = <A>(
    what: string,
    open: (client: EventStoreDBClient) => StreamingRead<A>,
    onError: (e: unknown) => ReadError
  ): Stream.Stream<Pulled<A>, ReadError> =>
    Stream.callback<Pulled<A>, ReadError>(
      (queue) =>
        Effect.acquireUseRelease(
          Effect.try({ try: () => open(client), catch: onError }),
          (readable) => {
            const r = reader<A>(readable)
            const loop: Effect.Effect<void, ReadError> = r.next(64).pipe(
              Effect.mapError(onError),
              Effect.timeoutOrElse({
                duration: deadlineMs,
                orElse: () => Effect.fail(new EventStoreUnavailable({ reason: `${what}: no answer within ${deadlineMs} ms` }))
              }),
              Effect.flatMap((items) =>
                items !== readDone
                  ? Effect.andThen(Queue.offerAll(queue, items), loop)
                  // Disposing the client ends its reads as if they were complete: not so.
                  : closed
                  ? Effect.fail(closedFailure())
                  : Queue.end(queue)
              )
            )
            return loop
          },
          (readable) => Effect.promise(() => readable.cancel())
        ),
      { bufferSize: 256, strategy: "suspend" }
    )

  // ---- append ----
  const positionAt = (stream: string, revision: bigint): Effect.Effect<Position, AppendError> =>
    Stream.runHead(
      fromRead(
        `read ${stream}`,
        (c) => c.readStream(stream, { fromRevision: revision, maxCount: 1 }),
        readError(`read ${stream} at ${revision}`, stream)
      ).pipe(recordedOnly)
    ).pipe(
      Effect.mapError((e): AppendError => (e._tag === "StreamNotFound" ? storeError(`read ${stream}`, e) : e)),
      Effect.flatMap((head) => {
        const position = head._tag === "Some" ? head.value.position : undefined
        return position
          ? Effect.succeed(position)
          : Effect.fail(new EventStoreFailure({ reason: `append to ${stream}: no event at revision ${revision}` }))
      })
    )

  const append: EventStoreShape["append"] = (stream, events, expected) =>
    Effect.suspend(() => {
      if (closed) return Effect.fail(closedFailure())
      const valid = validate(stream, events, expected)
      if (valid instanceof EventStoreFailure) return Effect.fail(valid)
      const { checked, proposed } = valid
      const used = client
      return Effect.tryPromise({
        try: () => used.appendToStream(stream, proposed, { expectedRevision: toEsdbExpected(expected) }),
        catch: (e) => {
          if (isTransportError(e)) replace(used)
          return appendError(stream, expected, checked)(e)
        }
      }).pipe(
        Effect.timeoutOrElse({
          duration: appendTimeoutMs,
          orElse: () =>
            Effect.fail(new EventStoreUnavailable({ reason: `append to ${stream}: no answer within ${appendTimeoutMs} ms` }))
        }),
        Effect.flatMap((result: EsdbAppendResult): Effect.Effect<AppendResult, AppendError> => {
          if (!result.success) {
            const actual = result.nextExpectedRevision < 0n ? ("no_stream" as const) : result.nextExpectedRevision
            return Effect.fail(new WrongExpectedVersion({ stream, expected, actual }))
          }
          const nextRevision = result.nextExpectedRevision
          // An idempotent append reports no position: look the event up.
          return result.position
            ? Effect.succeed({ nextRevision, position: result.position })
            : Effect.map(positionAt(stream, nextRevision), (position) => ({ nextRevision, position }))
        })
      )
    })

  // ---- reads ----
  const readStream: EventStoreShape["readStream"] = (stream, opts: ReadStreamOptions = {}) =>
    Stream.suspend(() => {
      if (closed) return Stream.fail(closedFailure())
      const direction = opts.direction ?? "forwards"
      const fromRevision = opts.fromRevision ?? (direction === "forwards" ? "start" : "end")
      const max = opts.maxCount === undefined ? Infinity : Math.max(0, Math.floor(opts.maxCount))
      const events = fromRead(
        `read ${stream}`,
        (c) =>
          c.readStream(stream, {
            direction,
            fromRevision,
            // At least 1, so that a missing stream is still reported when maxCount is 0.
            maxCount: max === Infinity ? Number.MAX_SAFE_INTEGER : Math.max(1, max)
          }),
        readError(`read ${stream}`, stream)
      ).pipe(recordedOnly, Stream.mapArrayEffect(toRecordedPage))
      return max === Infinity ? events : Stream.take(events, max)
    })

  /** Raw $all events in one direction from a client start point, system events included. */
  const rawAll = (
    fromPosition: Position | "start" | "end",
    direction: "forwards" | "backwards",
    maxCount = Number.MAX_SAFE_INTEGER
  ): Stream.Stream<EsdbRecorded, ReadError> =>
    fromRead(
      "read $all",
      (c) => c.readAll({ fromPosition, direction, maxCount }),
      readError("read $all", undefined)
    ).pipe(recordedOnly)

  const readAll: EventStoreShape["readAll"] = (opts: ReadAllOptions = {}) =>
    Stream.suspend(() => {
      if (closed) return Stream.fail(closedFailure())
      const direction = opts.direction ?? "forwards"
      const max = opts.maxCount === undefined ? Infinity : Math.max(0, Math.floor(opts.maxCount))
      if (max === 0) return Stream.empty
      const keep = matchesFilter(opts.filter)
      let raw: Stream.Stream<EsdbRecorded, ReadError>
      if (direction === "forwards") {
        raw = rawAll(opts.fromPosition ?? "start", "forwards")
      } else {
        const from = opts.fromPosition ?? "end"
        if (from === "start") return Stream.empty
        // Backwards from a position: the server returns what lies before it; the port's
        // position is inclusive, so the event at it (read forwards) comes first. Either way
        // round the server treats the position, nothing is returned twice.
        if (from === "end") raw = rawAll("end", "backwards")
        else {
          const cmp = (e: EsdbRecorded) => (e.position ? comparePositions(e.position, from) : 1)
          raw = Stream.concat(
            Stream.filter(rawAll(from, "forwards", 1), (e) => cmp(e) === 0),
            Stream.filter(rawAll(from, "backwards"), (e) => cmp(e) < 0)
          )
        }
      }
      const events = Stream.mapArrayEffect(Stream.filter(raw, keep), toRecordedPage)
      return max === Infinity ? events : Stream.take(events, max)
    })

  const headPosition: EventStoreShape["headPosition"] = () =>
    Effect.suspend(() => {
      if (closed) return Effect.fail(closedFailure())
      return Stream.runHead(Stream.filter(rawAll("end", "backwards"), matchesFilter(undefined))).pipe(
        Effect.map((head) => (head._tag === "Some" ? head.value.position ?? null : null))
      )
    })

  // ---- subscriptions ----
  /**
   * A client subscription that is reopened after a drop (see the header). `open` starts
   * one from wherever the caller's resume point is now; `received` moves that point on
   * and says whether the event is delivered; CaughtUp carries `caughtUpAt()`.
   */
  const resubscribing = (
    what: string,
    open: (client: EventStoreDBClient) => Effect.Effect<ClientSubscription, unknown>,
    received: (e: EsdbRecorded) => boolean,
    caughtUpAt: () => Position | undefined
  ): Stream.Stream<RecordedEvent | CaughtUp, ReadError> =>
    Stream.callback<RecordedEvent | CaughtUp, ReadError>(
      (queue) =>
        Effect.gen(function* () {
          let caughtUpSent = false
          let attempt = 0

          /** One subscription, until it drops (fails) or the server ends it (succeeds). */
          const once = Effect.acquireUseRelease(
            Effect.tap(open(client), (sub) =>
              Effect.sync(() => {
                // See the header: the marker lands after everything received before caught_up.
                sub.on("caughtUp", () => sub.push(caughtUpMarker))
                sub.on("confirmation", () => {
                  attempt = 0
                })
              })
            ),
            (sub) => {
              const r = reader<ResolvedEvent>(sub)
              const loop: Effect.Effect<void, unknown> = r.next(64).pipe(
                Effect.flatMap((items) => {
                  if (items === readDone) return Effect.void
                  const out: Array<RecordedEvent | CaughtUp> = []
                  for (const item of items) {
                    attempt = 0
                    if (item === caughtUpMarker) {
                      if (!caughtUpSent) {
                        caughtUpSent = true
                        out.push({ _tag: "CaughtUp", position: caughtUpAt() })
                      }
                      continue
                    }
                    const e = item.event
                    if (!e || !received(e)) continue
                    const recorded = toRecorded(e)
                    if (recorded._tag === "EventStoreFailure") return Effect.fail(recorded)
                    out.push(recorded)
                  }
                  return out.length === 0 ? loop : Effect.andThen(Queue.offerAll(queue, out), loop)
                })
              )
              return loop
            },
            (sub) => Effect.promise(() => sub.unsubscribe())
          )

          /**
           * After a drop: wait (capped exponential backoff) and go again, or give up. Dropped
           * connections, server-side cancellations and gRPC-level errors (a reset stream, a
           * proxy's INTERNAL) are retried; refusals (access denied, a bad filter) are not.
           */
          const backoff = (cause: unknown): Effect.Effect<void, ReadError> => {
            attempt++
            if (closed) return Effect.fail(closedFailure())
            const error = cause instanceof EventStoreUnavailable || cause instanceof EventStoreFailure
              ? cause
              : cause instanceof StreamNotFound
              ? new EventStoreFailure({ reason: cause.message })
              : storeError(what, cause)
            const retryable = error._tag === "EventStoreUnavailable" || isTransportError(cause)
            if (!retryable || attempt > maxAttempts) return Effect.fail(error)
            return Effect.sleep(Math.min(maxDelayMs, initialDelayMs * 2 ** Math.min(attempt - 1, 30)))
          }

          while (true) {
            if (closed) return yield* Effect.fail(closedFailure())
            const outcome = yield* Effect.result(once)
            yield* backoff(
              outcome._tag === "Success"
                ? new EventStoreUnavailable({ reason: `${what}: the server ended the subscription` })
                : outcome.failure
            )
          }
        }),
      { bufferSize: 256, strategy: "suspend" }
    )

  const subscribeAll: EventStoreShape["subscribeAll"] = (opts: SubscribeAllOptions) =>
    Stream.suspend(() => {
      const keep = matchesFilter(opts.filter)
      const filter = serverFilter(opts.filter)
      // Where the next (re)subscription starts, exclusive: the last event received (system
      // events and filtered-out ones included). "end" is pinned to the newest event at the
      // first attempt, so that a resubscription after a drop does not skip what was
      // appended in between.
      let resumeFrom: Position | "start" | "end" = opts.from
      let lastDelivered: Position | undefined = typeof opts.from === "object" ? opts.from : undefined
      return resubscribing(
        "subscription to $all",
        (c) =>
          Effect.gen(function* () {
            if (resumeFrom === "end") {
              resumeFrom = (yield* headPosition()) ?? "start"
              if (resumeFrom !== "start") lastDelivered = resumeFrom
            }
            const from = resumeFrom
            return yield* Effect.try({ try: () => c.subscribeToAll({ fromPosition: from, filter }) as unknown as ClientSubscription, catch: (e) => e })
          }),
        (e) => {
          if (!e.position) return false
          resumeFrom = e.position
          if (!keep(e)) return false
          lastDelivered = e.position
          return true
        },
        () => lastDelivered
      )
    })

  /** The stream's last revision, or "start" when it has no events. */
  const lastRevisionOf = (stream: string): Effect.Effect<bigint | "start", ReadError> =>
    Stream.runHead(readStream(stream, { direction: "backwards", maxCount: 1 })).pipe(
      Effect.map((head) => (head._tag === "Some" ? head.value.revision : ("start" as const))),
      Effect.catchTag("StreamNotFound", () => Effect.succeed("start" as const))
    )

  // Native on the server (a stream subscription, no $all scan): catch-up from the revision
  // after `from`, caught_up, then live; a stream that does not exist yet is caught up at once.
  const subscribeStream: EventStoreShape["subscribeStream"] = (stream, from) =>
    Stream.suspend(() => {
      let resumeFrom: bigint | "start" | "end" = from
      let lastDelivered: Position | undefined
      return resubscribing(
        `subscription to ${stream}`,
        (c) =>
          Effect.gen(function* () {
            if (resumeFrom === "end") resumeFrom = yield* lastRevisionOf(stream)
            const fromRevision = resumeFrom
            return yield* Effect.try({ try: () => c.subscribeToStream(stream, { fromRevision }) as unknown as ClientSubscription, catch: (e) => e })
          }),
        (e) => {
          if (e.streamId !== stream || (typeof resumeFrom === "bigint" && e.revision <= resumeFrom)) return false
          resumeFrom = e.revision
          lastDelivered = e.position
          return true
        },
        () => lastDelivered
      )
    })

  // The client hands over parsed events: their JSON is written again.
  const toJson = (e: RecordedEvent): RecordedEventJson => ({
    _tag: "RecordedEventJson",
    stream: e.stream,
    revision: e.revision,
    position: e.position,
    id: e.id,
    type: e.type,
    dataJson: JSON.stringify(e.data),
    metadataJson: JSON.stringify(e.metadata),
    created: e.created
  })
  const readStreamJson: EventStoreShape["readStreamJson"] = (stream, opts) => Stream.map(readStream(stream, opts), toJson)
  const readAllJson: EventStoreShape["readAllJson"] = (opts) => Stream.map(readAll(opts), toJson)

  const close = () =>
    Effect.promise(async () => {
      if (closed) return
      closed = true
      await Promise.allSettled([client, ...retired].map((c) => c.dispose()))
    })

  return { append, readStream, readStreamJson, readAll, readAllJson, subscribeAll, subscribeStream, headPosition, close }
}

/** The EventStoreDB store as the EventStore service; the client is disposed with the layer's scope. */
export const EsdbEventStoreLive = (
  connectionString: string,
  options?: EsdbEventStoreOptions
): Layer.Layer<EventStore, EventStoreFailure> =>
  Layer.effect(
    EventStore,
    Effect.acquireRelease(makeEsdbEventStore(connectionString, options), (store) => store.close())
  )
