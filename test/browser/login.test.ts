// With AGENTLOG_API_TOKEN set, the page asks for the token once and then lives on an
// HttpOnly cookie: a wrong token is refused next to the field, the right one opens the
// page (list, live transcript over SSE, a command), and the token is kept nowhere.
import type { Page } from "playwright-core"
import { afterAll, beforeAll, expect, it } from "vitest"
import { expectAccessible, expectStatus, openDashboard, screenshot, type Dashboard } from "./support/dashboard.ts"

const token = "browser-login-token-0123456789abcdef"
// The service, claude and the read models are slow on a loaded machine: wait on events, generously.
const patience = { timeout: 30_000 }
let d: Dashboard
let page: Page

beforeAll(async () => {
  d = await openDashboard("web-login", { AGENTLOG_API_TOKEN: token })
  page = await d.browser.context.newPage()
})

afterAll(async () => {
  await d?.close()
})

it("asks for the token, refuses a wrong one, takes the right one, and keeps only an HttpOnly cookie", async () => {
  d.world.fake.setScript([{ text: "Hello from behind the token." }])
  const launched = await d.call("POST", "/v1/sessions", { query: "say hello", cwd: d.world.claude.cwd, title: "behind a token" })
  expect(launched.status).toBe(202)

  await page.goto(d.url())
  const field = page.getByLabel("API token")
  await field.waitFor()
  await expectAccessible(page, "the login")
  await field.fill(`${token}-wrong`)
  await page.keyboard.press("Enter")
  await expect.poll(() => page.locator("#token-error").textContent(), patience).toContain("That token is not right")
  await screenshot(page, "login")

  await field.fill(token)
  await page.keyboard.press("Enter")
  const row = page.locator("table.sessions tbody tr[data-session]")
  await expect.poll(() => row.count(), patience).toBe(1)

  // The live transcript (EventSource: the cookie is its only credential) and a command (cookie + page header).
  await page.locator("td.title a").click()
  await expectStatus(page, "completed")
  await expect.poll(() => page.locator("article[data-kind=assistant_text]").last().textContent(), patience).toContain("Hello from behind the token.")
  await page.getByRole("button", { name: "Archive" }).click()
  await expect.poll(async () => (await d.call("GET", `/v1/sessions/${launched.body.sessionId}`)).body.archived, patience).toBe(true)

  const cookies = await d.browser.context.cookies()
  expect(cookies.map((c) => [c.name, c.httpOnly, c.sameSite])).toEqual([["agentlog_session", true, "Strict"]])
  expect(cookies[0]!.value).not.toContain(token)
  const stored = await page.evaluate("JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage), location.href, document.cookie])")
  expect(stored).not.toContain(token)
  expect(stored).not.toContain("agentlog_session")
  const logged = JSON.stringify(d.service.logs)
  expect(logged).not.toContain(token)
})
