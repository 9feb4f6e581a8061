// Who allowed what, across every session: tool calls (by tool, decision, decider, time),
// approvals (with how long they waited and why the system decided when nobody did) and
// events (by type and time). Each row links to its session; the filtered rows export as
// CSV or NDJSON.
import { useQuery } from "@tanstack/react-query"
import { useMemo, useState } from "react"
import { client, ok, type ApprovalRow, type EventView, type operations, type ToolCallRow } from "../api.ts"
import { duration, shortId, toolSummary } from "../format.ts"
import { link } from "./Sessions.tsx"

type Tab = "tool-calls" | "approvals" | "events"
type Rows =
  | { readonly tab: "tool-calls"; readonly rows: ReadonlyArray<ToolCallRow> }
  | { readonly tab: "approvals"; readonly rows: ReadonlyArray<ApprovalRow> }
  | { readonly tab: "events"; readonly rows: ReadonlyArray<EventView> }
type ToolCallQuery = NonNullable<operations["listToolCalls"]["parameters"]["query"]>
type ApprovalQuery = NonNullable<operations["listApprovals"]["parameters"]["query"]>
const decisions: ReadonlyArray<NonNullable<ToolCallQuery["decision"]>> = ["allow", "deny", "pending", "none"]
const approvalStatuses: ReadonlyArray<NonNullable<ApprovalQuery["status"]>> = ["pending", "allowed", "denied"]
/** The option picked, as the API's value ("" is any). */
const pick = <T extends string>(values: ReadonlyArray<T>, v: string): T | undefined => values.find((x) => x === v)

const iso = (local: string): string | undefined => (local === "" ? undefined : new Date(local).toISOString())

export const toCsv = (rows: ReadonlyArray<object>): string => {
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))]
  const cell = (v: unknown) => {
    const s = v === null || v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v)
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
  }
  return [cols.join(","), ...rows.map((r) => cols.map((c) => cell(Object.getOwnPropertyDescriptor(r, c)?.value)).join(","))].join("\r\n") + "\r\n"
}

export const toNdjson = (rows: ReadonlyArray<unknown>): string => rows.map((r) => JSON.stringify(r)).join("\n") + (rows.length ? "\n" : "")

const download = (name: string, type: string, text: string) => {
  const url = URL.createObjectURL(new Blob([text], { type }))
  const a = document.createElement("a")
  a.href = url
  a.download = name
  a.click()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}

