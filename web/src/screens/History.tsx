// The session's events as recorded (type, revision, time, source, data on demand) and the
// replay scrubber: drag to any revision and the transcript and status are the fold of the
// events up to it, not the read model.
import { useVirtualizer } from "@tanstack/react-virtual"
import { useCallback, useEffect, useRef, useState } from "react"
import type { EventView } from "../api.ts"
import { Code } from "../components/Code.tsx"
import { Transcript } from "../components/Transcript.tsx"
import { pretty, usd } from "../format.ts"
import { StatusBadge } from "./Sessions.tsx"
import { useReplay } from "./SessionView.tsx"

export const History = ({ sessionId, events, initialRevision, onRevision }: { sessionId: string; events: ReadonlyArray<EventView>; initialRevision: string | null; onRevision: (rev: number) => void }) => {
  const last = events[events.length - 1]?.revision ?? 0
  const [picked, setPicked] = useState<number | null>(initialRevision !== null && /^\d+$/.test(initialRevision) ? Number(initialRevision) : null)
  // A link to another revision of this history (a traced figure) moves the scrubber there.
  useEffect(() => {
    if (initialRevision !== null && /^\d+$/.test(initialRevision)) setPicked(Number(initialRevision))
  }, [initialRevision])
  const revision = Math.min(picked ?? last, last)
  const replay = useReplay(events, revision)
  const at = events.find((e) => e.revision === revision)
  const set = (r: number) => {
    setPicked(r)
    onRevision(r)
  }
  return (
    <div className="history">
      <div className="scrubber">
        <label htmlFor="scrubber">
          Replay at revision <strong className="mono">{revision}</strong> of {last}
        </label>
        <input id="scrubber" type="range" min={0} max={last} value={revision} onChange={(e) => set(Number(e.target.value))} />
        <span>
          <StatusBadge status={replay.status} /> {at ? <span className="mono">{at.type}</span> : null} · {at ? new Date(at.created).toLocaleString() : ""} ·{" "}
          {usd(replay.totals.costUsd)} · {replay.entries.length} entries
        </span>
        <button type="button" className="quiet small" onClick={() => set(last)} disabled={revision === last}>
          Now
        </button>
      </div>
      <div className="history-panes">
        <Transcript entries={replay.entries} interactive={false} sessionId={sessionId} />
        <EventList events={events} current={revision} onPick={set} />
      </div>
    </div>
  )
}

const eventHeight = () => 30

const EventList = ({ events, current, onPick }: { events: ReadonlyArray<EventView>; current: number; onPick: (rev: number) => void }) => {
  const ref = useRef<HTMLDivElement>(null)
  const [open, setOpen] = useState<number | null>(null)
  // A new getItemKey each render would have the virtualizer lay out every event again.
  const getItemKey = useCallback((i: number) => events[i]!.revision, [events])
  const v = useVirtualizer({ count: events.length, getScrollElement: () => ref.current, estimateSize: eventHeight, overscan: 10, getItemKey })
  return (
    <div className="events" ref={ref} tabIndex={0} aria-label="Recorded events">
      <div style={{ height: v.getTotalSize(), position: "relative" }}>
        {v.getVirtualItems().map((item) => {
          const e = events[item.index]!
          const source = typeof e.metadata.source === "string" ? e.metadata.source : ""
          return (
            <div key={item.key} data-index={item.index} ref={v.measureElement} className={`event ${e.revision === current ? "current" : ""} ${e.revision > current ? "future" : ""}`} style={{ position: "absolute", top: 0, width: "100%", transform: `translateY(${item.start}px)` }}>
              <div className="event-row">
                <button type="button" className="quiet small mono" onClick={() => onPick(e.revision)} title="Replay to here">
                  #{e.revision}
                </button>
                <span className="mono type">{e.type}</span>
                <span className="muted">{new Date(e.created).toLocaleTimeString()}</span>
                <span className="muted">{source}</span>
                <button type="button" className="quiet small" aria-expanded={open === e.revision} onClick={() => setOpen(open === e.revision ? null : e.revision)}>
                  data
                </button>
              </div>
              {open === e.revision && <Code code={pretty({ data: e.data, metadata: e.metadata, position: e.position, id: e.id })} language="json" />}
            </div>
          )
        })}
      </div>
    </div>
  )
}
