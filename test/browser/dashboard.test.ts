// The dashboard in Chromium against the real service, the real claude and the fake
// Messages API: what a person does on the page, end to end.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import type { Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { emptyFold, fold } from "../../web/src/fold.ts"
import { expectAccessible, expectStatus, openDashboard, screenshot, sessionIdOf, type Dashboard } from "./support/dashboard.ts"

// The service, claude and the read models are slow on a loaded machine: wait on events, generously.
const patience = { timeout: 30_000 }
const slow = { timeout: 60_000 }
let d: Dashboard
let page: Page

beforeAll(async () => {
  d = await openDashboard("web")
  page = await d.browser.context.newPage()
})

afterAll(async () => {
  await d?.close()
})

const launchFromForm = async (query: string, title: string) => {
  await page.goto(`${d.url()}/new`)
  await page.getByLabel("What should Claude do?").fill(query)
  await page.getByLabel("Working directory").fill(d.world.claude.cwd)
  await page.getByLabel("Title").fill(title)
  await page.getByRole("button", { name: /Launch/ }).click()
  await page.waitForURL(/\/sessions\/[0-9a-f-]{36}$/)
  return sessionIdOf(page)
}

const toolCall = (tool: string) => page.locator(`article[data-kind=tool_call][data-tool=${tool}]`)

