// One session, live: its transcript folded from the events as they stream in, the
// connection state, the totals, and what can be done to it (continue, fork, interrupt,
// archive, rename). History (with the replay scrubber) and Timeline read the same events.
import { useQuery, useQueryClient } from "@tanstack/react-query"
import { useCallback, useEffect, useMemo, useRef, useState } from "react"
import { client, command, failureText, ok, type EventView } from "../api.ts"
import { RevisionLink, Traced } from "../components/Trace.tsx"
import { Transcript } from "../components/Transcript.tsx"
import { foldUntil, type Entry, type Folded } from "../fold.ts"
import { tokens, usd } from "../format.ts"
import { useKeys } from "../keys.ts"
import { Alert } from "../components/Alert.tsx"
import { sessionQuery, useSessionEvents } from "../live.ts"
import { ConnectionState } from "../components/Connection.tsx"
import { navigate, useLocation } from "../router.ts"
import { usePaletteActions } from "../palette.tsx"
import { History } from "./History.tsx"
import { link, sessionPath, StatusBadge } from "./Sessions.tsx"
import { Timeline } from "./Timeline.tsx"

const active = (status: string) => status === "queued" || status === "running" || status === "waiting_approval"

export const SessionView = ({ sessionId }: { sessionId: string }) => {
  const { params } = useLocation()
  const tab = params.get("tab") ?? "transcript"
  const { events, folded, connection, complete } = useSessionEvents(sessionId)
  const setTab = (t: string) => navigate(`/sessions/${sessionId}${t === "transcript" ? "" : `?tab=${t}`}`, true)
  const promptRef = useRef<HTMLTextAreaElement>(null)
  const [error, setError] = useState<string | null>(null)
  const queryClient = useQueryClient()

  const run = async (f: () => Promise<unknown>) => {
    setError(null)
    try {
      await f()
      void queryClient.invalidateQueries({ queryKey: ["sessions"] })
    } catch (e) {
      setError(failureText(e))
    }
  }
  const interrupt = () => run(() => command(sessionId, "interrupt"))
  const archive = () => run(() => command(sessionId, folded.archived ? "unarchive" : "archive"))

  useKeys({
    i: () => active(folded.status) && void interrupt(),
    r: () => promptRef.current?.focus(),
    t: () => setTab("transcript"),
    h: () => setTab("history"),
    l: () => setTab("timeline")
  })

  const loaded = folded.revision >= 0
  // A draft is edited and launched in the form.
  useEffect(() => {
    if (folded.status === "draft" || folded.status === "discarded") navigate(sessionPath({ sessionId, status: folded.status }), true)
  }, [folded.status, sessionId])
  const [forkWanted, setForkWanted] = useState(0)
  const [forkFrom, setForkFrom] = useState<Entry | null>(null)
  const onFork = useCallback(
    (entry: Entry) => {
      setForkFrom(entry)
      setTimeout(() => promptRef.current?.focus(), 0)
    },
    [promptRef]
  )
  usePaletteActions([
    ...(active(folded.status) ? [{ id: "s:interrupt", group: "Session", label: "Interrupt the run", keys: "i", run: () => void interrupt() }] : []),
    ...(loaded ? [{ id: "s:archive", group: "Session", label: folded.archived ? "Unarchive this session" : "Archive this session", run: () => void archive() }] : []),
    { id: "s:continue", group: "Session", label: "Continue: write a prompt", keys: "r", run: () => (setTab("transcript"), setTimeout(() => promptRef.current?.focus(), 0)) },
    { id: "s:fork", group: "Session", label: "Fork into a new session", run: () => (setTab("transcript"), setForkWanted((n) => n + 1)) },
    { id: "s:transcript", group: "Session", label: "Show the transcript", keys: "t", run: () => setTab("transcript") },
    { id: "s:history", group: "Session", label: "Show the history (replay)", keys: "h", run: () => setTab("history") },
    { id: "s:timeline", group: "Session", label: "Show the timeline", keys: "l", run: () => setTab("timeline") },
    ...(["cost", "tokens", "turns", "runs", "approvals"] as const).map((f) => ({
      id: `s:trace:${f}`,
      group: "Trace",
      label: `Where the ${f} comes from`,
      run: () => navigate(`/sessions/${sessionId}?trace=${f}`, true)
    }))
  ])
  return (
    <main className="session-view" data-history={complete ? "complete" : "partial"}>
      <header className="session-head">
        <div className="line">
          <a href="/" onClick={link("/")} className="back">
            ← Sessions
          </a>
          <Title sessionId={sessionId} title={folded.title} fallback={folded.entries[0]?.text ?? ""} onError={setError} />
          {loaded && (
            <RevisionLink sessionId={sessionId} revision={folded.sources.status}>
              <StatusBadge status={folded.status} />
            </RevisionLink>
          )}
          {folded.archived && <span className="chip">archived</span>}
          <ConnectionState connection={connection} />
        </div>
        <div className="line facts">
          <span className="mono" title="working directory">{folded.cwd ?? "(service's directory)"}</span>
          <span className="mono">{folded.model ?? ""}</span>
          <Figures sessionId={sessionId} folded={folded} events={events} open={params.get("trace")} complete={complete} />
          <Family sessionId={sessionId} parentSessionId={folded.parentSessionId} />
          <span className="spacer" />
          <button type="button" onClick={() => void interrupt()} disabled={!active(folded.status)}>
            Interrupt <kbd>i</kbd>
          </button>
          <button type="button" onClick={() => void archive()} disabled={!loaded}>
            {folded.archived ? "Unarchive" : "Archive"}
          </button>
        </div>
        <Alert text={error} />
        <nav className="tabs" aria-label="Session views">
          {(["transcript", "history", "timeline"] as const).map((t) => (
            <button key={t} type="button" className={tab === t ? "current" : ""} aria-pressed={tab === t} onClick={() => setTab(t)}>
              {t[0]!.toUpperCase() + t.slice(1)} <kbd>{t === "timeline" ? "l" : t[0]}</kbd>
            </button>
          ))}
        </nav>
      </header>
      {tab !== "transcript" && !complete ? (
        <p className="empty" role="status">
          Reading the session's history…
        </p>
      ) : tab === "history" ? (
        <History sessionId={sessionId} events={events} initialRevision={params.get("rev")} onRevision={(rev) => navigate(`/sessions/${sessionId}?tab=history&rev=${rev}`, true)} />
      ) : tab === "timeline" ? (
        <Timeline events={events} />
      ) : (
        <>
          <Transcript entries={folded.entries} interactive sessionId={sessionId} onFork={onFork} />
          <Prompt sessionId={sessionId} folded={folded} promptRef={promptRef} forkWanted={forkWanted} forkFrom={forkFrom} onForkFromDone={() => setForkFrom(null)} />
        </>
      )}
    </main>
  )
}

