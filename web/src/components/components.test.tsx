import { QueryClient, QueryClientProvider } from "@tanstack/react-query"
import { act, cleanup, fireEvent, render, screen } from "@testing-library/react"
import { afterEach, describe, expect, it, vi } from "vitest"
import { ApiError } from "../api.ts"
import { errorsByField, launchBody } from "../screens/NewSession.tsx"
import { toCsv, toNdjson } from "../screens/Audit.tsx"
import { ApprovalPanel, parseInput } from "./ApprovalPanel.tsx"
import { diffRows } from "./Diff.tsx"
import { isPlain, Markdown } from "./Markdown.tsx"

afterEach(() => {
  cleanup()
  vi.restoreAllMocks()
})

/** The request the typed client handed to fetch (it sends a Request, not a URL and init). */
const sent = (fetch: { mock: { calls: ReadonlyArray<ReadonlyArray<unknown>> } }): Request => {
  const r = fetch.mock.calls[0]?.[0]
  if (!(r instanceof Request)) throw new Error("fetch was not called with a Request")
  return r
}

const withQuery = (ui: React.ReactElement) => render(<QueryClientProvider client={new QueryClient()}>{ui}</QueryClientProvider>)
const approval = { approvalId: "a1", toolName: "Bash", input: { command: "rm -rf build" }, requestedAt: new Date().toISOString(), expiresAt: null }

describe("the approval panel", () => {
  it("denies only with a reason, and sends the reason", async () => {
    const fetch = vi.spyOn(globalThis, "fetch").mockResolvedValue(new Response("{}", { status: 202, headers: { "content-type": "application/json" } }))
    withQuery(<ApprovalPanel approval={approval} keyboard />)
    expect(document.querySelector("pre.command")?.textContent).toBe("rm -rf build")
    fireEvent.keyDown(window, { key: "d" })
    await act(async () => fireEvent.click(screen.getByRole("button", { name: /Deny with reason/ })))
    expect(fetch).not.toHaveBeenCalled()
    expect(screen.getByRole("alert").textContent).toMatch(/Say why/)
    fireEvent.change(screen.getByLabelText(/Reason for denying/), { target: { value: "not build/" } })
    await act(async () => fireEvent.click(screen.getByRole("button", { name: /Deny with reason/ })))
    expect(fetch).toHaveBeenCalledTimes(1)
    const request = sent(fetch)
    expect(new URL(request.url).pathname).toBe("/v1/approvals/a1/decision")
    expect(await request.json()).toEqual({ decision: "deny", message: "not build/" })
    expect(request.headers.get("X-Agentlog-Client")).toBe("web")
  })

  it("allows with edited input only when it is a JSON object", async () => {
    const fetch = vi.spyOn(globalThis, "fetch").mockResolvedValue(new Response("{}", { status: 202, headers: { "content-type": "application/json" } }))
    withQuery(<ApprovalPanel approval={approval} keyboard />)
    fireEvent.keyDown(window, { key: "E" })
    const box = screen.getByLabelText(/Input to allow with/)
    fireEvent.change(box, { target: { value: "{ nope" } })
    expect((screen.getByRole("button", { name: /Allow with this input/ }) as HTMLButtonElement).disabled).toBe(true)
    expect(screen.getByRole("alert").textContent).toMatch(/not valid JSON/)
    fireEvent.change(box, { target: { value: '{"command":"rm -rf build/tmp"}' } })
    await act(async () => fireEvent.click(screen.getByRole("button", { name: /Allow with this input/ })))
    expect(await sent(fetch).json()).toEqual({ decision: "allow", updatedInput: { command: "rm -rf build/tmp" } })
    expect(parseInput("[1]")).toEqual({ ok: false, error: "the input must be a JSON object" })
  })
})

