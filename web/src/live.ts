// Follows a session: its first read (sessionLoad.ts: the newest events first for a long
// session, the rest filled in behind), then its events over SSE
// (/v1/sessions/:id/events/live) from the revision after it. After a drop the browser's
// EventSource reconnects with Last-Event-ID; when it gives up (the service answered an error
// while restarting) a new one resumes with ?lastEventId= of the last event folded. The fold
// skips revisions it has seen, so a resume can neither lose nor repeat an entry.
import { useQueryClient, type QueryClient } from "@tanstack/react-query"
import { startTransition, useEffect, useRef, useState } from "react"
import { flushSync } from "react-dom"
import { client, ok, parseEvent, type EventView, type Schemas } from "./api.ts"
import { emptyFold, fold, type Folded } from "./fold.ts"
import { addEvents, fillIn, firstRead, nothingLoaded, tailStart, type Loaded } from "./sessionLoad.ts"

export type Connection = "connecting" | "live" | "reconnecting"

export interface SessionLive extends Loaded {
  readonly connection: Connection
}

const initial: SessionLive = { ...nothingLoaded, connection: "connecting" }

/** The session's row (GET /v1/sessions/:id), one query for the header and the first read. */
export const sessionQuery = (sessionId: string) => ({
  queryKey: ["sessions", "one", sessionId],
  queryFn: ({ signal }: { signal: AbortSignal }) => ok(client.GET("/v1/sessions/{id}", { params: { path: { id: sessionId } }, signal }))
})

const ndjson = (sessionId: string, fromRevision: number, signal: AbortSignal) =>
  client.GET("/v1/sessions/{id}/events", {
    params: { path: { id: sessionId }, query: fromRevision > 0 ? { fromRevision } : {} },
    headers: { Accept: "application/x-ndjson" },
    parseAs: "stream",
    signal
  })

/** Lets the page draw and take input between slices of a long read. */
const yieldToPage = () => new Promise<void>((resolve) => setTimeout(resolve, 0))

/**
 * The events before `from`, read as a stream and folded a slice at a time (no slice holds
 * the page for more than a few milliseconds); nothing is drawn until the whole fold is ready.
 */
export const readBefore = async (sessionId: string, from: number, signal: AbortSignal): Promise<{ older: Array<EventView>; folded: Folded }> => {
  const r = await ndjson(sessionId, 0, signal)
  const body = r.response.ok ? r.response.body : null
  if (body === null) throw new Error(`the history answered ${r.response.status}`)
  const reader = body.pipeThrough(new TextDecoderStream()).getReader()
  const older: Array<EventView> = []
  let folded = emptyFold
  let batch: Array<EventView> = []
  let rest = ""
  let slice = performance.now()
  let reached = false
  const take = (line: string) => {
    if (line === "" || reached) return
    const e = parseEvent(line)
    if (e.revision >= from) reached = true
    else {
      older.push(e)
      batch.push(e)
    }
  }
  for (;;) {
    const { value, done } = await reader.read()
    if (done) {
      take(rest)
      break
    }
    const lines = (rest + value).split("\n")
    rest = lines.pop() ?? ""
    for (const line of lines) take(line)
    if (batch.length >= 500) {
      folded = fold(folded, batch)
      batch = []
    }
    if (reached) {
      void reader.cancel()
      break
    }
    if (performance.now() - slice > 8) {
      await yieldToPage()
      slice = performance.now()
    }
  }
  return { older, folded: fold(folded, batch) }
}

interface FirstRead {
  readonly row: Schemas["Session"] | null
  readonly from: number
  readonly events: Array<EventView>
}

/** The session's row, then the events from the tail's start (every event for a short session). */
const readFirst = async (queryClient: QueryClient, sessionId: string, signal: AbortSignal): Promise<FirstRead> => {
  // The row says how long the stream is (the read model may lag it: the tail is then longer).
  const row: Schemas["Session"] | null = await queryClient.fetchQuery(sessionQuery(sessionId)).catch(() => null)
  const from = row === null ? 0 : tailStart(row.revision)
  const r = await ndjson(sessionId, from, signal)
  const text = r.response.ok && r.response.body !== null ? await new Response(r.response.body).text() : null
  if (text === null) throw new Error(`the events answered ${r.response.status}`)
  const events: Array<EventView> = []
  for (const line of text.split("\n")) if (line !== "") events.push(parseEvent(line))
  return { row, from, events }
}