const num = (e: EventView, k: string): number => (typeof e.data[k] === "number" ? e.data[k] : 0)
const usage = (e: EventView, k: string): number => {
  const u = e.data.usage
  return u !== null && typeof u === "object" && k in u ? Number(Object.getOwnPropertyDescriptor(u, k)?.value) || 0 : 0
}

/** The session's figures, each opening the events it is made of (`?trace=cost` opens one). */
const Figures = ({ sessionId, folded, events, open, complete }: { sessionId: string; folded: Folded; events: ReadonlyArray<EventView>; open: string | null; complete: boolean }) => {
  const t = folded.totals
  const src = folded.sources
  const common = { sessionId, events }
  // Until the events before the newest are read, the totals are the read model's and have no events to show.
  if (!complete)
    return (
      <span className="mono" title="the session's totals; the events they come from are being read">
        {usd(t.costUsd)} · {tokens(t.inputTokens)} in / {tokens(t.outputTokens)} out · {t.turns} turns · {t.runs} runs
      </span>
    )
  return (
    <>
      <Traced {...common} label="cost" value={usd(t.costUsd)} how="the sum of runCostUsd of" revisions={src.results} part={(e) => usd(num(e, "runCostUsd"))} open={open === "cost"} />
      <Traced
        {...common}
        label="tokens"
        value={`${tokens(t.inputTokens)} in / ${tokens(t.outputTokens)} out`}
        how="the sum of usage.input_tokens / output_tokens of"
        revisions={src.results}
        part={(e) => `${tokens(usage(e, "input_tokens"))} in / ${tokens(usage(e, "output_tokens"))} out`}
        open={open === "tokens"}
      />
      <Traced {...common} label="turns" value={`${t.turns} turns`} how="the sum of numTurns of" revisions={src.results} part={(e) => `${num(e, "numTurns")} turns`} open={open === "turns"} />
      <Traced {...common} label="runs" value={`${t.runs} runs`} how="the count of" revisions={src.runs} part={() => "+1"} open={open === "runs"} />
      <Traced
        {...common}
        label="approvals"
        value={`${src.approvals.length} approvals`}
        how="the count of"
        revisions={src.approvals}
        part={(e) => (typeof e.data.toolName === "string" ? e.data.toolName : "")}
        open={open === "approvals"}
      />
      <RevisionLink sessionId={sessionId} revision={folded.revision}>
        rev {folded.revision}
      </RevisionLink>
    </>
  )
}

