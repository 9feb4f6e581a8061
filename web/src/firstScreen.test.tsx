import { QueryClient, QueryClientProvider } from "@tanstack/react-query"
import { act, cleanup, render } from "@testing-library/react"
import { createRef } from "react"
import { afterEach, describe, expect, it, vi } from "vitest"
import type { ApprovalRow, SessionRow } from "./api.ts"
import { drawFirstScreen, firstScreenHtml } from "./firstScreen.ts"
import { firstFilters, pendingApprovalsQuery, sessionsQuery, SessionsScreen } from "./screens/Sessions.tsx"

afterEach(() => {
  cleanup()
  vi.restoreAllMocks()
})

const now = Date.parse("2026-11-30T12:00:00Z")
const session = (i: number, over: Partial<SessionRow> = {}): SessionRow => ({
  sessionId: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
  status: "completed",
  title: null,
  query: `prompt ${i}`,
  cwd: `/work/repo-${i}`,
  model: "claude-sonnet-5",
  costUsd: 0.0123 * i,
  inputTokens: 1200 * i,
  outputTokens: 40,
  turns: 3,
  runs: 1,
  pendingApprovals: 0,
  archived: false,
  createdAt: "2026-11-30T10:00:00Z",
  updatedAt: "2026-11-30T11:58:00Z",
  revision: 20,
  runId: null,
  parentSessionId: null,
  ...over
} as SessionRow)

const rows = [
  session(1, { title: `<img src=x onerror="alert(1)"> & "quoted"`, status: "waiting_approval", pendingApprovals: 2 }),
  session(2, { status: "draft", query: "" }),
  session(3, { archived: true, cwd: null, model: null })
]

/** The list as React draws it from the same answers (the first screen's queries, already answered). */
const drawnByReact = (approvals: ReadonlyArray<ApprovalRow>): HTMLElement => {
  vi.spyOn(Date, "now").mockReturnValue(now)
  // A list with room for its rows (happy-dom lays nothing out): the virtualizer draws those in view.
  vi.spyOn(HTMLElement.prototype, "clientHeight", "get").mockReturnValue(600)
  vi.spyOn(HTMLElement.prototype, "clientWidth", "get").mockReturnValue(1000)
  const queryClient = new QueryClient({ defaultOptions: { queries: { staleTime: Infinity } } })
  queryClient.setQueryData(pendingApprovalsQuery().queryKey, { items: [...approvals], nextCursor: null })
  queryClient.setQueryData(sessionsQuery(firstFilters).queryKey, { pages: [{ items: rows, nextCursor: null }], pageParams: [undefined] })
  const { container } = render(
    <QueryClientProvider client={queryClient}>
      <SessionsScreen searchRef={createRef()} />
    </QueryClientProvider>
  )
  return container
}

const drawnFirst = (approvals: ReadonlyArray<ApprovalRow>): HTMLElement => {
  const root = document.createElement("div")
  root.innerHTML = firstScreenHtml(rows, approvals, now)
  return root
}

describe("the first screen, drawn before React is loaded", () => {
  it("draws the rows React draws from the same answers, markup for markup, the API's text as text", () => {
    const react = drawnByReact([])
    const first = drawnFirst([])
    const reactRows = [...react.querySelectorAll("table.sessions tbody tr[data-session]")].map((r) => r.outerHTML)
    const firstRows = [...first.querySelectorAll("table.sessions tbody tr[data-session]")].map((r) => r.outerHTML)
    expect(reactRows.length).toBe(3)
    expect(firstRows).toEqual(reactRows)
    expect(first.querySelector("img")).toBeNull()
    expect(first.querySelector("td.title a")?.textContent).toBe(`<img src=x onerror="alert(1)"> & "quoted"`)
    expect(first.querySelector("tr.selected")?.getAttribute("data-session")).toBe(rows[0]!.sessionId)
    // The same screen around them: the same sections, headings and toolbar, in the same order.
    const outline = (el: Element) => [...el.querySelectorAll("main.sessions-screen section, h2, thead th, .toolbar label")].map((e) => `${e.tagName} ${e.className} ${e.textContent}`)
    expect(outline(first)).toEqual(outline(react))
  })

  it("lists the approvals waiting, oldest first, as the React screen does (its panel comes with the app)", () => {
    const approval = (id: string, requestedAt: string): ApprovalRow =>
      ({ approvalId: id, sessionId: rows[0]!.sessionId, toolName: "Bash", input: { command: `echo ${id}` }, requestedAt, expiresAt: null, status: "pending" }) as unknown as ApprovalRow
    const approvals = [approval("b", "2026-11-30T11:59:00Z"), approval("a", "2026-11-30T11:50:00Z")]
    const react = drawnByReact(approvals)
    const first = drawnFirst(approvals)
    const items = (el: Element) => [...el.querySelectorAll(".needs-you-list li .row-button")].map((b) => b.textContent)
    expect(items(first)).toEqual(items(react))
    expect(items(first)[0]).toContain("echo a")
    expect(first.querySelector("#needs-you-h")?.textContent).toBe(react.querySelector("#needs-you-h")?.textContent)
    // The first approval is the selection, not a row.
    expect(first.querySelector("tr.selected")).toBeNull()
  })

  it("draws only from two good answers, and never over what the app drew first", async () => {
    const ok = (body: unknown) => Promise.resolve(new Response(JSON.stringify(body), { status: 200 }))
    const root = document.createElement("div")
    expect(await drawFirstScreen(root, ok({ items: rows }), Promise.resolve(new Response("{}", { status: 401 })))).toBe(false)
    expect(root.firstChild).toBeNull()
    root.innerHTML = "<p>the app</p>"
    expect(await drawFirstScreen(root, ok({ items: rows }), ok({ items: [] }))).toBe(false)
    expect(root.textContent).toBe("the app")
    root.innerHTML = ""
    const sessions = ok({ items: rows })
    await act(async () => expect(await drawFirstScreen(root, sessions, ok({ items: [] }))).toBe(true))
    expect(root.querySelectorAll("tr[data-session]").length).toBe(3)
    // The answer is left whole for the app's query, which takes it after the draw.
    expect(await (await sessions).json()).toEqual({ items: rows })
  })
})
