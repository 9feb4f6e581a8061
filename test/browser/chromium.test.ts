// The browser itself: it starts from the shared launcher and renders a page served on
// loopback, so a failure of the other browser tests is about agentlog, not the setup.
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { afterAll, beforeAll, expect, it } from "vitest"
import { openBrowser, type Browser } from "./support/chromium.ts"

let browser: Browser
let server: ReturnType<typeof createServer>

beforeAll(async () => {
  server = createServer((_, res) => res.end("<!doctype html><title>t</title><p id=x>hello</p>"))
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r))
  browser = await openBrowser()
})

afterAll(async () => {
  await browser?.close()
  await new Promise((r) => server.close(r))
})

it("renders a loopback page in headless Chromium", async () => {
  const page = await browser.context.newPage()
  await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`)
  expect(await page.textContent("#x")).toBe("hello")
})