let early: { sessionId: string; read: Promise<FirstRead>; abort: AbortController } | undefined
/**
 * Starts a session's first read before React renders (main.tsx, when the page opens on a
 * session): the bundle's evaluation and the first render then overlap its round trips.
 */
export const prefetchSession = (queryClient: QueryClient, sessionId: string): void => {
  const abort = new AbortController()
  const read = readFirst(queryClient, sessionId, abort.signal)
  read.catch(() => undefined)
  early = { sessionId, read, abort }
}

export const useSessionEvents = (sessionId: string): SessionLive => {
  const [live, setLive] = useState<SessionLive>(initial)
  const queryClient = useQueryClient()

  useEffect(() => {
    setLive(initial)
    let lastRevision = -1
    let source: EventSource | undefined
    let retry: ReturnType<typeof setTimeout> | undefined
    let frame: number | undefined
    let pending: Array<EventView> = []
    let stopped = false
    let attempts = 0
    const reads = new AbortController()

    // An event after a quiet spell is drawn at once; the many that arrive together (a replay
    // after a reconnect) are folded once per frame. Either way the DOM changes in that call
    // (flushSync), not in a render React would run later.
    let lastFlush = 0
    const flush = () => {
      frame = undefined
      lastFlush = performance.now()
      const batch = pending
      pending = []
      if (batch.length > 0) flushSync(() => setLive((l) => addEvents(l, batch)))
    }
    const setConnection = (connection: Connection) => setLive((l) => (l.connection === connection ? l : { ...l, connection }))

    const open = () => {
      const from = lastRevision
      const url = `/v1/sessions/${sessionId}/events/live${from >= 0 ? `?lastEventId=${from}` : ""}`
      const es = new EventSource(url, { withCredentials: true })
      source = es
      es.onopen = () => {
        attempts = 0
        setConnection("live")
      }
      const onEvent = (m: Event) => {
        if (!(m instanceof MessageEvent) || typeof m.data !== "string") return
        const e = parseEvent(m.data)
        if (e.revision <= lastRevision) return
        lastRevision = e.revision
        pending.push(e)
        if (frame === undefined && performance.now() - lastFlush > 16) flush()
        else frame ??= requestAnimationFrame(flush)
      }
      // Each event arrives under its type as the SSE event name (never as "message").
      for (const type of eventTypes) es.addEventListener(type, onEvent)
      es.onerror = () => {
        if (stopped) return
        setConnection("reconnecting")
        if (es.readyState === EventSource.CLOSED) {
          // The browser gave up (an error answer): try again ourselves, backing off.
          es.close()
          attempts++
          retry = setTimeout(open, Math.min(5000, 250 * 2 ** Math.min(attempts, 5)))
        }
      }
    }

    // The events before the tail, in the background, until they are in (a dropped read is read again).
    const fill = async (from: number) => {
      for (let attempt = 0; !stopped; attempt++) {
        try {
          const { older, folded } = await readBefore(sessionId, from, reads.signal)
          // A transition: the page stays responsive while React renders the whole transcript.
          if (!stopped) startTransition(() => setLive((l) => fillIn(l, older, folded)))
          return
        } catch {
          await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 250 * 2 ** Math.min(attempt, 5))))
        }
      }
    }

    const load = async () => {
      // A read started early that failed (before a login, say) is made again.
      const ahead = early?.sessionId === sessionId ? early : undefined
      early = undefined
      if (ahead) reads.signal.addEventListener("abort", () => ahead.abort.abort())
      const { row, from, events } = await (ahead?.read.catch(() => readFirst(queryClient, sessionId, reads.signal)) ?? readFirst(queryClient, sessionId, reads.signal))
      if (stopped) return
      const first = firstRead(events, from, row)
      lastRevision = first.folded.revision
      setLive((l) => ({ ...first, connection: l.connection }))
      open()
      if (!first.complete) await fill(from)
    }
    load().catch(() => {
      // Without a first read (an error answer, a dropped connection) the live stream replays everything.
      if (stopped || source !== undefined) return
      setLive((l) => ({ ...l, complete: true }))
      open()
    })
    return () => {
      stopped = true
      reads.abort()
      source?.close()
      if (retry) clearTimeout(retry)
      if (frame !== undefined) cancelAnimationFrame(frame)
    }
  }, [sessionId, queryClient])

  return live
}