/**
 * Where this session sits among its forks: the parent it was forked from (at one of its
 * messages, or at its end) and the sessions forked from it, as the API answers them
 * (`forkedAt`, `children`); read again with the lists when a lifecycle event arrives.
 */
const Family = ({ sessionId, parentSessionId }: { sessionId: string; parentSessionId: string | null }) => {
  const one = useQuery(sessionQuery(sessionId))
  const children = one.data?.children ?? []
  const parent = parentSessionId ?? one.data?.parentSessionId ?? null
  return (
    <>
      {parent && (
        <a href={`/sessions/${parent}`} onClick={link(`/sessions/${parent}`)} className="parent">
          forked from {parent.slice(0, 8)}
          {one.data?.forkedAt ? " (at an earlier message)" : ""}
        </a>
      )}
      {children.length > 0 && (
        <span className="forks">
          {children.length} {children.length === 1 ? "fork" : "forks"}:{" "}
          {children.map((c, i) => (
            <span key={c.sessionId}>
              {i > 0 && ", "}
              <a href={`/sessions/${c.sessionId}`} onClick={link(`/sessions/${c.sessionId}`)} title={c.forkedAt ? "forked from an earlier message" : "forked from the end"}>
                {c.title ?? c.sessionId.slice(0, 8)}
              </a>
              {c.forkedAt ? " (from a message)" : ""}
            </span>
          ))}
        </span>
      )}
    </>
  )
}

const Title = ({ sessionId, title, fallback, onError }: { sessionId: string; title: string | null; fallback: string; onError: (e: string) => void }) => {
  const [editing, setEditing] = useState(false)
  const [value, setValue] = useState("")
  if (!editing)
    return (
      <h2 className="session-title">
        {title ?? fallback.slice(0, 80)}{" "}
        <button
          type="button"
          className="quiet small"
          onClick={() => {
            setValue(title ?? "")
            setEditing(true)
          }}
        >
          Rename
        </button>
      </h2>
    )
  const save = async () => {
    try {
      await ok(client.PATCH("/v1/sessions/{id}", { params: { path: { id: sessionId } }, body: { title: value.trim() } }))
      setEditing(false)
    } catch (e) {
      onError(failureText(e))
    }
  }
  return (
    <form
      className="rename"
      onSubmit={(e) => {
        e.preventDefault()
        void save()
      }}
    >
      <label htmlFor="rename-title" className="sr-only">
        Title
      </label>
      <input id="rename-title" autoFocus value={value} onChange={(e) => setValue(e.target.value)} onKeyDown={(e) => e.key === "Escape" && setEditing(false)} />
      <button type="submit" className="primary small">
        Save
      </button>
    </form>
  )
}

