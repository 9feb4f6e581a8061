// The first screen: what needs you now (pending approvals, oldest first, with how long
// they waited and how long they have left), then every session in a dense table that
// changes as runs start, wait and end. j/k move through both, Enter opens.
import { infiniteQueryOptions, queryOptions, useInfiniteQuery, useQuery, useQueryClient } from "@tanstack/react-query"
import { useVirtualizer } from "@tanstack/react-virtual"
import { useEffect, useMemo, useRef, useState } from "react"
import { client, command, ok, type SessionRow, type SessionStatus } from "../api.ts"
import { ApprovalPanel, Waiting } from "../components/ApprovalPanel.tsx"
import { ago, shortId, tokens, toolSummary, usd } from "../format.ts"
import { useNow } from "../now.ts"
import { useKeys } from "../keys.ts"
import { usePaletteActions } from "../palette.tsx"
import { listPosition } from "../live.ts"
import { navigate } from "../router.ts"
import { rowHeight, rowTitle, sessionPath, statuses, statusLabel } from "../sessionRow.ts"

const isStatus = (s: string): s is SessionStatus => statuses.some((x) => x === s)
export { sessionPath }

export const pendingApprovalsQuery = () =>
  queryOptions({
    queryKey: ["approvals", "pending"],
    // Read again when the list feed (useListFeed) says something changed: no polling.
    queryFn: ({ signal }) => ok(client.GET("/v1/approvals", { params: { query: { status: "pending", limit: 200, minPosition: listPosition() } }, signal }))
  })
export const usePendingApprovals = () => useQuery(pendingApprovalsQuery())

export interface ListFilters {
  readonly status: SessionStatus | ""
  readonly archived: string
  readonly query: string
  readonly leaves: boolean
}
/** The list as the first screen opens it. */
export const firstFilters: ListFilters = { status: "", archived: "false", query: "", leaves: false }

