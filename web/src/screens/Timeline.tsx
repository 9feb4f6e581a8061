// Where the time went: runs, tool calls (request to result) and approval waits as bars on
// one time axis, from the same events as the transcript. Hover a bar for its numbers.
import type { EventView } from "../api.ts"
import { spans } from "../fold.ts"
import { duration } from "../format.ts"
import { useNow } from "../now.ts"

const laneOf = { run: 0, approval: 1, tool: 2, interrupt: 0 } as const
const laneNames = ["runs", "approval waits", "tool calls"]

export const Timeline = ({ events }: { events: ReadonlyArray<EventView> }) => {
  const now = useNow(1000)
  const all = spans(events)
  if (all.length === 0) return <p className="empty">Nothing has run yet.</p>
  const t0 = Math.min(...all.map((s) => s.start))
  const t1 = Math.max(now, ...all.map((s) => s.end ?? now))
  const width = 1000
  const x = (t: number) => ((t - t0) / Math.max(1, t1 - t0)) * width
  // Tool calls stack in sub-rows so overlapping calls stay visible.
  const rowEnds: Array<number> = []
  const placed = all.map((s) => {
    if (s.kind !== "tool") return { s, y: laneOf[s.kind] * 28 }
    let r = rowEnds.findIndex((end) => end <= s.start)
    if (r < 0) r = rowEnds.length
    rowEnds[r] = s.end ?? now
    return { s, y: 56 + r * 18 }
  })
  const height = 80 + Math.max(1, rowEnds.length) * 18
  const ticks = [0, 0.25, 0.5, 0.75, 1]
  return (
    <figure className="timeline">
      <figcaption>
        {duration(t1 - t0)} from the first run to {all.some((s) => s.end === null) ? "now" : "the end"} ·{" "}
        {laneNames.map((n) => (
          <span key={n} className={`legend legend-${n.split(" ")[0]}`}>
            {n}
          </span>
        ))}
      </figcaption>
      <svg viewBox={`-4 0 ${width + 8} ${height}`} role="img" aria-label="Session timeline">
        {ticks.map((f) => (
          <g key={f}>
            <line className="tick-line" x1={f * width} x2={f * width} y1={0} y2={height - 14} />
            <text className="tick" x={f * width} y={height - 2} textAnchor={f === 0 ? "start" : f === 1 ? "end" : "middle"}>
              {duration(f * (t1 - t0))}
            </text>
          </g>
        ))}
        {placed.map(({ s, y }, i) => {
          const end = s.end ?? now
          const w = Math.max(2, x(end) - x(s.start))
          return (
            <g key={i} className={`span ${s.kind} ${s.outcome ?? "open"}`}>
              <rect x={x(s.start)} y={y} width={w} height={s.kind === "tool" ? 14 : 22} rx={2}>
                <title>{`${s.label}: ${duration(end - s.start)}${s.outcome ? ` (${s.outcome})` : " (open)"} · rev ${s.revision}`}</title>
              </rect>
              {w > 60 && (
                <text x={x(s.start) + 4} y={y + (s.kind === "tool" ? 11 : 15)}>
                  {s.label}
                </text>
              )}
            </g>
          )
        })}
      </svg>
    </figure>
  )
}