interface PromptProps {
  readonly sessionId: string
  readonly folded: Folded
  readonly promptRef: React.RefObject<HTMLTextAreaElement | null>
  readonly forkWanted: number
  /** A prompt of the transcript to fork from (its place taken by this box's text). */
  readonly forkFrom: Entry | null
  readonly onForkFromDone: () => void
}

/** Continue (a new run in this session) or fork (a new session from this conversation, or from before one of its prompts). */
const Prompt = ({ sessionId, folded, promptRef, forkWanted, forkFrom, onForkFromDone }: PromptProps) => {
  const [text, setText] = useState("")
  const [forkChecked, setFork] = useState(false)
  const fork = forkChecked || forkFrom !== null
  // Forking from a prompt starts from that prompt's words, to be changed.
  useEffect(() => {
    if (forkFrom !== null) setText(forkFrom.text ?? "")
  }, [forkFrom])
  // The palette's "Fork into a new session": the box set to fork, ready for the prompt.
  useEffect(() => {
    if (forkWanted === 0) return
    setFork(true)
    promptRef.current?.focus()
  }, [forkWanted, promptRef])
  const [error, setError] = useState<string | null>(null)
  const [sending, setSending] = useState(false)
  const busy = active(folded.status)
  const send = async () => {
    if (text.trim() === "") return
    setSending(true)
    setError(null)
    try {
      const params = { path: { id: sessionId }, header: { "Idempotency-Key": crypto.randomUUID() } }
      const r = await ok(
        fork
          ? client.POST("/v1/sessions/{id}/fork", { params, body: { query: text, ...(forkFrom?.forkAt ? { atMessage: forkFrom.forkAt } : {}) } })
          : client.POST("/v1/sessions/{id}/continue", { params, body: { query: text } })
      )
      setText("")
      if (fork) {
        onForkFromDone()
        navigate(`/sessions/${r.sessionId}`)
      }
    } catch (e) {
      setError(failureText(e))
    } finally {
      setSending(false)
    }
  }
  const disabled = sending || (!fork && busy) || folded.revision < 0
  return (
    <form
      className="prompt"
      onSubmit={(e) => {
        e.preventDefault()
        void send()
      }}
    >
      {forkFrom && (
        <p className="fork-from">
          Forking from before “{(forkFrom.text ?? "").slice(0, 80)}” (revision {forkFrom.revision}): the new session has the conversation up to there, and this prompt in its place.{" "}
          <button type="button" className="quiet small" onClick={onForkFromDone}>
            Cancel the fork
          </button>
        </p>
      )}
      <label htmlFor="prompt-text" className="sr-only">
        {forkFrom ? "Prompt for the fork from that message" : fork ? "Prompt for the fork" : "Prompt to continue"}
      </label>
      <textarea
        id="prompt-text"
        ref={promptRef}
        rows={2}
        value={text}
        placeholder={busy && !fork ? "A run is active: continue when it ends, or fork" : fork ? "Fork: a new session from this conversation" : "Continue the conversation"}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
            e.preventDefault()
            if (!disabled) void send()
          } else if (e.key === "Escape") e.currentTarget.blur()
        }}
      />
      <div className="actions">
        <label className="inline">
          <input type="checkbox" checked={fork} disabled={forkFrom !== null} onChange={(e) => setFork(e.target.checked)} /> Fork into a new session
        </label>
        <button type="submit" className="primary" disabled={disabled}>
          {fork ? "Fork" : "Continue"} <kbd>Ctrl/⌘+Enter</kbd>
        </button>
      </div>
      <Alert text={error} />
    </form>
  )
}

/** The replayed session at a revision (History's scrubber). */
export const useReplay = (events: Parameters<typeof foldUntil>[0], revision: number) => useMemo(() => foldUntil(events, revision), [events, revision])

export const useFocusOnMount = (ref: React.RefObject<HTMLElement | null>) => useEffect(() => ref.current?.focus(), [ref])
