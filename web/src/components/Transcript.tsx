// The conversation, virtualised: only the entries in view are in the DOM, so a 10,000-entry
// transcript scrolls like a short one. While the reader is at the bottom it follows new
// entries; scrolling up stops that until they come back down.
import { useVirtualizer } from "@tanstack/react-virtual"
import { memo, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react"
import type { Entry } from "../fold.ts"
import { duration, tokens, toolSummary, usd } from "../format.ts"
import { ApprovalPanel } from "./ApprovalPanel.tsx"
import { RevisionLink } from "./Trace.tsx"
import { Markdown } from "./Markdown.tsx"
import { ToolInput, ToolOutput } from "./ToolInput.tsx"

export interface TranscriptProps {
  readonly entries: ReadonlyArray<Entry>
  /** Approvals can be answered (live view, not a replay). */
  readonly interactive: boolean
  /** For the links from a figure or a decision to its event. */
  readonly sessionId: string
  /** Offers "Fork from here" on the prompts that have a fork point (the live view). */
  readonly onFork?: (entry: Entry) => void
}

export const Transcript = ({ entries, interactive, sessionId, onFork }: TranscriptProps) => {
  const scrollRef = useRef<HTMLDivElement>(null)
  const [follow, setFollow] = useState(true)
  const firstPending = useMemo(() => (interactive ? entries.find((e) => e.approval?.decision === "pending")?.key : undefined), [entries, interactive])
  // The same functions while the entries are the same: the virtualizer lays every entry out
  // again (10,000 of them, each render of a scroll) when getItemKey is a new function.
  const estimateSize = useCallback((i: number) => estimateHeight(entries[i]!), [entries])
  const getItemKey = useCallback((i: number) => entries[i]!.key, [entries])
  const virtualizer = useVirtualizer({
    count: entries.length,
    getScrollElement: () => scrollRef.current,
    // Close to the drawn height, so that mounting an entry seldom moves the ones after it
    // (each correction re-lays the list out from there).
    estimateSize,
    overscan: 2,
    getItemKey,
    // A render per frame, batched by React, instead of one synchronous render per scroll
    // event and per measured entry (the profile of a scroll showed them back to back).
    useFlushSync: false
  })

  useLayoutEffect(() => {
    if (follow && entries.length > 0) virtualizer.scrollToIndex(entries.length - 1, { align: "end" })
  }, [entries.length, follow, virtualizer])

  // The entries before the newest arrive after them (the page draws a long session's end
  // first): a reader who has scrolled up stays on the entry they were reading.
  const firstKey = entries[0]?.key
  const reading = useRef<string | undefined>(undefined)
  const shownFirst = useRef(firstKey)
  useLayoutEffect(() => {
    if (shownFirst.current === firstKey) return
    shownFirst.current = firstKey
    const at = reading.current === undefined ? -1 : entries.findIndex((e) => e.key === reading.current)
    if (!follow && at >= 0) virtualizer.scrollToIndex(at, { align: "start" })
  }, [firstKey, entries, follow, virtualizer])

  // A fling: see `Sketch`. Two scroll events in a row, each a good part of a screen from the
  // last, within a frame or so of each other; over when none has come for `flingEndMs`.
  const [fling, setFling] = useState(false)

  // At the bottom or not, on each scroll, from the virtualizer's own figures (its offset, its
  // sizes, the view's height it keeps): reading the element's scrollHeight here forced a
  // layout per scroll event, the most of what scrolling a long transcript spent (the CPU
  // profile of `npm run bench`, BENCH_PROFILE=1, showed it).
  useEffect(() => {
    const el = scrollRef.current
    if (!el) return
    let last = { offset: virtualizer.scrollOffset ?? 0, at: 0 }
    let streak = 0
    let flinging = false
    let ends: ReturnType<typeof setTimeout> | undefined
    const onScroll = () => {
      const view = virtualizer.scrollRect?.height ?? 0
      const offset = virtualizer.scrollOffset ?? 0
      if (view > 0) setFollow(virtualizer.getTotalSize() - offset - view < 48)
      reading.current = virtualizer.getVirtualItems().find((v) => v.end > offset)?.key.toString()
      const at = performance.now()
      const fast = view > 0 && Math.abs(offset - last.offset) >= view * 0.75 && at - last.at < 100
      last = { offset, at }
      streak = fast ? streak + 1 : 0
      if (streak >= 2 && !flinging) {
        flinging = true
        setFling(true)
      }
      if (flinging && fast) {
        clearTimeout(ends)
        ends = setTimeout(() => {
          flinging = false
          setFling(false)
        }, flingEndMs)
      }
    }
    el.addEventListener("scroll", onScroll, { passive: true })
    return () => {
      el.removeEventListener("scroll", onScroll)
      clearTimeout(ends)
    }
  }, [virtualizer])

  // The entries drawn in full in the last render stay so during a fling.
  const full = useRef<ReadonlySet<Key>>(new Set())
  const drawnFull = new Set<Key>()
  useLayoutEffect(() => {
    full.current = drawnFull
  })

  return (
    <div className="transcript" ref={scrollRef} tabIndex={0} role="log" aria-label="Transcript" aria-live="off" data-count={entries.length}>
      <div style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
        {virtualizer.getVirtualItems().map((v) => {
          const entry = entries[v.index]!
          if (fling && !full.current.has(v.key)) return <Sketch key={v.key} entry={entry} index={v.index} start={v.start} size={v.size} />
          drawnFull.add(v.key)
          return (
            <div
              key={v.key}
              data-index={v.index}
              ref={virtualizer.measureElement}
              className="entry-slot"
              style={{ position: "absolute", top: 0, left: 0, width: "100%", transform: `translateY(${v.start}px)` }}
            >
              <EntryView entry={entry} interactive={interactive} keyboard={entry.key === firstPending} sessionId={sessionId} onFork={onFork} />
            </div>
          )
        })}
      </div>
      {!follow && entries.length > 0 && (
        <button type="button" className="follow" onClick={() => setFollow(true)}>
          ↓ Follow
        </button>
      )}
    </div>
  )
}

type Key = string | number | bigint

/** How long after the last fast scroll event a fling is over and the entries in view are drawn in full. */
const flingEndMs = 150

const sketchText = (entry: Entry): string => {
  switch (entry.kind) {
    case "user_text":
      return `You: ${entry.text ?? ""}`
    case "assistant_text":
      return `Claude: ${entry.text ?? ""}`
    case "tool_call":
      return `${entry.toolName ?? "tool"} ${toolSummary(entry.toolName ?? "", entry.input)}`
    case "result":
      return "Result"
    case "thinking":
      return "Thinking"
    default:
      return entry.text ?? entry.kind
  }
}

/**
 * An entry entering the view during a fling (faster than about a screen a frame: the
 * scrollbar dragged, a flick, the bench's end-to-end scroll): its first line, at the size the
 * virtualizer has for it (measured before, or estimated), without being measured. Every frame
 * of a fling mounts a whole screen of new entries; drawn in full, that was each frame's
 * React commit, style, layout and paint of ~12 entries and the garbage of the ones it left,
 * the long tasks of the bench's scroll. Nobody reads at that speed: the entries are drawn in
 * full (and measured) when the scroll slows.
 */
const Sketch = ({ entry, index, start, size }: { entry: Entry; index: number; start: number; size: number }) => {
  const text = sketchText(entry)
  return (
    <div data-index={index} className={`entry-slot sketch sketch-${entry.kind}`} style={{ position: "absolute", top: 0, left: 0, width: "100%", height: size, transform: `translateY(${start}px)` }}>
      {text.slice(0, 200)}
    </div>
  )
}

/** Lines of text at about the transcript's width (its line breaks, and its length wrapped), counted up to 60. */
const textLines = (text: string): number => Math.min(60, countLines(text, 60) + Math.floor(text.length / 110))

// The virtualizer asks again for every entry after the one whose size it corrected.
const estimates = new WeakMap<Entry, number>()

/** About how tall an entry is drawn (styles.css), from what it holds. */
export const estimateHeight = (entry: Entry): number => {
  let h = estimates.get(entry)
  if (h === undefined) estimates.set(entry, (h = estimateOf(entry)))
  return h
}

const estimateOf = (entry: Entry): number => {
  switch (entry.kind) {
    case "user_text":
    case "assistant_text":
      return 44 + 20 * textLines(entry.text ?? "")
    case "tool_call": {
      const out = entry.result ? countLines(entry.result.text, openLines + 1) : 0
      return 104 + (entry.result ? 26 + (out <= openLines ? 18 * out : 0) : 0)
    }
    case "result":
      return 60 + (entry.text ? 20 * Math.min(textLines(entry.text), 30) : 0)
    case "thinking":
      return 40
    default:
      return 24
  }
}

/** A tool's output of at most this many lines is shown open; a longer one is collapsed. */
const openLines = 12

type EntryProps = { entry: Entry; interactive: boolean; keyboard: boolean; sessionId: string; onFork?: ((entry: Entry) => void) | undefined }
const EntryView = memo(({ entry, interactive, keyboard, sessionId, onFork }: EntryProps) => {
  const nested = entry.parentToolUseId ? " nested" : ""
  switch (entry.kind) {
    case "user_text":
      return (
        <article className={`entry user${nested}`} data-kind="user_text" data-revision={entry.revision}>
          <h3 className="who">
            You
            {onFork && entry.forkAt && (
              <button type="button" className="quiet small fork-here" onClick={() => onFork(entry)} title="A new session with the conversation as it was before this prompt, and your prompt in its place">
                Fork from here
              </button>
            )}
          </h3>
          <Markdown text={entry.text ?? ""} />
        </article>
      )
    case "assistant_text":
      return (
        <article className={`entry assistant${nested}`} data-kind="assistant_text" data-revision={entry.revision}>
          <h3 className="who">Claude</h3>
          <Markdown text={entry.text ?? ""} />
        </article>
      )
    case "thinking":
      return (
        <details className={`entry thinking${nested}`} data-kind="thinking" data-revision={entry.revision}>
          <summary>Thinking</summary>
          <p className="pre">{entry.text}</p>
        </details>
      )
    case "tool_call":
      return <ToolCall entry={entry} interactive={interactive} keyboard={keyboard} sessionId={sessionId} />
    case "result": {
      const d = entry.data ?? {}
      const n = (k: string) => (typeof d[k] === "number" ? (d[k] as number) : 0)
      return (
        <article className={`entry result${d.isError ? " failed" : ""}`} data-kind="result" data-revision={entry.revision}>
          <h3 className="who">Result {d.isError ? "(error)" : ""}</h3>
          {entry.text ? <Markdown text={entry.text} /> : null}
          <p className="figures mono" title={`recorded at revision ${entry.revision}`}>
            {usd(n("runCostUsd"))} · {tokens(n("inputTokens"))} in / {tokens(n("outputTokens"))} out · {n("numTurns")} turns ·{" "}
            {duration(n("durationMs"))} · <RevisionLink sessionId={sessionId} revision={entry.revision} />
          </p>
        </article>
      )
    }
    case "system":
      return (
        <p className="entry notice" data-kind="system" data-revision={entry.revision}>
          system: {entry.text}
        </p>
      )
    case "error":
      return (
        <p className="entry notice error" data-kind="error" role="status" data-revision={entry.revision}>
          Run failed: {entry.text}
        </p>
      )
    case "interrupted":
      return (
        <p className="entry notice" data-kind="interrupted" data-revision={entry.revision}>
          Interrupted
        </p>
      )
    case "abandoned":
      return (
        <p className="entry notice" data-kind="abandoned" data-revision={entry.revision}>
          Abandoned: {entry.text}
        </p>
      )
  }
})

/** A decision in the words of what was asked: a rejected plan is "Plan rejected", never "Allowed". */
const verdict = (kind: "question" | "plan" | undefined, decision: "allow" | "deny"): string =>
  kind === "plan"
    ? decision === "allow" ? "Plan accepted" : "Plan rejected"
    : kind === "question"
      ? decision === "allow" ? "Answered" : "Question declined"
      : decision === "allow" ? "Allowed" : "Denied"

const ToolCall = ({ entry, interactive, keyboard, sessionId }: { entry: Entry; interactive: boolean; keyboard: boolean; sessionId: string }) => {
  const name = entry.toolName ?? "tool"
  const a = entry.approval
  const state = a?.decision === "pending" ? "waiting" : a?.decision === "deny" ? "denied" : entry.result ? (entry.result.isError ? "error" : "done") : "running"
  const lines = entry.result ? countLines(entry.result.text) : 0
  return (
    <article className={`entry tool${entry.parentToolUseId ? " nested" : ""}`} data-kind="tool_call" data-tool={name} data-state={state} data-revision={entry.revision}>
      <h3 className="who">
        <span className="mono tool-name">{name}</span> <span className="mono summary">{toolSummary(name, entry.input)}</span>{" "}
        <span className={`chip ${state}`}>{state}</span>
      </h3>
      {a?.decision === "pending" && interactive ? (
        <ApprovalPanel
          approval={{ approvalId: a.approvalId, toolName: name, input: entry.input ?? a.input, requestedAt: a.requestedAt, expiresAt: a.expiresAt }}
          keyboard={keyboard}
        />
      ) : (
        <ToolInput toolName={name} input={a?.updatedInput ?? entry.input} />
      )}
      {a && a.decision !== "pending" && (
        <p className={`decision ${a.decision}`}>
          {verdict(a.kind, a.decision)} by <span className="mono decider">{a.decidedBy}</span>
          {a.reason ? ` (${a.reason})` : ""}
          {a.message ? `: “${a.message}”` : ""}
          {a.updatedInput ? " with edited input" : ""}
          {a.decidedRevision !== null && (
            <>
              {" "}
              <RevisionLink sessionId={sessionId} revision={a.decidedRevision} />
            </>
          )}
        </p>
      )}
      {entry.result && <Output toolName={name} result={entry.result} lines={lines} />}
    </article>
  )
}

/** The lines of a text, counted up to `upTo`. */
const countLines = (text: string, upTo = Infinity): number => {
  let n = 1
  for (let i = text.indexOf("\n"); i !== -1 && n < upTo; i = text.indexOf("\n", i + 1)) n++
  return n
}

/**
 * A tool's output: open when short; a long one collapsed, and its text put in the page only
 * when opened (a closed <details> still costs the DOM, the highlighting and the layout of
 * everything in it, for each entry mounted while scrolling).
 */
const Output = ({ toolName, result, lines }: { toolName: string; result: NonNullable<Entry["result"]>; lines: number }) => {
  const [open, setOpen] = useState(lines <= openLines)
  return (
    <details className="output" open={open} onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>
        {result.isError ? "Error output" : "Output"} ({lines} {lines === 1 ? "line" : "lines"})
      </summary>
      {open && <ToolOutput toolName={toolName} text={result.text} isError={result.isError} />}
    </details>
  )
}
