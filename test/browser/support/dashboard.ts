// What every dashboard test needs: the real service (node src/main.ts, the built page) with
// the real claude against the fake Messages API, a browser, and the checks every screen
// gets (axe-core, a screenshot for the docs).
import { spawnSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { fileURLToPath } from "node:url"
import type { Page } from "playwright-core"
import { expect } from "vitest"
import { jsonCall, type JsonAnswer } from "../../support/jsonCall.ts"
import { closeOfflineWorld, openOfflineWorld, type OfflineWorld } from "../../support/offlineWorld.ts"
import { startServiceProcess, type ServiceProcess } from "../../support/serviceProcess.ts"
import { openBrowser, type Browser } from "./chromium.ts"

const root = fileURLToPath(new URL("../../../", import.meta.url))
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8")

/** The page as `npm start` serves it: built when missing or older than its sources. */
export const buildWeb = (): void => {
  const r = spawnSync(process.execPath, ["web/build.ts", "--if-stale"], { cwd: root, stdio: "inherit" })
  if (r.status !== 0) throw new Error("the dashboard did not build")
}

export interface Dashboard {
  readonly world: OfflineWorld
  service: ServiceProcess
  readonly browser: Browser
  readonly url: () => string
  readonly call: (method: string, path: string, body?: unknown) => Promise<JsonAnswer>
  /** Stops the service (SIGTERM) and starts it again on the same port and data. */
  readonly restart: () => Promise<void>
  readonly close: () => Promise<void>
}

export const openDashboard = async (name: string, env: Record<string, string> = {}): Promise<Dashboard> => {
  buildWeb()
  const world = await openOfflineWorld(name)
  const start = (port = "0") =>
    startServiceProcess({ dataDir: world.dataDir, claude: world.claude, env: { AGENTLOG_INTERRUPT_GRACE_MS: "3000", ...env, AGENTLOG_PORT: port } })
  let service = await start()
  const browser = await openBrowser()
  const token = env.AGENTLOG_API_TOKEN
  const d: Dashboard = {
    world,
    service,
    browser,
    url: () => d.service.url,
    call: (method, path, body) => jsonCall(d.service.url, method, path, body, token ? { authorization: `Bearer ${token}` } : {}),
    restart: async () => {
      const port = new URL(d.service.url).port
      await d.service.stop()
      d.service = await start(port)
    },
    close: async () => {
      await browser.close()
      const left = await closeOfflineWorld(world, d.service)
      expect(left, "claude processes left running").toEqual([])
    }
  }
  service = d.service
  return d
}

/** axe-core on what the page shows now: no serious or critical violation. */
export const expectAccessible = async (page: Page, what: string): Promise<void> => {
  // Evaluated over the DevTools protocol, so the page's CSP (script-src 'self') does not apply.
  await page.evaluate(axeSource)
  // A string, so the browser's globals need no DOM types here.
  const violations = (await page.evaluate(`axe.run(document, { resultTypes: ["violations"] }).then((r) =>
    r.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => v.id + " (" + v.impact + "): " + v.help + " at " + JSON.stringify(v.nodes.slice(0, 3).map((n) => n.target))))`)) as Array<string>
  expect(violations, `accessibility of ${what}`).toEqual([])
}

export const screenshot = (page: Page, name: string) => page.screenshot({ path: `${root}docs/screenshots/${name}.png` })

/** Waits until the session shown has this status. */
export const expectStatus = (page: Page, status: string, timeout = 60_000) =>
  page.locator(".session-head .status").filter({ hasText: status.replace("_", " ") }).waitFor({ timeout })

export const sessionIdOf = (page: Page): string => {
  const m = /\/sessions\/([0-9a-f-]{36})/.exec(page.url())
  if (!m) throw new Error(`not on a session page: ${page.url()}`)
  return m[1]!
}