describe("a question Claude asks", () => {
  const question = {
    approvalId: "q1",
    toolName: "AskUserQuestion",
    input: {
      questions: [
        { question: "Which color?", header: "Color", multiSelect: false, options: [{ label: "Red" }, { label: "Blue", description: "calmer" }] },
        { question: "Which sizes?", header: "Size", multiSelect: true, options: [{ label: "S" }, { label: "M" }, { label: "L" }] }
      ]
    },
    requestedAt: new Date().toISOString(),
    expiresAt: null
  }
  it("is answered, one choice per question (several where it allows), never allowed bare", async () => {
    const fetch = vi.spyOn(globalThis, "fetch").mockResolvedValue(new Response("{}", { status: 202, headers: { "content-type": "application/json" } }))
    withQuery(<ApprovalPanel approval={question} keyboard />)
    expect(screen.queryByRole("button", { name: /Edit, then allow/ })).toBeNull()
    fireEvent.click(screen.getByLabelText(/Blue/))
    await act(async () => fireEvent.click(screen.getByRole("button", { name: /Answer/ })))
    expect(fetch).not.toHaveBeenCalled()
    expect(screen.getByRole("alert").textContent).toMatch(/each question/)
    fireEvent.click(screen.getByLabelText("S"))
    fireEvent.click(screen.getByLabelText("L"))
    await act(async () => fireEvent.click(screen.getByRole("button", { name: /Answer/ })))
    expect(await sent(fetch).json()).toEqual({ decision: "allow", answers: { "Which color?": "Blue", "Which sizes?": "S, L" } })
  })
})

describe("the new session form", () => {
  it("sends only what was filled in, tools as lists", () => {
    const f = { query: "q", cwd: " /w ", title: "", model: "", permissionMode: "plan", maxTurns: "3", systemPrompt: "", appendSystemPrompt: "", allowedTools: "Read, Grep", disallowedTools: "" }
    expect(launchBody(f)).toEqual({ query: "q", cwd: "/w", permissionMode: "plan", maxTurns: 3, allowedTools: ["Read", "Grep"] })
  })
  it("puts the API's field errors next to their fields", () => {
    const e = new ApiError(400, "The request is not valid", "…", [
      { path: "/cwd", message: "does not exist" },
      { path: "/maxTurns", message: "too big" },
      { path: "/mcpServers/x", message: "bad" }
    ])
    expect(errorsByField(e)).toEqual({ fields: { cwd: "does not exist", maxTurns: "too big" }, other: ["/mcpServers/x: bad"] })
  })
})

describe("rendering", () => {
  it("markdown drops raw HTML and javascript: links", () => {
    const { container } = render(<Markdown text={'**hi** <img src=x onerror="alert(1)"> [x](javascript:alert(1))'} />)
    expect(container.querySelector("strong")?.textContent).toBe("hi")
    expect(container.querySelector("img")).toBeNull()
    expect(container.querySelector("a")?.getAttribute("href") ?? "").not.toMatch(/javascript/)
  })
  it("text without markup skips the markdown parse and draws the same paragraphs", () => {
    const prose = "I read the file.\nIt has two lines.\n\nNothing else to do."
    expect(isPlain(prose)).toBe(true)
    for (const marked of ["**bold**", "a `tick`", "- item", "1. first", "# head", "see https://x.y", "a &amp; b", "x\n===", "<b>", "a_b_c"]) expect(isPlain(marked), marked).toBe(false)
    const paragraphs = (c: HTMLElement) => [...c.querySelectorAll(".md > *")].map((p) => p.outerHTML)
    const plain = paragraphs(render(<Markdown text={prose} />).container)
    cleanup()
    // The same text with one bit of markup goes through the parser: the same paragraphs, then the marked one.
    const parsed = paragraphs(render(<Markdown text={`${prose}\n\n*x*`} />).container)
    expect(parsed).toEqual([...plain, "<p><em>x</em></p>"])
  })
  it("diffs collapse long unchanged stretches", () => {
    const before = Array.from({ length: 20 }, (_, i) => `line ${i}`).join("\n")
    const after = before.replace("line 10", "line ten")
    const rows = diffRows(before, after)
    expect(rows.filter((r) => r.type === "del").map((r) => r.text)).toEqual(["line 10"])
    expect(rows.filter((r) => r.type === "add").map((r) => r.text)).toEqual(["line ten"])
    expect(rows.filter((r) => r.type === "skip").length).toBe(2)
  })
  it("exports rows as CSV (quoted where needed) and NDJSON", () => {
    const rows = [{ a: "x,y", b: { c: 1 } }, { a: 'say "hi"', b: null }]
    expect(toCsv(rows)).toBe('a,b\r\n"x,y","{""c"":1}"\r\n"say ""hi""",\r\n')
    expect(toNdjson(rows)).toBe('{"a":"x,y","b":{"c":1}}\n{"a":"say \\"hi\\"","b":null}\n')
  })
})
