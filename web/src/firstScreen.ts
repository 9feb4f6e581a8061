// The session list drawn from the early reads' answers before React and the rest of the app
// are evaluated. The bench's timeline of the first screen (100,000 sessions) showed the
// answers in while the app's script was still being evaluated (120-230 ms under load), then
// React's first render (60-130 ms): the page showed nothing for ~700 ms of which the API
// took ~190. This is the same markup as App's Shell and SessionsScreen (the same words, from
// sessionRow.ts and format.ts), drawn in one innerHTML; React replaces it on its first
// commit, with the same rows from the same answers (main.tsx waits for them), so nothing
// moves. Until then its links are plain links and its buttons wait for the app.
import type { ApprovalRow, SessionRow } from "./api.ts"
import { ago, shortId, tokens, toolSummary, usd } from "./format.ts"
import { rowHeight, rowTitle, sessionPath, statuses, statusLabel, waitingText } from "./sessionRow.ts"

const escapes: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }
/** Text or an attribute's value as HTML (every value drawn here is the API's, so untrusted). */
const esc = (v: string | number): string => String(v).replace(/[&<>"']/g, (c) => escapes[c]!)

/** The rows a first screen can show (the virtualizer draws those in view and a few more). */
const firstRows = 40

const header = (waiting: number): string =>
  `<a href="#content" class="skip">Skip to content</a>` +
  `<header class="top"><h1><a href="/">agentlog</a></h1><nav aria-label="Main">` +
  `<a href="/" aria-current="page">Sessions${waiting > 0 ? `<span class="chip waiting" aria-label="${waiting} approvals waiting">${waiting}</span>` : ""}</a>` +
  `<a href="/audit">Audit</a></nav><span class="spacer"></span>` +
  `<span class="connection connecting" role="status" aria-live="polite" title="the lists follow GET /v1/events/live">○ connecting…</span>` +
  `<button type="button" class="quiet" title="Command palette"><kbd>Ctrl/⌘ K</kbd><span class="sr-only"> command palette</span></button>` +
  `<button type="button" class="quiet" aria-label="Keyboard shortcuts"><kbd>?</kbd></button>` +
  `<button type="button" class="primary">New session <kbd>c</kbd></button></header>`

const needsYou = (pending: ReadonlyArray<ApprovalRow>, titles: ReadonlyMap<string, string>, now: number): string =>
  `<section class="needs-you-list" aria-labelledby="needs-you-h"><h2 id="needs-you-h">Needs you <span class="count">(${pending.length})</span></h2>` +
  (pending.length === 0
    ? `<p class="muted">Nothing is waiting for you.</p>`
    : `<ul>${pending
        .map(
          (a, i) =>
            `<li class="${i === 0 ? "selected" : ""}"${i === 0 ? ` aria-current="true"` : ""}><button type="button" class="row-button">` +
            `<span class="title">${esc(titles.get(a.sessionId) ?? shortId(a.sessionId))}</span>` +
            `<span class="mono">${esc(a.toolName ?? "")}: ${esc(toolSummary(a.toolName ?? "", a.input))}</span>` +
            `<span class="waiting">${esc(waitingText(a.requestedAt, a.expiresAt, now))}</span></button></li>`
        )
        .join("")}</ul>`) +
  `</section>`

const figure = (s: SessionRow, name: string, inner: string): string =>
  `<a href="/sessions/${esc(s.sessionId)}?trace=${name}" class="figure" title="${name}: open the events it comes from" tabindex="-1">${inner}</a>`

const row = (s: SessionRow, selected: boolean, now: number): string => {
  const path = esc(sessionPath(s))
  return (
    `<tr class="${selected ? "selected" : ""} ${s.archived ? "archived" : ""}" aria-selected="${selected}" data-session="${esc(s.sessionId)}" style="height: ${rowHeight}px;">` +
    `<td><span class="status status-${esc(s.status)}">${esc(statusLabel(s.status))}</span></td>` +
    `<td class="title"><a href="${path}">${esc(rowTitle(s))}</a>${s.archived ? `<span class="chip">archived</span>` : ""}</td>` +
    `<td class="mono dir" title="${esc(s.cwd ?? "")}">${esc(s.cwd ?? "")}</td>` +
    `<td class="mono">${esc(s.model ?? "")}</td>` +
    `<td class="num mono">${figure(s, "cost", esc(usd(s.costUsd)))}</td>` +
    `<td class="num mono">${figure(s, "tokens", esc(tokens(s.inputTokens + s.outputTokens)))}</td>` +
    `<td class="num">${s.pendingApprovals > 0 ? figure(s, "approvals", `<span class="chip waiting">${s.pendingApprovals}</span>`) : ""}</td>` +
    `<td title="${esc(s.updatedAt)}">${esc(ago(s.updatedAt, now))}</td></tr>`
  )
}

const list = (rows: ReadonlyArray<SessionRow>, selectedRow: number, now: number): string =>
  `<section class="list" aria-labelledby="sessions-h"><div class="toolbar"><h2 id="sessions-h">Sessions</h2>` +
  `<label><span class="sr-only">Search sessions</span><input type="search" placeholder="Search title and query  /" value=""></label>` +
  `<label>Status <select><option value="">any</option>${statuses.map((s) => `<option value="${s}">${statusLabel(s)}</option>`).join("")}</select></label>` +
  `<label>Show <select><option value="false">active</option><option value="true">archived</option><option value="all">all</option></select></label>` +
  `<label title="Only sessions that no fork continues from their end"><input type="checkbox"> Leaves only</label></div>` +
  `<div class="table-scroll"><table class="sessions"><thead><tr>` +
  ["status", "title", "directory", "model", "cost", "tokens", "approvals", "last activity"]
    .map((h) => `<th scope="col"${h === "cost" || h === "tokens" || h === "approvals" ? ` class="num"` : ""}>${h}</th>`)
    .join("") +
  `</tr></thead><tbody>${rows
    .slice(0, firstRows)
    .map((s, i) => row(s, i === selectedRow, now))
    .join("")}</tbody></table>` +
  (rows.length === 0 ? `<p class="empty">No sessions yet. Press <kbd>c</kbd> to start one.</p>` : "") +
  `</div></section>`

/** The first screen of `/` as App draws it, from the first page of sessions and the approvals waiting. */
export const firstScreenHtml = (rows: ReadonlyArray<SessionRow>, approvals: ReadonlyArray<ApprovalRow>, now = Date.now()): string => {
  const pending = [...approvals].sort((x, y) => x.requestedAt.localeCompare(y.requestedAt))
  const titles = new Map(rows.map((r) => [r.sessionId, r.title ?? r.query]))
  return (
    header(pending.length) +
    `<div id="content"><main class="sessions-screen">${needsYou(pending, titles, now)}${list(rows, pending.length === 0 ? 0 : -1, now)}</main></div>`
  )
}

const json = (answer: Promise<Response>): Promise<unknown> => answer.then((r) => (r.ok ? r.clone().json() : Promise.reject(new Error(String(r.status)))))

const itemsOf = <T>(body: unknown): ReadonlyArray<T> | undefined =>
  body !== null && typeof body === "object" && "items" in body && Array.isArray(body.items) ? body.items : undefined

/**
 * Draws the first screen into `root` once both answers are in; resolves true when it drew,
 * false when an answer was not the list (a login first, an error: the app says what).
 */
export const drawFirstScreen = async (root: HTMLElement, sessions: Promise<Response>, approvals: Promise<Response>): Promise<boolean> => {
  const [s, a] = await Promise.all([json(sessions), json(approvals)]).catch(() => [undefined, undefined])
  const rows = itemsOf<SessionRow>(s)
  const pending = itemsOf<ApprovalRow>(a)
  // The app got there first (it renders into the same root), or there is nothing to draw.
  if (rows === undefined || pending === undefined || root.firstChild !== null) return false
  root.innerHTML = firstScreenHtml(rows, pending)
  return true
}
