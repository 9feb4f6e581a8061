// The dashboard in Chromium against the real service, the real claude and the fake
// Messages API: what a person does on the page, end to end.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import type { Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { expectAccessible, expectStatus, openDashboard, screenshot, sessionIdOf, type Dashboard } from "./support/dashboard.ts"

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
    await expect.poll(() => call.getAttribute("data-state"), { timeout: 60_000 }).toBe("waiting")
    await expect.poll(() => page.locator(".approval figure.diff").textContent()).toContain("hello")
    await expect.poll(() => page.locator(".session-head .connection").textContent()).toMatch(/live/)
    await expectAccessible(page, "a session waiting for approval")
    await screenshot(page, "approval")

    await page.keyboard.press("a")
    await expectStatus(page, "completed")
    await expect.poll(() => call.getAttribute("data-state")).toBe("done")
    await expect.poll(() => call.locator(".decision").textContent()).toContain("Allowed by")
    await expect.poll(() => page.locator("article[data-kind=result]").textContent()).toContain("hello.txt holds")
    await expect.poll(() => page.locator("article[data-kind=result] .figures").textContent()).toContain("$")
    expect(readFileSync(target, "utf8")).toBe("hello\n")
    await expectAccessible(page, "a completed session")
    await screenshot(page, "session")
  })
})