/** The event types of src/domain/sessionEvents.ts (the SSE `event:` names). */
export const eventTypes = [
  "SessionLaunched",
  "SessionForked",
  "RunStarted",
  "ClaudeSessionBound",
  "ClaudeSystemEvent",
  "ClaudeAssistantMessage",
  "ClaudeUserMessage",
  "ClaudeResult",
  "ClaudeStreamEvent",
  "ApprovalRequested",
  "ApprovalDecided",
  "ContinueRequested",
  "InterruptRequested",
  "RunCompleted",
  "RunFailed",
  "RunInterrupted",
  "RunAbandoned",
  "SessionArchived",
  "SessionUnarchived",
  "SessionRenamed",
  "DraftCreated",
  "DraftEdited",
  "DraftDiscarded",
  "DraftRestored",
  "WorkspaceCreated",
  "WorkspaceCommitted",
  "WorkspaceMerged",
  "WorkspaceRebased",
  "WorkspaceDiscarded",
  "WorkspaceReset",
  "PermissionModeChanged",
  "ModelChanged",
  "FollowUpQueued",
  "FollowUpEdited",
  "FollowUpCancelled",
  "FollowUpStarted"
] as const

// ---- the lists (sessions, approvals waiting) ----

/** The events that change a row of the session list or the approvals waiting: all but Claude's stream itself. */
const notForLists: ReadonlyArray<string> = ["ClaudeSessionBound", "ClaudeSystemEvent", "ClaudeAssistantMessage", "ClaudeUserMessage", "ClaudeStreamEvent", "InterruptRequested"]
export const listEventTypes = eventTypes.filter((t) => !notForLists.includes(t))

let seenPosition: string | undefined
/** The newest store position the list feed announced: the lists read at it (minPosition), so they show at least that. */
export const listPosition = (): string | undefined => seenPosition

/**
 * Follows GET /v1/events/live for the lists: the read models are the state, the feed says
 * when they changed. On `ready` (the feed's start position) and on each event the lists
 * are read again at that position, at most every `throttleMs`; what happened before the
 * feed started is in the read at `ready`, what happened after comes as events, so a drop
 * and a reconnect lose nothing.
 */
export const useListFeed = (onChange: () => void, throttleMs = 250): Connection => {
  const [connection, setConnection] = useState<Connection>("connecting")
  const changed = useRef(onChange)
  changed.current = onChange
  useEffect(() => {
    let last = 0
    let timer: ReturnType<typeof setTimeout> | undefined
    const refresh = (position: string | null | undefined) => {
      if (typeof position === "string") seenPosition = position
      const wait = last + throttleMs - performance.now()
      if (timer !== undefined) return
      if (wait <= 0) {
        last = performance.now()
        changed.current()
      } else
        timer = setTimeout(() => {
          timer = undefined
          last = performance.now()
          changed.current()
        }, wait)
    }
    let es: EventSource | undefined
    let retry: ReturnType<typeof setTimeout> | undefined
    let attempts = 0
    const onEvent = (m: Event) => {
      if (m instanceof MessageEvent && typeof m.data === "string") refresh(parseEvent(m.data).position)
    }
    const open = () => {
      const source = new EventSource(`/v1/events/live?type=${listEventTypes.join(",")}`, { withCredentials: true })
      es = source
      source.onopen = () => {
        attempts = 0
        setConnection("live")
      }
      source.onerror = () => {
        setConnection("reconnecting")
        if (source.readyState !== EventSource.CLOSED) return
        // The browser gave up (an error answer while the service restarts): again, backing off.
        attempts++
        retry = setTimeout(open, Math.min(5000, 250 * 2 ** Math.min(attempts, 5)))
      }
      source.addEventListener("ready", (m) => {
        if (!(m instanceof MessageEvent) || typeof m.data !== "string") return
        const ready: { position: string | null } = JSON.parse(m.data)
        refresh(ready.position)
      })
      for (const type of listEventTypes) source.addEventListener(type, onEvent)
    }
    open()
    return () => {
      es?.close()
      if (retry !== undefined) clearTimeout(retry)
      if (timer !== undefined) clearTimeout(timer)
    }
  }, [throttleMs])
  return connection
}
