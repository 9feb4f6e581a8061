// Follows a session's events over SSE (/v1/sessions/:id/events/live): the whole stream is
// replayed on connect, then it follows live. After a drop the browser's EventSource
// reconnects with Last-Event-ID; when it gives up (the service answered an error while
// restarting) a new one resumes with ?lastEventId= of the last event folded. The fold skips
// revisions it has seen, so a resume can neither lose nor repeat an entry.
import { useEffect, useRef, useState } from "react"
import { client, ok, parseEvent, type EventView } from "./api.ts"
import { emptyFold, fold, type Folded } from "./fold.ts"

export type Connection = "connecting" | "live" | "reconnecting"

export interface SessionLive {
  readonly events: ReadonlyArray<EventView>
  readonly folded: Folded
  readonly connection: Connection
}

const initial: SessionLive = { events: [], folded: emptyFold, connection: "connecting" }

export const useSessionEvents = (sessionId: string): SessionLive => {
  const [live, setLive] = useState<SessionLive>(initial)
  const lastRevision = useRef(-1)

  useEffect(() => {
    setLive(initial)
    lastRevision.current = -1
    let source: EventSource | undefined
    let retry: ReturnType<typeof setTimeout> | undefined
    let frame: number | undefined
    let pending: Array<EventView> = []
    let stopped = false
    let attempts = 0

    // Many events arrive at once on a replay: fold them once per frame.
    const flush = () => {
      frame = undefined
      const batch = pending
      pending = []
      if (batch.length === 0) return
      setLive((l) => {
        const fresh = batch.filter((e) => e.revision > l.folded.revision)
        if (fresh.length === 0) return l
        return { ...l, events: l.events.concat(fresh), folded: fold(l.folded, fresh) }
      })
    }
    const setConnection = (connection: Connection) => setLive((l) => (l.connection === connection ? l : { ...l, connection }))

    const open = () => {
      const from = lastRevision.current
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
        if (e.revision <= lastRevision.current) return
        lastRevision.current = e.revision
        pending.push(e)
        frame ??= requestAnimationFrame(flush)
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
    // The recorded history in one NDJSON answer, folded at once (one render, not one per
    // frame of an SSE replay); then the live stream from the revision after it.
    const history = new AbortController()
    ok(
      client.GET("/v1/sessions/{id}/events", {
        params: { path: { id: sessionId } },
        headers: { Accept: "application/x-ndjson" },
        parseAs: "text",
        signal: history.signal
      })
    )
      .then((text) => {
        if (stopped) return
        for (const line of text.split("\n")) {
          if (line === "") continue
          const e = parseEvent(line)
          if (e.revision <= lastRevision.current) continue
          lastRevision.current = e.revision
          pending.push(e)
        }
        flush()
      })
      // Without it (an error answer, a dropped connection) the live stream replays everything.
      .catch(() => undefined)
      .finally(() => {
        if (!stopped) open()
      })
    return () => {
      stopped = true
      history.abort()
      source?.close()
      if (retry) clearTimeout(retry)
      if (frame !== undefined) cancelAnimationFrame(frame)
    }
  }, [sessionId])

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