export const AuditScreen = () => {
  const [tab, setTab] = useState<Tab>("tool-calls")
  const [tool, setTool] = useState("")
  const [decision, setDecision] = useState<ToolCallQuery["decision"]>(undefined)
  const [decider, setDecider] = useState("")
  const [actor, setActor] = useState("")
  const [status, setStatus] = useState<ApprovalQuery["status"]>(undefined)
  const [type, setType] = useState("")
  const [after, setAfter] = useState("")
  const [before, setBefore] = useState("")

  // Who decided / who appended: the API's filters (exact names), so they reach past the page shown.
  const decidedBy = decider.trim() || undefined
  const appendedBy = actor.trim() || undefined
  const toolCalls = useQuery({
    queryKey: ["audit", "tool-calls", tool, decision, decidedBy, after, before],
    queryFn: ({ signal }) =>
      ok(client.GET("/v1/tool-calls", { params: { query: { tool: tool || undefined, decision, decidedBy, after: iso(after), before: iso(before), limit: 200 } }, signal })),
    enabled: tab === "tool-calls",
    refetchInterval: 5000
  })
  const approvals = useQuery({
    queryKey: ["audit", "approvals", status, decidedBy],
    queryFn: ({ signal }) => ok(client.GET("/v1/approvals", { params: { query: { status, decidedBy, limit: 200 } }, signal })),
    enabled: tab === "approvals",
    refetchInterval: 5000
  })
  const events = useQuery({
    queryKey: ["audit", "events", type, appendedBy, after, before],
    queryFn: ({ signal }) =>
      ok(client.GET("/v1/events", { params: { query: { type: type || undefined, actor: appendedBy, after: iso(after), before: iso(before), limit: 500 } }, signal })),
    enabled: tab === "events",
    refetchInterval: 5000
  })

  const rows = useMemo((): Rows => {
    if (tab === "tool-calls") return { tab, rows: toolCalls.data?.items ?? [] }
    if (tab === "approvals") return { tab, rows: approvals.data?.items ?? [] }
    return { tab, rows: events.data?.items ?? [] }
  }, [tab, toolCalls.data, approvals.data, events.data])
  const q = tab === "tool-calls" ? toolCalls : tab === "approvals" ? approvals : events

  return (
    <main className="audit">
      <h2>Audit</h2>
      <nav className="tabs" aria-label="Audit views">
        {(["tool-calls", "approvals", "events"] as const).map((t) => (
          <button key={t} type="button" className={tab === t ? "current" : ""} aria-pressed={tab === t} onClick={() => setTab(t)}>
            {t.replace("-", " ")}
          </button>
        ))}
      </nav>
      <form className="filters" onSubmit={(e) => e.preventDefault()}>
        {tab === "tool-calls" && (
          <>
            <label>
              Tool <input value={tool} onChange={(e) => setTool(e.target.value)} placeholder="Bash" className="mono" />
            </label>
            <label>
              Decision{" "}
              <select value={decision ?? ""} onChange={(e) => setDecision(pick(decisions, e.target.value))}>
                <option value="">any</option>
                <option value="allow">allowed</option>
                <option value="deny">denied</option>
                <option value="pending">pending</option>
                <option value="none">no approval needed</option>
              </select>
            </label>
          </>
        )}
        {tab === "approvals" && (
          <label>
            Status{" "}
            <select value={status ?? ""} onChange={(e) => setStatus(pick(approvalStatuses, e.target.value))}>
              <option value="">any</option>
              <option value="pending">pending</option>
              <option value="allowed">allowed</option>
              <option value="denied">denied</option>
            </select>
          </label>
        )}
        {tab !== "events" && (
          <label>
            Decided by <input value={decider} onChange={(e) => setDecider(e.target.value)} placeholder="web, api, agentlog" className="mono" />
          </label>
        )}
        {tab === "events" && (
          <>
            <label>
              Types <input value={type} onChange={(e) => setType(e.target.value)} placeholder="ApprovalDecided,RunFailed" className="mono" />
            </label>
            <label>
              Appended by <input value={actor} onChange={(e) => setActor(e.target.value)} placeholder="web, supervisor, claude" className="mono" />
            </label>
          </>
        )}
        {tab !== "approvals" && (
          <>
            <label>
              After <input type="datetime-local" value={after} onChange={(e) => setAfter(e.target.value)} />
            </label>
            <label>
              Before <input type="datetime-local" value={before} onChange={(e) => setBefore(e.target.value)} />
            </label>
          </>
        )}
        <span className="spacer" />
        <button type="button" onClick={() => download(`agentlog-${tab}.csv`, "text/csv", toCsv(rows.rows))} disabled={rows.rows.length === 0}>
          Export CSV
        </button>
        <button type="button" onClick={() => download(`agentlog-${tab}.ndjson`, "application/x-ndjson", toNdjson(rows.rows))} disabled={rows.rows.length === 0}>
          Export NDJSON
        </button>
      </form>
      {q.error ? (
        <p className="error" role="alert">
          {q.error.message}
        </p>
      ) : null}
      <p className="muted" role="status">
        {rows.rows.length} {rows.rows.length === 1 ? "row" : "rows"}{q.data?.nextCursor ? " (the newest; narrow the filters to see older ones)" : ""}
      </p>
      <div className="table-scroll">
        {rows.tab === "tool-calls" && <ToolCallsTable rows={rows.rows} />}
        {rows.tab === "approvals" && <ApprovalsTable rows={rows.rows} />}
        {rows.tab === "events" && <EventsTable rows={rows.rows} />}
      </div>
    </main>
  )
}

