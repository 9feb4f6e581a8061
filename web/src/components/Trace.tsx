// Every figure on the page says where it comes from: a number opens the list of the events
// it was made of (stream, revision, type, what each one added), each a link to the history
// at that revision. This is what an append-only record can show and a dashboard over a
// mutable table cannot.
import type { EventView } from "../api.ts"
import { useEffect, useState } from "react"
import { navigate } from "../router.ts"

/** The history tab of this session at a revision. */
export const historyAt = (sessionId: string, revision: number): string => `/sessions/${sessionId}?tab=history&rev=${revision}`

export const RevisionLink = ({ sessionId, revision, children }: { sessionId: string; revision: number; children?: React.ReactNode }) => {
  const to = historyAt(sessionId, revision)
  return (
    <a
      href={to}
      className="mono rev-link"
      title={`the event at revision ${revision} of session-${sessionId}`}
      onClick={(e) => {
        if (e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey) return
        e.preventDefault()
        navigate(to)
      }}
    >
      {children ?? `rev ${revision}`}
    </a>
  )
}

export interface TracedProps {
  readonly sessionId: string
  /** What the figure is ("cost"), for the screen reader and the list's heading. */
  readonly label: string
  /** The figure as shown. */
  readonly value: string
  /** How it is made of the events ("the sum of runCostUsd of"). */
  readonly how: string
  readonly revisions: ReadonlyArray<number>
  readonly events: ReadonlyArray<EventView>
  /** What one event added to the figure. */
  readonly part: (e: EventView) => string
  readonly open?: boolean
}

export const Traced = ({ sessionId, label, value, how, revisions, events, part, open }: TracedProps) => {
  // The list is put in the page when opened: a long session's figures are made of thousands of events.
  const [shown, setShown] = useState(open === true)
  useEffect(() => {
    if (open) setShown(true)
  }, [open])
  return (
    <details className="trace" open={open} data-trace={label} onToggle={(e) => setShown(e.currentTarget.open)}>
      <summary title={`${label}: show the events it comes from`}>
        <span className="mono">{value}</span>
        <span className="sr-only"> {label}, from {revisions.length} events</span>
      </summary>
      <div className="trace-pop">
        <p>
          {label} = {how} {revisions.length} {revisions.length === 1 ? "event" : "events"} of <span className="mono">session-{sessionId}</span>
          {revisions.length === 0 ? " (none yet)" : ":"}
        </p>
        {shown && revisions.length > 0 && (
          <ol>
            {revisions.map((r) => {
              const e = eventAt(events, r)
              return (
                <li key={r}>
                  <RevisionLink sessionId={sessionId} revision={r} /> <span className="mono">{e?.type ?? ""}</span> {e ? part(e) : ""}
                </li>
              )
            })}
          </ol>
        )}
      </div>
    </details>
  )
}

/** A stream's events are its revisions 0..n in order: the index is the revision (a search if a gap ever breaks that). */
export const eventAt = (events: ReadonlyArray<EventView>, revision: number): EventView | undefined => {
  const e = events[revision]
  return e?.revision === revision ? e : events.find((x) => x.revision === revision)
}
