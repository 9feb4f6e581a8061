// The conversation, virtualised: only the entries in view are in the DOM, so a 10,000-entry
// transcript scrolls like a short one. While the reader is at the bottom it follows new
// entries; scrolling up stops that until they come back down.
import { useVirtualizer } from "@tanstack/react-virtual"
import { memo, useEffect, useLayoutEffect, useRef, useState } from "react"
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
  const firstPending = interactive ? entries.find((e) => e.approval?.decision === "pending")?.key : undefined
  const virtualizer = useVirtualizer({
    count: entries.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => 96,
    overscan: 6,
    getItemKey: (i) => entries[i]!.key
  })

  useLayoutEffect(() => {
    if (follow && entries.length > 0) virtualizer.scrollToIndex(entries.length - 1, { align: "end" })
  }, [entries.length, follow, virtualizer])

  // At the bottom or not, on each scroll, from the virtualizer's own figures (its offset, its
  // sizes, the view's height it keeps): reading the element's scrollHeight here forced a
  // layout per scroll event, the most of what scrolling a long transcript spent (the CPU
  // profile of `npm run bench`, BENCH_PROFILE=1, showed it).
  useEffect(() => {
    const el = scrollRef.current
    if (!el) return
    const onScroll = () => {
      const view = virtualizer.scrollRect?.height ?? 0
      if (view > 0) setFollow(virtualizer.getTotalSize() - (virtualizer.scrollOffset ?? 0) - view < 48)
    }
    el.addEventListener("scroll", onScroll, { passive: true })
    return () => el.removeEventListener("scroll", onScroll)
  }, [virtualizer])

  return (
    <div className="transcript" ref={scrollRef} tabIndex={0} role="log" aria-label="Transcript" aria-live="off" data-count={entries.length}>
      <div style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
        {virtualizer.getVirtualItems().map((v) => {
          const entry = entries[v.index]!
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
  const lines = entry.result?.text.split("\n").length ?? 0
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
      {entry.result && (
        <details className="output" open={lines <= 12}>
          <summary>
            {entry.result.isError ? "Error output" : "Output"} ({lines} {lines === 1 ? "line" : "lines"})
          </summary>
          <ToolOutput toolName={name} text={entry.result.text} isError={entry.result.isError} />
        </details>
      )}
    </article>
  )
}
