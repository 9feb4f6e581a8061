// The record itself, from the event store: a session's history (JSON pages or NDJSON),
// the same live as Server-Sent Events, and the audit over all sessions (filtered by the
// events_index read model, bodies from the store).
import type { Context, Hono } from "hono"
import { Effect, Option, Result, Stream } from "effect"
import { SessionNotFound } from "../domain/sessionErrors.ts"
import { upcastStored, upcastStoredJson } from "../domain/storedEvents.ts"
import { sessionIdOf, streamOf, streamPrefix } from "../domain/streamName.ts"
import type { ReadError, RecordedEvent, RecordedEventJson } from "../eventstore/eventStore.ts"
import { encodePosition } from "../eventstore/position.ts"
import { loadIndexedEvents } from "../projections/eventsIndex/audit.ts"
import type { HttpDeps } from "./deps.ts"
import type { HttpEnv } from "./env.ts"
import { conflict } from "./problem.ts"
import { awaitMinPosition, router } from "./routeKit.ts"
import { routes } from "./routes.ts"
import { type SseEvent, sseBody, sseHeaders } from "./sse.ts"
import { workspaceWatchOf } from "./workspaceRoutes.ts"

/** A recorded event as the API shows it: its data upcast to the current version. */
export const eventView = (stored: RecordedEvent) => {
  const e = upcastStored(stored)
  return {
    stream: e.stream,
    sessionId: sessionIdOf(e.stream),
    revision: Number(e.revision),
    position: encodePosition(e.position),
    id: e.id,
    type: e.type,
    data: e.data,
    metadata: e.metadata,
    created: e.created.toISOString()
  }
}

const pad2 = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, "0"))
const pad3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, "0"))
const dayMs = 86_400_000

/**
 * JSON.stringify(eventView(e)) of the same event, made from the store's JSON text: the
 * data and metadata go out as stored, without a parse and a stringify per event. A writer
 * per response keeps what repeats from one event to the next: the stream's part of the
 * line, each type's JSON, and the date part of the times, the rest of which is worked out
 * with arithmetic (toISOString per event took a replay longer than its SQL). Ids need no
 * escaping: both stores hold lowercase UUIDs.
 */
export const eventViewJsonWriter = () => {
  let stream: string | undefined
  let head = ""
  const types = new Map<string, string>()
  let day = NaN
  let dayIso = ""
  const isoOf = (ms: number): string => {
    const d = Math.floor(ms / dayMs)
    if (d !== day) {
      const iso = new Date(ms).toISOString()
      // Only a four-digit year has the fixed "YYYY-MM-DDT" prefix to reuse.
      if (iso.length !== 24) return iso
      day = d
      dayIso = iso.slice(0, 11)
    }
    const t = ms - d * dayMs
    const s = Math.floor(t / 1000)
    return `${dayIso}${pad2[Math.floor(s / 3600)]}:${pad2[Math.floor(s / 60) % 60]}:${pad2[s % 60]}.${pad3[t - s * 1000]}Z`
  }
  return (stored: RecordedEventJson): string => {
    const e = upcastStoredJson(stored)
    if (e.stream !== stream) {
      stream = e.stream
      head = `{"stream":${JSON.stringify(e.stream)},"sessionId":${JSON.stringify(sessionIdOf(e.stream))},"revision":`
    }
    let type = types.get(e.type)
    if (type === undefined) types.set(e.type, (type = JSON.stringify(e.type)))
    return (
      `${head}${Number(e.revision)},"position":"${encodePosition(e.position)}","id":"${e.id}","type":${type},` +
      `"data":${e.dataJson},"metadata":${e.metadataJson},"created":"${isoOf(e.created.getTime())}"}`
    )
  }
}

const ndjsonType = "application/x-ndjson"

const wantsNdjson = (accept: string | undefined): boolean =>
  accept !== undefined &&
  accept
    .split(",")
    .map((p) => p.split(";")[0]!.trim().toLowerCase())
    .some((t) => t === ndjsonType || t === "application/jsonl")