describe("the dashboard", () => {
  it("launches from the form, shows the tool call live, and an approval allowed with `a` completes the session", async () => {
    const target = join(d.world.claude.cwd, "hello.txt")
    d.world.fake.setScript([
      { thinking: "The user wants a file.", text: "I'll write **hello.txt**.", toolUse: { name: "Write", input: { file_path: target, content: "hello\n" } } },
      { text: "Done: `hello.txt` holds *hello*." }
    ])
    await page.goto(`${d.url()}/new`)
    await expectAccessible(page, "the new session form")
    await screenshot(page, "new-session")
    await launchFromForm("Write hello.txt", "hello file")

    const call = toolCall("Write")
    await call.waitFor()
    await expect.poll(() => call.getAttribute("data-state"), slow).toBe("waiting")
    await expect.poll(() => page.locator(".approval figure.diff").textContent(), patience).toContain("hello")
    await expect.poll(() => page.locator(".session-head .connection").textContent(), patience).toMatch(/live/)
    await expectAccessible(page, "a session waiting for approval")
    await screenshot(page, "approval")

    await page.keyboard.press("a")
    await expectStatus(page, "completed")
    await expect.poll(() => call.getAttribute("data-state"), patience).toBe("done")
    await expect.poll(() => call.locator(".decision").textContent(), patience).toContain("Allowed by")
    await expect.poll(() => page.locator("article[data-kind=result]").textContent(), patience).toContain("hello.txt holds")
    await expect.poll(() => page.locator("article[data-kind=result] .figures").textContent(), patience).toContain("$")
    expect(readFileSync(target, "utf8")).toBe("hello\n")
    await expectAccessible(page, "a completed session")
    await screenshot(page, "session")
  })

  let deniedSession: string

  it("denies a Bash call with the reason typed, and Claude's reply to it is shown", async () => {
    d.world.fake.setScript([
      { text: "Cleaning up.", toolUse: { name: "Bash", input: { command: "rm -rf build && npm test" } } },
      { text: "Understood: I left build/ alone." }
    ])
    deniedSession = await launchFromForm("Clean the build", "deny me")
    const call = toolCall("Bash")
    await expect.poll(() => call.getAttribute("data-state"), slow).toBe("waiting")
    await expect.poll(() => page.locator(".approval pre.command").textContent(), patience).toBe("rm -rf build && npm test")
    await page.getByRole("button", { name: /Deny…/ }).click()
    await page.getByRole("button", { name: /Deny with reason/ }).click()
    await expect.poll(() => page.locator(".approval [role=alert]").textContent(), patience).toMatch(/Say why/)
    await page.getByLabel(/Reason for denying/).fill("keep build/, it is shared")
    await page.keyboard.press("Enter")
    await expectStatus(page, "completed")
    await expect.poll(() => call.locator(".decision").textContent(), patience).toMatch(/Denied by web: “keep build\/, it is shared”/)
    await expect.poll(() => page.locator("article[data-kind=assistant_text]").last().textContent(), patience).toContain("I left build/ alone")
    const toolResult = d.world.fake.mainRequests().at(-1)!.body.messages.flatMap((m: any) => (Array.isArray(m.content) ? m.content : [])).find((b: any) => b.type === "tool_result")
    expect(JSON.stringify(toolResult.content)).toContain("keep build/, it is shared")
  })

  it("edit-then-allow: the changed input is what the tool gets", async () => {
    const target = join(d.world.claude.cwd, "edited.txt")
    d.world.fake.setScript([{ text: "Writing.", toolUse: { name: "Write", input: { file_path: target, content: "as asked\n" } } }, { text: "Written." }])
    await launchFromForm("Write edited.txt", "edit then allow")
    await expect.poll(() => toolCall("Write").getAttribute("data-state"), slow).toBe("waiting")
    await page.keyboard.press("E")
    const box = page.getByLabel(/Input to allow with/)
    await box.fill("{ not json")
    await expect.poll(() => page.getByRole("button", { name: /Allow with this input/ }).isDisabled(), patience).toBe(true)
    await box.fill(JSON.stringify({ file_path: target, content: "as edited\n" }))
    await page.keyboard.press("Control+Enter")
    await expectStatus(page, "completed")
    expect(readFileSync(target, "utf8")).toBe("as edited\n")
    await expect.poll(() => toolCall("Write").locator(".decision").textContent(), patience).toContain("with edited input")
  })

  it("keyboard only: c opens the form, Ctrl+Enter launches, the first screen puts the approval on top and `a` allows it", async () => {
    const target = join(d.world.claude.cwd, "keys.txt")
    d.world.fake.setScript([{ text: "Writing.", toolUse: { name: "Write", input: { file_path: target, content: "keys\n" } } }, { text: "Done by keyboard." }])
    await page.goto(d.url())
    await page.locator("table.sessions").waitFor()
    await page.keyboard.press("c")
    await page.waitForURL(/\/new$/)
    await expect.poll(() => page.evaluate("document.activeElement?.id"), patience).toBe("f-query")
    await page.keyboard.type("Write keys.txt by keyboard")
    await page.keyboard.press("Tab")
    await page.keyboard.type(d.world.claude.cwd)
    await page.keyboard.press("Control+Enter")
    await page.waitForURL(/\/sessions\//)
    const id = sessionIdOf(page)
    await page.locator(".session-head .status").waitFor()
    await page.keyboard.press("g")
    await page.keyboard.press("s")
    await page.waitForURL((u) => u.pathname === "/")
    const row = page.locator(".needs-you-list li.selected")
    await expect.poll(() => row.textContent(), slow).toContain("Write")
    await expectAccessible(page, "the first screen with an approval waiting")
    await screenshot(page, "sessions")
    await page.keyboard.press("a")
    await expect.poll(async () => (await d.call("GET", `/v1/sessions/${id}`)).body.status, slow).toBe("completed")
    await expect.poll(() => page.locator(".needs-you-list").textContent(), patience).toContain("Nothing is waiting for you")
    expect(readFileSync(target, "utf8")).toBe("keys\n")
    await page.keyboard.press("?")
    await page.locator("dialog.help").waitFor()
    await expectAccessible(page, "the shortcuts")
    await page.keyboard.press("Escape")
  })

  it("interrupts a running session", async () => {
    d.world.fake.setScript([{ slow: { chunks: ["Thinking hard", " about it"], delayMs: 50, hold: true } }])
    await launchFromForm("Take your time", "interrupt me")
    await expectStatus(page, "running")
    await d.world.fake.waitForSlowChunks(1)
    await page.getByRole("button", { name: /Interrupt/ }).click()
    await expectStatus(page, "interrupted")
    await page.locator("[data-kind=interrupted]").waitFor()
    d.world.fake.abortStreams()
  })

  it("continues a session from the prompt box, and forks it into a new one", async () => {
    await page.goto(`${d.url()}/sessions/${deniedSession}`)
    await expectStatus(page, "completed")
    d.world.fake.setScript([{ text: "Continued: build/ is still there." }])
    await page.getByLabel("Prompt to continue").fill("Is build/ still there?")
    await page.keyboard.press("Control+Enter")
    await expect.poll(() => page.locator("article[data-kind=assistant_text]").last().textContent(), slow).toContain("Continued: build/ is still there.")
    await expectStatus(page, "completed")

    d.world.fake.setScript([{ text: "Forked: trying another way." }])
    await page.getByLabel("Fork into a new session").check()
    await page.getByLabel("Prompt for the fork").fill("Try another way")
    await page.getByRole("button", { name: /^Fork Ctrl/ }).click()
    await page.waitForURL((u) => !u.pathname.endsWith(deniedSession))
    const fork = sessionIdOf(page)
    expect(fork).not.toBe(deniedSession)
    await expect.poll(() => page.locator("article[data-kind=assistant_text]").last().textContent(), slow).toContain("Forked: trying another way.")
    await expectStatus(page, "completed")
    await expect.poll(() => page.locator(".session-head").textContent(), patience).toContain(`forked from ${deniedSession.slice(0, 8)}`)
  })

  it("the replay scrubber shows the session as it was at an earlier revision", async () => {
    const events = (await d.call("GET", `/v1/sessions/${deniedSession}/events?limit=1000`)).body.items as Array<{ type: string; revision: number }>
    const asked = events.find((e) => e.type === "ApprovalRequested")!.revision
    await page.goto(`${d.url()}/sessions/${deniedSession}?tab=history&rev=${asked}`)
    const replay = page.locator(".history .transcript")
    await expect.poll(() => replay.locator("article[data-kind=tool_call]").getAttribute("data-state"), patience).toBe("waiting")
    await expect.poll(() => page.locator(".scrubber").textContent(), patience).toContain("waiting approval")
    expect(await replay.textContent()).not.toContain("I left build/ alone")
    expect(await replay.locator(".approval").count()).toBe(0)
    await expectAccessible(page, "the history")
    await screenshot(page, "history")
    // Dragged to the end, it is the session now.
    await page.getByLabel(/Replay at revision/).press("End")
    await expect.poll(() => replay.textContent(), patience).toContain("Continued: build/ is still there.")
    await page.getByRole("button", { name: /Timeline/ }).click()
    await page.locator("figure.timeline svg").waitFor()
    await expectAccessible(page, "the timeline")
    await screenshot(page, "timeline")
  })

  it("the audit finds the denied Bash call and who denied it", async () => {
    await page.goto(`${d.url()}/audit`)
    await page.getByLabel("Tool").fill("Bash")
    await page.getByLabel("Decision").selectOption("deny")
    const rows = page.locator("table.audit-table tbody tr")
    await expect.poll(() => rows.count(), patience).toBe(1)
    await expect.poll(() => rows.first().textContent(), patience).toContain("rm -rf build && npm test")
    expect(await rows.first().locator(".decider").textContent()).toBe("web")
    expect(await rows.first().textContent()).toContain("keep build/, it is shared")
    await expectAccessible(page, "the audit")
    await screenshot(page, "audit")
    const download = page.waitForEvent("download")
    await page.getByRole("button", { name: "Export NDJSON" }).click()
    const file = await (await download).path()
    const lines = readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l))
    expect(lines).toMatchObject([{ toolName: "Bash", decision: "deny", decidedBy: "web" }])

    // Who decided is the API's filter (it reaches past the rows shown): web decided it, agentlog did not.
    const asked = page.waitForRequest((r) => new URL(r.url()).pathname === "/v1/tool-calls" && new URL(r.url()).searchParams.get("decidedBy") === "agentlog")
    await page.getByLabel("Decided by").fill("agentlog")
    await asked
    await expect.poll(() => rows.count(), patience).toBe(0)
    await page.getByLabel("Decided by").fill("web")
    await expect.poll(() => rows.count(), patience).toBe(1)
    // Events by who appended them: the page's decisions are web's, Claude's messages are not.
    await page.getByRole("button", { name: "events" }).click()
    await page.getByLabel("Appended by").fill("web")
    await page.getByLabel("Types").fill("ApprovalDecided,ClaudeAssistantMessage")
    await expect.poll(async () => new Set(await rows.locator("td:nth-child(3)").allTextContents()), patience).toEqual(new Set(["ApprovalDecided"]))
    expect(new Set(await rows.locator("td.actor").allTextContents())).toEqual(new Set(["web"]))
    await expectAccessible(page, "the audit's events by who appended them")
    // Approvals by who decided: the Bash call web denied is among them, and nobody else's.
    await page.getByRole("button", { name: "approvals" }).click()
    await page.getByLabel("Decided by").fill("web")
    await expect.poll(async () => (await rows.allTextContents()).some((t) => t.includes("rm -rf build && npm test") && t.includes("keep build/, it is shared")), patience).toBe(true)
    expect(new Set(await rows.locator(".decider").allTextContents())).toEqual(new Set(["web"]))
    await expectAccessible(page, "the audit's approvals")
  })

  it("archives from the list with `e`, and finds it again by searching the archive", async () => {
    await page.goto(d.url())
    await page.getByLabel("Search sessions").fill("edit then allow")
    await expect.poll(() => page.locator("table.sessions tbody tr[data-session]").count(), patience).toBe(1)
    await page.keyboard.press("Escape") // leaves the search field, so keys are shortcuts again
    await page.keyboard.press("e")
    await expect.poll(() => page.locator("table.sessions tbody tr[data-session]").count(), patience).toBe(0)
    await page.getByLabel("Show").selectOption("true")
    await expect.poll(() => page.locator("table.sessions tbody tr[data-session]").count(), patience).toBe(1)
    await expect.poll(() => page.locator("table.sessions tbody tr[data-session]").textContent(), patience).toContain("archived")
  })

  it("search finds what was said inside a transcript (full text), and a hit opens the session at that revision", async () => {
    await page.goto(d.url())
    await page.getByLabel("Search sessions").fill("alone")
    // Not in any title or first prompt: only Claude's answer in the denied session says it.
    await expect.poll(() => page.locator("table.sessions tbody tr[data-session]").count(), patience).toBe(0)
    const hit = page.locator(`.hits li[data-hit="${deniedSession}"]`).first()
    await expect.poll(() => hit.locator("mark").first().textContent(), patience).toBe("alone")
    await expectAccessible(page, "the list with transcript hits")
    await hit.locator("a").click()
    await page.waitForURL((u) => u.pathname === `/sessions/${deniedSession}` && u.searchParams.get("tab") === "history")
    const rev = Number(new URL(page.url()).searchParams.get("rev"))
    const events = (await d.call("GET", `/v1/sessions/${deniedSession}/events?limit=1000`)).body.items as Array<{ type: string; revision: number; data: unknown }>
    expect(events.find((e) => e.revision === rev)?.type).toBe("ClaudeAssistantMessage")
    expect(JSON.stringify(events.find((e) => e.revision === rev)?.data)).toContain("I left build/ alone")
  })

  it("after the service restarts under it, the live transcript resumes without losing or repeating an entry", async () => {
    await page.goto(`${d.url()}/sessions/${deniedSession}`)
    await expectStatus(page, "completed")
    await d.restart()
    // Events are appended while the page is still reconnecting: it must fetch them on resume.
    d.world.fake.setScript([{ text: "After the restart." }])
    const r = await d.call("POST", `/v1/sessions/${deniedSession}/continue`, { query: "Still there?" })
    expect(r.status).toBe(202)
    await expect.poll(() => page.locator("article[data-kind=assistant_text]").last().textContent(), slow).toContain("After the restart.")
    await expectStatus(page, "completed")
    await expect.poll(() => page.locator(".session-head .connection").textContent(), patience).toMatch(/live/)
    // What the page shows is the fold of every recorded event, each once.
    const events = (await d.call("GET", `/v1/sessions/${deniedSession}/events?limit=1000`)).body.items
    const expected = fold(emptyFold, events)
    await expect.poll(() => page.locator(".transcript").getAttribute("data-count"), patience).toBe(String(expected.entries.length))
    expect(await page.locator(".session-head .facts").textContent()).toContain(`rev ${expected.revision}`)
  })
})