const SessionLink = ({ id, rev }: { id: string; rev?: number }) => {
  const to = `/sessions/${id}${rev !== undefined ? `?tab=history&rev=${rev}` : ""}`
  return (
    <a href={to} onClick={link(to)} className="mono">
      {shortId(id)}
      {rev !== undefined ? `@${rev}` : ""}
    </a>
  )
}

const ToolCallsTable = ({ rows }: { rows: ReadonlyArray<ToolCallRow> }) => (
  <table className="audit-table">
    <thead>
      <tr>
        <th scope="col">requested</th>
        <th scope="col">session</th>
        <th scope="col">tool</th>
        <th scope="col">input</th>
        <th scope="col">decision</th>
        <th scope="col">decided by</th>
        <th scope="col">message / reason</th>
        <th scope="col" className="num">took</th>
      </tr>
    </thead>
    <tbody>
      {rows.map((r) => (
        <tr key={`${r.sessionId}/${r.toolUseId}`} data-tool-call={r.toolUseId}>
          <td>{new Date(r.requestedAt).toLocaleString()}</td>
          <td>
            <SessionLink id={r.sessionId} />
          </td>
          <td className="mono">{r.toolName}</td>
          <td className="mono clip">{toolSummary(r.toolName ?? "", r.input)}</td>
          <td>{r.decision ? <span className={`chip ${r.decision}`}>{r.decision}</span> : <span className="muted">—</span>}</td>
          <td className="mono decider">{r.decidedBy ?? ""}</td>
          <td>{[r.decisionMessage, r.decisionReason].filter(Boolean).join(" · ")}</td>
          <td className="num">{typeof r.durationMs === "number" ? duration(r.durationMs) : (r.durationMs ?? "")}</td>
        </tr>
      ))}
    </tbody>
  </table>
)

const ApprovalsTable = ({ rows }: { rows: ReadonlyArray<ApprovalRow> }) => (
  <table className="audit-table">
    <thead>
      <tr>
        <th scope="col">requested</th>
        <th scope="col">session</th>
        <th scope="col">tool</th>
        <th scope="col">status</th>
        <th scope="col">decided by</th>
        <th scope="col" className="num">waited</th>
        <th scope="col">message / reason</th>
      </tr>
    </thead>
    <tbody>
      {rows.map((r) => (
        <tr key={r.approvalId}>
          <td>{new Date(r.requestedAt).toLocaleString()}</td>
          <td>
            <SessionLink id={r.sessionId} />
          </td>
          <td className="mono">
            {r.toolName}: {toolSummary(r.toolName ?? "", r.input)}
          </td>
          <td>
            <span className={`chip ${r.status}`}>{r.status}</span>
          </td>
          <td className="mono decider">{r.decidedBy ?? ""}</td>
          <td className="num">{r.decidedAt ? duration(Date.parse(r.decidedAt) - Date.parse(r.requestedAt)) : ""}</td>
          <td>{[r.message, r.reason && `system: ${r.reason}`].filter(Boolean).join(" · ")}</td>
        </tr>
      ))}
    </tbody>
  </table>
)

const EventsTable = ({ rows }: { rows: ReadonlyArray<EventView> }) => (
  <table className="audit-table">
    <thead>
      <tr>
        <th scope="col">recorded</th>
        <th scope="col">session @ revision</th>
        <th scope="col">type</th>
        <th scope="col">appended by</th>
        <th scope="col">position</th>
      </tr>
    </thead>
    <tbody>
      {rows.map((r) => (
        <tr key={r.id}>
          <td>{new Date(r.created).toLocaleString()}</td>
          <td>{r.sessionId ? <SessionLink id={r.sessionId} rev={r.revision} /> : r.stream}</td>
          <td className="mono">{r.type}</td>
          <td className="mono actor">{typeof r.metadata.actor === "string" ? r.metadata.actor : typeof r.metadata.source === "string" ? r.metadata.source : ""}</td>
          <td className="mono muted">{r.position}</td>
        </tr>
      ))}
    </tbody>
  </table>
)