export const eventRoutes = (app: Hono<HttpEnv>, deps: HttpDeps): void => {
  const { store, readModels, logger } = deps
  const handle = router(app, deps)

  /** An SSE response for a stream of frames: the client's pace, stall drop and why it ended, logged. */
  const sseResponse = (c: Context<HttpEnv>, events: Stream.Stream<SseEvent, ReadError>, context: { readonly sessionId?: string }) => {
    const requestId = c.get("requestId")
    // Under @hono/node-server the Node response is in the env: dropping a client closes its socket.
    const outgoing = (c.env as { outgoing?: { destroy: () => void } } | undefined)?.outgoing
    const stallMs = deps.config.sseStallMs ?? 0
    const body = sseBody({
      events,
      heartbeatMs: deps.config.heartbeatMs,
      stallMs,
      ...(outgoing ? { drop: () => outgoing.destroy() } : {}),
      signal: c.req.raw.signal,
      onEnd: (reason) => {
        if (typeof reason === "object")
          logger.log("warn", "SSE stream ended by a store failure", { ...context, requestId, error: String(reason.failure) })
        else if (reason === "stalled")
          logger.log("warn", "SSE client dropped: it took nothing of its stream for too long", { ...context, requestId, stallMs })
        else logger.log("debug", "SSE stream ended", { ...context, requestId, reason })
      }
    })
    return new Response(body, { status: 200, headers: sseHeaders })
  }

  const streamName = (sessionId: string) => Result.getOrThrow(streamOf(sessionId))

  /** The stream's newest event; SessionNotFound when the stream has none. */
  const lastEvent = (sessionId: string): Effect.Effect<RecordedEvent, ReadError | SessionNotFound> =>
    store.readStream(streamName(sessionId), { direction: "backwards", maxCount: 1 }).pipe(
      Stream.runHead,
      Effect.catchTag("StreamNotFound", () => Effect.succeed(Option.none())),
      Effect.flatMap((last) => (Option.isNone(last) ? Effect.fail(new SessionNotFound({ sessionId })) : Effect.succeed(last.value)))
    )

  handle(routes.getSessionEvents, ({ c, id: sessionId, query: q }) => Effect.gen(function* () {
    yield* awaitMinPosition(deps, q.minPosition)
    const fromRevision = BigInt(q.fromRevision ?? 0)
    const stream = streamName(sessionId)

    if (wantsNdjson(c.req.header("accept"))) {
      yield* lastEvent(sessionId)
      // HEAD: the headers only; nothing is read from the store.
      if (c.req.method === "HEAD") return c.body(null, 200, { "Content-Type": ndjsonType, "Cache-Control": "no-store" })
      const limit = q.limit
      const options = { fromRevision, ...(limit !== undefined ? { maxCount: limit } : {}) }
      // A page of events (as the store reads them) per pull and per chunk written: one
      // event per pull cost more in promise and stream machinery than in the event itself.
      const line = eventViewJsonWriter()
      const lines = (page: ReadonlyArray<RecordedEventJson>) => {
        let text = ""
        for (const e of page) text += `${line(e)}\n`
        return [text] as const
      }
      const pages: Stream.Stream<string, ReadError> = store.readStreamJson(stream, options).pipe(Stream.mapArray(lines))
      const it = Stream.toAsyncIterable(pages)[Symbol.asyncIterator]()
      const encoder = new TextEncoder()
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          try {
            const next = await it.next()
            if (next.done) controller.close()
            else {
              controller.enqueue(encoder.encode(next.value))
            }
          } catch (e) {
            logger.log("error", "NDJSON stream failed", { sessionId, requestId: c.get("requestId"), error: String(e) })
            controller.error(e)
          }
        },
        async cancel() {
          await it.return?.()
        }
      })
      return new Response(body, { status: 200, headers: { "Content-Type": ndjsonType, "Cache-Control": "no-store" } })
    }

    const limit = q.limit ?? 100
    const events = yield* store.readStream(stream, { fromRevision, maxCount: limit + 1 }).pipe(
      Stream.runCollect,
      Effect.catchTag("StreamNotFound", () => Effect.fail(new SessionNotFound({ sessionId })))
    )
    const items = events.slice(0, limit)
    const next = events[limit]
    return { status: 200, body: { items: items.map(eventView), nextRevision: next === undefined ? null : Number(next.revision) } } as const
  }))

  handle(routes.followSessionEvents, ({ c, id: sessionId, query: q, lastEventId }) => Effect.gen(function* () {
    const lastId = lastEventId ?? q.lastEventId
    const stream = streamName(sessionId)
    const newest = yield* lastEvent(sessionId)
    // An id the stream has not reached would filter out everything until the stream got
    // there, so the client would sit on a live stream that delivers nothing: refused.
    if (lastId !== undefined && BigInt(lastId) > newest.revision)
      return yield* Effect.fail(
        conflict(
          "last-event-id-ahead",
          "Last-Event-ID is past the stream's end",
          `Last-Event-ID ${lastId} is past the end of the session's stream: its current revision is ${newest.revision}`,
          { currentRevision: Number(newest.revision) }
        )
      )
    // HEAD: the headers only, no subscription.
    if (c.req.method === "HEAD") return c.body(null, 200, sseHeaders)
    const from = lastId === undefined ? 0n : BigInt(lastId) + 1n

    // Replay what the client has not seen, then follow the stream after the last revision
    // delivered (subscriptions start after it, exclusive): nothing missed, nothing twice.
    let delivered = from - 1n
    const watch = yield* workspaceWatchOf(deps, sessionId)
    const replay = store.readStream(stream, { fromRevision: from })
    const live = Stream.suspend(() =>
      store.subscribeStream(stream, delivered < 0n ? "start" : delivered).pipe(
        Stream.filter((x): x is RecordedEvent => x._tag === "RecordedEvent")
      )
    )
    const events = Stream.concat(replay, live).pipe(
      Stream.filter((e) => e.revision > delivered),
      Stream.tap((e) =>
        Effect.sync(() => {
          delivered = e.revision
          watch.observe(e)
        })
      ),
      Stream.map((e): SseEvent => ({ id: String(e.revision), event: e.type, data: JSON.stringify(eventView(e)) }))
    )
    return sseResponse(c, Stream.merge(events, watch.notices, { haltStrategy: "left" }), { sessionId })
  }))

  handle(routes.followAllEvents, ({ c, query: q }) => Effect.gen(function* () {
    if (c.req.method === "HEAD") return c.body(null, 200, sseHeaders)
    const types = q.type?.split(",").map((t) => t.trim()).filter((t) => t.length > 0)
    // The feed starts at the head it announces: a list read at that position (minPosition)
    // plus every event after it is the whole picture, with nothing replayed.
    const head = yield* store.headPosition()
    const from = head ?? "start"
    const ready = Stream.succeed({ event: "ready", data: JSON.stringify({ position: head === null ? null : encodePosition(head) }) })
    const live = store
      .subscribeAll({ from, filter: { streamPrefix: [streamPrefix], ...(types !== undefined && types.length > 0 ? { eventTypes: types } : {}) } })
      .pipe(
        Stream.filter((x): x is RecordedEvent => x._tag === "RecordedEvent"),
        Stream.map((e) => ({ event: e.type, data: JSON.stringify(eventView(e)) }))
      )
    return sseResponse(c, Stream.concat(ready, live), {})
  }))

  handle(routes.listEvents, ({ query: q }) => Effect.gen(function* () {
    yield* awaitMinPosition(deps, q.minPosition)
    const types = q.type?.split(",").map((t) => t.trim()).filter((t) => t.length > 0)
    const page = yield* readModels.events({
      ...(types !== undefined && types.length > 0 ? { type: types } : {}),
      ...(q.session !== undefined ? { session: q.session } : {}),
      ...(q.actor !== undefined ? { actor: q.actor } : {}),
      ...(q.after !== undefined ? { after: q.after } : {}),
      ...(q.before !== undefined ? { before: q.before } : {}),
      ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
      limit: q.limit ?? 100
    })
    const events = yield* loadIndexedEvents(store, page.items)
    return { status: 200, body: { items: events.map(eventView), nextCursor: page.nextCursor } } as const
  }))
}
