// The session list follows the record over SSE (no polling, no reload), the command palette
// (Ctrl/⌘+K) goes anywhere and does what the screen offers, and every figure opens the
// events it comes from: as a person uses them, in Chromium against the real service.
import { join } from "node:path"
import type { Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { expectAccessible, expectStatus, openDashboard, screenshot, sessionIdOf, type Dashboard } from "./support/dashboard.ts"

const patience = { timeout: 30_000 }
const slow = { timeout: 60_000 }
let d: Dashboard
let page: Page
let sessionId: string

beforeAll(async () => {
  d = await openDashboard("web-live")
  page = await d.browser.context.newPage()
})

afterAll(async () => {
  await d?.close()
})

const row = (id: string) => page.locator(`table.sessions tr[data-session="${id}"]`)

describe("the dashboard, live and traced", () => {
  it("the session list changes as a run starts, waits and ends, without a reload", async () => {
    await page.goto(d.url())
    await expect.poll(() => page.locator("header.top .connection").textContent(), patience).toMatch(/live/)
    // A mark on this document: a reload would lose it.
    await page.evaluate("window.__sameDocument = true")
    const target = join(d.world.claude.cwd, "live.txt")
    d.world.fake.setScript([{ text: "Writing.", toolUse: { name: "Write", input: { file_path: target, content: "live\n" } } }, { text: "Written live." }])
    const launched = await d.call("POST", "/v1/sessions", { query: "Write live.txt", cwd: d.world.claude.cwd, title: "live list" })
    expect(launched.status).toBe(202)
    sessionId = launched.body.sessionId
    await expect.poll(() => row(sessionId).locator(".status").textContent(), slow).toBe("waiting approval")
    await expect.poll(() => page.locator(".needs-you-list").textContent(), patience).toContain("Write")
    const approvals = await d.call("GET", `/v1/approvals?status=pending&session=${sessionId}`)
    const approvalId = approvals.body.items[0].approvalId
    expect((await d.call("POST", `/v1/approvals/${approvalId}/decision`, { decision: "allow" })).status).toBe(202)
    await expect.poll(() => row(sessionId).locator(".status").textContent(), slow).toBe("completed")
    await expect.poll(() => page.locator(".needs-you-list").textContent(), patience).toContain("Nothing is waiting for you")
    // The cost of the run is on the row once its result is recorded.
    await expect.poll(() => row(sessionId).locator("td.num").first().textContent(), patience).toMatch(/^\$/)
    expect(await page.evaluate("window.__sameDocument === true")).toBe(true)
  })

  it("Ctrl+K opens the palette: it goes to a place, finds a session by its title, and runs the session's actions", async () => {
    await page.goto(d.url())
    await page.locator("table.sessions").waitFor()
    await page.keyboard.press("Control+k")
    const box = page.getByRole("combobox", { name: "Go to or do" })
    await box.waitFor()
    await expectAccessible(page, "the command palette")
    await box.fill("audit")
    await page.keyboard.press("Enter")
    await page.waitForURL((u) => u.pathname === "/audit")

    await page.keyboard.press("Control+k")
    await box.fill("live list")
    await expect.poll(() => page.locator("dialog.palette [role=option]").first().textContent(), patience).toContain("Open live list")
    await screenshot(page, "palette")
    await page.keyboard.press("Enter")
    await page.waitForURL((u) => u.pathname === `/sessions/${sessionId}`)
    await expectStatus(page, "completed")

    await page.keyboard.press("Control+k")
    await box.fill("history")
    await expect.poll(() => page.locator("dialog.palette [role=option]").first().textContent(), patience).toContain("Show the history")
    await page.keyboard.press("Enter")
    await page.waitForURL((u) => u.searchParams.get("tab") === "history")

    // The palette is in the `?` list.
    await page.keyboard.press("?")
    await expect.poll(() => page.locator("dialog.help").textContent(), patience).toContain("Ctrl/⌘ + K")
    await page.keyboard.press("Escape")
  })

  it("every figure of a session opens the events it comes from, each a link to the history at its revision", async () => {
    // From the list: the cost cell opens the session with the cost's events listed.
    await page.goto(d.url())
    await row(sessionId).locator("a.figure").first().click()
    await page.waitForURL((u) => u.pathname === `/sessions/${sessionId}` && u.searchParams.get("trace") === "cost")
    const cost = page.locator("details.trace[data-trace=cost]")
    await expect.poll(() => cost.getAttribute("open"), patience).not.toBeNull()
    const events = (await d.call("GET", `/v1/sessions/${sessionId}/events?limit=1000`)).body.items as Array<{ type: string; revision: number; data: { runCostUsd?: number } }>
    const result = events.find((e) => e.type === "ClaudeResult")!
    await expect.poll(() => cost.locator(".trace-pop").textContent(), patience).toContain(`rev ${result.revision} ClaudeResult`)
    await expectAccessible(page, "a traced figure")
    await screenshot(page, "trace")

    // The tokens, by keyboard: the figure is a disclosure.
    const tokens = page.locator("details.trace[data-trace=tokens] summary")
    await tokens.focus()
    await page.keyboard.press("Enter")
    await expect.poll(() => page.locator("details.trace[data-trace=tokens] .trace-pop").textContent(), patience).toContain("ClaudeResult")

    // The link goes to the history at that revision.
    await cost.locator(".trace-pop a", { hasText: `rev ${result.revision}` }).click()
    await page.waitForURL((u) => u.searchParams.get("tab") === "history" && u.searchParams.get("rev") === String(result.revision))
    await expect.poll(() => page.locator(".scrubber").textContent(), patience).toContain(`revision ${result.revision} of`)

    // The status and the decision link to the events that made them.
    await page.goto(`${d.url()}/sessions/${sessionId}`)
    await expectStatus(page, "completed")
    const completed = events.find((e) => e.type === "RunCompleted")!
    expect(await page.locator(".session-head a.rev-link", { has: page.locator(".status") }).getAttribute("href")).toBe(`/sessions/${sessionId}?tab=history&rev=${completed.revision}`)
    const decided = events.find((e) => e.type === "ApprovalDecided")!
    expect(await page.locator("article[data-kind=tool_call] .decision a.rev-link").textContent()).toBe(`rev ${decided.revision}`)
    expect(sessionIdOf(page)).toBe(sessionId)
  })
})

describe("the list, searched", () => {
  it("Esc leaves the search with its text, and `e` archives the one session found", async () => {
    await page.goto(d.url())
    await page.getByLabel("Search sessions").fill("live list")
    await expect.poll(() => page.locator("table.sessions tbody tr[data-session]").count(), patience).toBe(1)
    await page.keyboard.press("Escape")
    expect(await page.getByLabel("Search sessions").inputValue()).toBe("live list")
    await page.keyboard.press("e")
    await expect.poll(() => page.locator("table.sessions tbody tr[data-session]").count(), patience).toBe(0)
    expect(await page.getByLabel("Search sessions").inputValue()).toBe("live list")
  })
})
