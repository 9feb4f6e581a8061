// Forks from an earlier prompt (and the family they make: children, forkedAt, the list's
// leaves) and drafts (written, edited, launched, discarded, restored), as a person does them
// on the page, in Chromium against the real service, the real claude and the fake Messages API.
import type { Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { expectAccessible, expectStatus, openDashboard, screenshot, sessionIdOf, type Dashboard } from "./support/dashboard.ts"

const patience = { timeout: 30_000 }
const slow = { timeout: 60_000 }
let d: Dashboard
let page: Page

beforeAll(async () => {
  d = await openDashboard("web-forks")
  page = await d.browser.context.newPage()
})

afterAll(async () => {
  await d?.close()
})

const rows = () => page.locator("table.sessions tbody tr[data-session]")
const row = (id: string) => page.locator(`table.sessions tr[data-session="${id}"]`)
const lastAnswer = () => page.locator("article[data-kind=assistant_text]").last()
/** What the newest request to the Messages API carried, as text. */
const lastSent = () => JSON.stringify(d.world.fake.mainRequests().at(-1)!.body.messages)

describe("forks from an earlier prompt", () => {
  let parent: string
  let branch: string

  it("forks from before the second prompt: the new session has the conversation up to there, and the new prompt in its place", async () => {
    d.world.fake.setScript([{ text: "first answer" }])
    const launched = await d.call("POST", "/v1/sessions", { query: "first question", cwd: d.world.claude.cwd, title: "the parent" })
    parent = launched.body.sessionId
    await page.goto(`${d.url()}/sessions/${parent}`)
    await expectStatus(page, "completed")
    d.world.fake.setScript([{ text: "second answer" }])
    await page.getByLabel("Prompt to continue").fill("second question")
    await page.keyboard.press("Control+Enter")
    await expect.poll(() => lastAnswer().textContent(), slow).toContain("second answer")
    await expectStatus(page, "completed")

    // The first prompt has nothing before it to fork from; the second does.
    const prompts = page.locator("article[data-kind=user_text]")
    await expect.poll(() => prompts.count(), patience).toBe(2)
    expect(await prompts.first().getByRole("button", { name: "Fork from here" }).count()).toBe(0)
    await prompts.nth(1).getByRole("button", { name: "Fork from here" }).click()
    const box = page.getByLabel("Prompt for the fork from that message")
    await expect.poll(() => box.inputValue(), patience).toBe("second question")
    await expectAccessible(page, "a session forking from an earlier prompt")
    d.world.fake.setScript([{ text: "branch answer" }])
    await box.fill("branch question")
    await screenshot(page, "fork")
    await page.getByRole("button", { name: /^Fork Ctrl/ }).click()
    await page.waitForURL((u) => !u.pathname.endsWith(parent))
    branch = sessionIdOf(page)
    await expect.poll(() => lastAnswer().textContent(), slow).toContain("branch answer")
    await expectStatus(page, "completed")
    const sent = lastSent()
    expect(sent).toContain("first answer")
    expect(sent).toContain("branch question")
    expect(sent).not.toContain("second question")
    expect(sent).not.toContain("second answer")
    await expect.poll(() => page.locator(".session-head .parent").textContent(), patience).toBe(`forked from ${parent.slice(0, 8)} (at an earlier message)`)
    // The parent lists it among its forks.
    await page.goto(`${d.url()}/sessions/${parent}`)
    await expect.poll(() => page.locator(".session-head .forks").textContent(), patience).toMatch(/^1 fork: .+ \(from a message\)$/)
    await page.locator(".session-head .forks a").click()
    await page.waitForURL((u) => u.pathname.endsWith(branch))
  })

  it("lists only the leaves when asked: a fork from the end continues its parent, a fork from a message does not", async () => {
    await page.goto(`${d.url()}/sessions/${parent}`)
    await expectStatus(page, "completed")
    d.world.fake.setScript([{ text: "from the end" }])
    await page.getByLabel("Fork into a new session").check()
    await page.getByLabel("Prompt for the fork").fill("go on elsewhere")
    await page.getByRole("button", { name: /^Fork Ctrl/ }).click()
    await page.waitForURL((u) => !u.pathname.endsWith(parent))
    const end = sessionIdOf(page)
    await expectStatus(page, "completed")

    await page.goto(d.url())
    await expect.poll(() => rows().count(), patience).toBe(3)
    await page.getByLabel("Leaves only").check()
    await expect.poll(() => rows().count(), patience).toBe(2)
    expect(await row(parent).count()).toBe(0)
    expect(await row(branch).count()).toBe(1)
    expect(await row(end).count()).toBe(1)
  })
})

describe("drafts", () => {
  it("saves the form as a draft, lists it, edits it and launches it", async () => {
    await page.goto(`${d.url()}/new`)
    await page.getByLabel("What should Claude do?").fill("Say hello later")
    await page.getByLabel("Working directory").fill(d.world.claude.cwd)
    await page.getByLabel("Title").fill("a draft")
    await page.getByRole("button", { name: "Save as draft" }).click()
    await page.waitForURL(/\/new\?draft=/)
    const draft = new URL(page.url()).searchParams.get("draft")!
    await expect.poll(() => page.locator(".new-session [role=status]").textContent(), patience).toMatch(/Draft saved/)
    // Nothing ran: a draft starts no process.
    expect((await d.call("GET", `/v1/sessions/${draft}`)).body).toMatchObject({ status: "draft", query: "Say hello later", title: "a draft", runs: 0 })

    await page.goto(d.url())
    await page.getByLabel("Status").selectOption("draft")
    await expect.poll(() => rows().count(), patience).toBe(1)
    expect(await row(draft).locator(".status").textContent()).toBe("draft")
    await expectAccessible(page, "the list of drafts")
    await row(draft).locator("td.title a").click()
    await page.waitForURL(/\/new\?draft=/)
    await expect.poll(() => page.getByLabel("What should Claude do?").inputValue(), patience).toBe("Say hello later")
    expect(await page.getByLabel("Title").inputValue()).toBe("a draft")
    await expectAccessible(page, "a draft in the form")
    await screenshot(page, "draft")

    d.world.fake.setScript([{ text: "Hello, from a draft." }])
    await page.getByLabel("What should Claude do?").fill("Say hello now")
    await page.keyboard.press("Control+Enter")
    await page.waitForURL((u) => u.pathname === `/sessions/${draft}`)
    await expectStatus(page, "completed")
    await expect.poll(() => lastAnswer().textContent(), patience).toContain("Hello, from a draft.")
    expect(await page.locator("article[data-kind=user_text]").first().textContent()).toContain("Say hello now")
    expect(lastSent()).toContain("Say hello now")
  })

  it("discards a draft and restores it", async () => {
    const created = await d.call("POST", "/v1/drafts", { query: "maybe", title: "to discard" })
    expect(created.status).toBe(202)
    const id = created.body.sessionId
    await page.goto(`${d.url()}/sessions/${id}`)
    // A draft opens in the form.
    await page.waitForURL(/\/new\?draft=/)
    await page.getByRole("button", { name: "Discard the draft" }).click()
    await page.waitForURL((u) => u.pathname === "/")
    await page.getByLabel("Status").selectOption("discarded")
    await expect.poll(() => rows().count(), patience).toBe(1)
    await row(id).locator("td.title a").click()
    await page.getByRole("button", { name: "Restore the draft" }).click()
    await expect.poll(async () => (await d.call("GET", `/v1/sessions/${id}`)).body.status, patience).toBe("draft")
    await page.getByRole("button", { name: "Save the draft" }).waitFor()
  })
})