/** The session list's pages under these filters (main.tsx asks for the first one before React has drawn anything). */
export const sessionsQuery = ({ status, archived, query, leaves }: ListFilters) =>
  infiniteQueryOptions({
    queryKey: ["sessions", { status, archived, query, leaves }],
    queryFn: ({ pageParam, signal }) =>
      ok(
        client.GET("/v1/sessions", {
          params: {
            query: {
              ...(status !== "" ? { status } : {}),
              ...(archived !== "all" ? { archived: archived === "true" } : {}),
              ...(query !== "" ? { q: query } : {}),
              ...(leaves ? { leaves: true } : {}),
              ...(pageParam !== undefined ? { cursor: pageParam } : {}),
              limit: 100,
              minPosition: listPosition()
            }
          },
          signal
        })
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined
  })

export const SessionsScreen = ({ searchRef }: { searchRef: React.RefObject<HTMLInputElement | null> }) => {
  const [status, setStatus] = useState<SessionStatus | "">("")
  const [archived, setArchived] = useState("false")
  const [leaves, setLeaves] = useState(false)
  const [q, setQ] = useState("")
  const [query, setQuery] = useState("")
  const [selected, setSelected] = useState(0)
  const queryClient = useQueryClient()
  useEffect(() => {
    const t = setTimeout(() => setQuery(q.trim()), 150)
    return () => clearTimeout(t)
  }, [q])

  const approvals = usePendingApprovals()
  const pending = useMemo(() => [...(approvals.data?.items ?? [])].sort((x, y) => x.requestedAt.localeCompare(y.requestedAt)), [approvals.data])

  const sessions = useInfiniteQuery({ ...sessionsQuery({ status, archived, query, leaves }), placeholderData: (prev) => prev })
  const rows = useMemo(() => sessions.data?.pages.flatMap((p) => p.items) ?? [], [sessions.data])
  const titles = useMemo(() => new Map(rows.map((r) => [r.sessionId, r.title ?? r.query])), [rows])

  const total = pending.length + rows.length
  const sel = Math.min(selected, Math.max(0, total - 1))
  const selectedApproval = sel < pending.length ? pending[sel] : undefined
  const selectedSession = sel >= pending.length ? rows[sel - pending.length] : undefined

  const scrollRef = useRef<HTMLDivElement>(null)
  const virtualizer = useVirtualizer({ count: rows.length, getScrollElement: () => scrollRef.current, estimateSize: () => rowHeight, overscan: 12 })
  const items = virtualizer.getVirtualItems()
  const lastIndex = items[items.length - 1]?.index ?? 0
  useEffect(() => {
    if (lastIndex >= rows.length - 20 && sessions.hasNextPage && !sessions.isFetchingNextPage) void sessions.fetchNextPage()
  }, [lastIndex, rows.length, sessions])

  const move = (delta: number) => {
    const next = Math.max(0, Math.min(total - 1, sel + delta))
    setSelected(next)
    if (next >= pending.length) virtualizer.scrollToIndex(next - pending.length, { align: "auto" })
  }
  const archive = async (s: SessionRow) => {
    await command(s.sessionId, s.archived ? "unarchive" : "archive")
    void queryClient.invalidateQueries({ queryKey: ["sessions"] })
  }
  useKeys({
    j: () => move(1),
    k: () => move(-1),
    ArrowDown: () => move(1),
    ArrowUp: () => move(-1),
    Enter: () => {
      if (selectedApproval) navigate(`/sessions/${selectedApproval.sessionId}`)
      else if (selectedSession) navigate(sessionPath(selectedSession))
    },
    c: () => navigate("/new"),
    e: () => selectedSession && void archive(selectedSession),
    "/": () => searchRef.current?.focus()
  })

  usePaletteActions([
    ...(selectedSession
      ? [
          { id: "l:open", group: "Sessions", label: `Open the selected session`, keys: "Enter", run: () => navigate(sessionPath(selectedSession)) },
          { id: "l:archive", group: "Sessions", label: selectedSession.archived ? "Unarchive the selected session" : "Archive the selected session", keys: "e", run: () => void archive(selectedSession) }
        ]
      : []),
    { id: "l:waiting", group: "Sessions", label: "Show sessions waiting for approval", run: () => setStatus("waiting_approval") },
    { id: "l:running", group: "Sessions", label: "Show running sessions", run: () => setStatus("running") },
    { id: "l:drafts", group: "Sessions", label: "Show drafts", run: () => setStatus("draft") },
    { id: "l:any", group: "Sessions", label: "Show sessions in any status", run: () => setStatus("") },
    { id: "l:archived", group: "Sessions", label: "Show archived sessions", run: () => setArchived("true") },
    { id: "l:active", group: "Sessions", label: "Show active sessions", run: () => setArchived("false") }
  ])

  const now = useNow(5000)
  const paddingTop = items[0]?.start ?? 0
  const paddingBottom = virtualizer.getTotalSize() - (items[items.length - 1]?.end ?? 0)

  return (
    <main className="sessions-screen">
      <section className="needs-you-list" aria-labelledby="needs-you-h">
        <h2 id="needs-you-h">
          Needs you <span className="count">({pending.length})</span>
        </h2>
        {pending.length === 0 ? (
          <p className="muted">Nothing is waiting for you.</p>
        ) : (
          <ul>
            {pending.map((a, i) => (
              <li key={a.approvalId} className={i === sel ? "selected" : ""} aria-current={i === sel ? "true" : undefined}>
                <button type="button" className="row-button" onClick={() => setSelected(i)}>
                  <span className="title">{titles.get(a.sessionId) ?? shortId(a.sessionId)}</span>
                  <span className="mono">
                    {a.toolName}: {toolSummary(a.toolName ?? "", a.input)}
                  </span>
                  <Waiting requestedAt={a.requestedAt} expiresAt={a.expiresAt} />
                </button>
                {i === sel && (
                  <div className="inline-approval">
                    <ApprovalPanel
                      key={a.approvalId}
                      approval={{ approvalId: a.approvalId, toolName: a.toolName ?? "tool", input: a.input, requestedAt: a.requestedAt, expiresAt: a.expiresAt }}
                      keyboard
                    />
                    <a href={`/sessions/${a.sessionId}`} onClick={link(`/sessions/${a.sessionId}`)}>
                      Open the session
                    </a>
                  </div>
                )}
              </li>
            ))}
          </ul>
        )}
      </section>

      <section className="list" aria-labelledby="sessions-h">
        <div className="toolbar">
          <h2 id="sessions-h">Sessions</h2>
          <label>
            <span className="sr-only">Search sessions</span>
            <input ref={searchRef} type="search" placeholder="Search title and query  /" value={q} onChange={(e) => setQ(e.target.value)} onKeyDown={(e) => {
                // Esc leaves the field with its text (a search field would clear itself).
                if (e.key !== "Escape") return
                e.preventDefault()
                e.currentTarget.blur()
              }} />
          </label>
          <label>
            Status{" "}
            <select value={status} onChange={(e) => setStatus(isStatus(e.target.value) ? e.target.value : "")}>
              <option value="">any</option>
              {statuses.map((s) => (
                <option key={s} value={s}>
                  {statusLabel(s)}
                </option>
              ))}
            </select>
          </label>
          <label>
            Show{" "}
            <select value={archived} onChange={(e) => setArchived(e.target.value)}>
              <option value="false">active</option>
              <option value="true">archived</option>
              <option value="all">all</option>
            </select>
          </label>
          <label title="Only sessions that no fork continues from their end">
            <input type="checkbox" checked={leaves} onChange={(e) => setLeaves(e.target.checked)} /> Leaves only
          </label>
        </div>
        {query.length >= 2 && <TranscriptHits q={query} titles={titles} />}
        {sessions.error ? (
          <p className="error" role="alert">
            Could not load the sessions: {sessions.error.message}
          </p>
        ) : null}
        <div className="table-scroll" ref={scrollRef}>
          <table className="sessions">
            <thead>
              <tr>
                <th scope="col">status</th>
                <th scope="col">title</th>
                <th scope="col">directory</th>
                <th scope="col">model</th>
                <th scope="col" className="num">cost</th>
                <th scope="col" className="num">tokens</th>
                <th scope="col" className="num">approvals</th>
                <th scope="col">last activity</th>
              </tr>
            </thead>
            <tbody>
              {paddingTop > 0 && (
                <tr aria-hidden="true" style={{ height: paddingTop }}>
                  <td colSpan={8} />
                </tr>
              )}
              {items.map((v) => {
                const s = rows[v.index]!
                const isSel = v.index + pending.length === sel
                return (
                  <tr
                    key={s.sessionId}
                    className={`${isSel ? "selected" : ""} ${s.archived ? "archived" : ""}`}
                    aria-selected={isSel}
                    data-session={s.sessionId}
                    style={{ height: rowHeight }}
                    onClick={() => setSelected(v.index + pending.length)}
                    onDoubleClick={() => navigate(sessionPath(s))}
                  >
                    <td>
                      <StatusBadge status={s.status} />
                    </td>
                    <td className="title">
                      <a href={sessionPath(s)} onClick={link(sessionPath(s))}>
                        {rowTitle(s)}
                      </a>
                      {s.archived && <span className="chip">archived</span>}
                    </td>
                    <td className="mono dir" title={s.cwd ?? ""}>
                      {s.cwd ?? ""}
                    </td>
                    <td className="mono">{s.model ?? ""}</td>
                    <td className="num mono">
                      <TraceLink sessionId={s.sessionId} figure="cost">
                        {usd(s.costUsd)}
                      </TraceLink>
                    </td>
                    <td className="num mono">
                      <TraceLink sessionId={s.sessionId} figure="tokens">
                        {tokens(s.inputTokens + s.outputTokens)}
                      </TraceLink>
                    </td>
                    <td className="num">
                      {s.pendingApprovals > 0 ? (
                        <TraceLink sessionId={s.sessionId} figure="approvals">
                          <span className="chip waiting">{s.pendingApprovals}</span>
                        </TraceLink>
                      ) : (
                        ""
                      )}
                    </td>
                    <td title={s.updatedAt}>{ago(s.updatedAt, now)}</td>
                  </tr>
                )
              })}
              {paddingBottom > 0 && (
                <tr aria-hidden="true" style={{ height: paddingBottom }}>
                  <td colSpan={8} />
                </tr>
              )}
            </tbody>
          </table>
          {rows.length === 0 && sessions.isSuccess && (
            <p className="empty">
              {query || status ? "No session matches." : "No sessions yet."} Press <kbd>c</kbd> to start one.
            </p>
          )}
        </div>
      </section>
    </main>
  )
}

/**
 * What the search words match inside transcripts (GET /v1/search: full text over what was
 * said and done), beside the list's own match on titles and first prompts. Each hit opens
 * its session's history at the revision it came from.
 */
const TranscriptHits = ({ q, titles }: { q: string; titles: ReadonlyMap<string, string> }) => {
  const hits = useQuery({
    queryKey: ["sessions", "search", q],
    queryFn: ({ signal }) => ok(client.GET("/v1/search", { params: { query: { q, limit: 20, minPosition: listPosition() } }, signal })),
    placeholderData: (prev) => prev
  })
  const items = hits.data?.items ?? []
  return (
    <details className="hits" open>
      <summary>
        In transcripts <span className="count">({hits.isPending ? "…" : items.length === 20 ? "20+" : items.length})</span>
      </summary>
      {hits.error ? <p className="error">Search failed: {hits.error.message}</p> : null}
      {items.length === 0 && hits.isSuccess ? <p className="muted">Nothing said or done in a session matches.</p> : null}
      <ul>
        {items.map((h) => {
          const to = `/sessions/${h.sessionId}?tab=history&rev=${h.revision}`
          return (
            <li key={`${h.sessionId}/${h.seq}`} data-hit={h.sessionId}>
              <a href={to} onClick={link(to)}>
                {titles.get(h.sessionId) ?? shortId(h.sessionId)}
              </a>{" "}
              <span className="muted mono">
                {h.toolName ?? h.kind.replace("_", " ")} @{h.revision}
              </span>{" "}
              <Snippet text={h.snippet} />
            </li>
          )
        })}
      </ul>
    </details>
  )
}

/** The search's snippet, what matched (in [brackets]) marked. */
const Snippet = ({ text }: { text: string }) => (
  <span className="snippet">
    {text.split(/\[([^[\]]*)\]/).map((part, i) => (i % 2 === 1 ? <mark key={i}>{part}</mark> : part))}
  </span>
)

export const StatusBadge = ({ status }: { status: string }) => <span className={`status status-${status}`}>{statusLabel(status)}</span>

/** A figure of the list, linking to the session with the events it comes from listed. */
const TraceLink = ({ sessionId, figure, children }: { sessionId: string; figure: string; children: React.ReactNode }) => {
  const to = `/sessions/${sessionId}?trace=${figure}`
  return (
    <a href={to} onClick={link(to)} className="figure" title={`${figure}: open the events it comes from`} tabIndex={-1}>
      {children}
    </a>
  )
}

/** A link that navigates inside the page (a plain click) and works as a link otherwise. */
export const link = (to: string) => (e: React.MouseEvent) => {
  if (e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey) return
  e.preventDefault()
  navigate(to)
}
