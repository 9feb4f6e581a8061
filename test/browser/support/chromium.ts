// One way to start the browser for every browser test: Debian's Chromium (playwright's own
// download cannot work offline), headless, with a fresh profile that is removed afterwards,
// and with the background traffic off (this machine has no network beyond loopback).
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { chromium, type BrowserContext } from "playwright-core"

export const chromiumPath = process.env.AGENTLOG_CHROMIUM ?? "/usr/bin/chromium"

export interface Browser {
  readonly context: BrowserContext
  readonly close: () => Promise<void>
}

/** `args` adds Chromium switches, such as `--host-resolver-rules` to give a name an address. */
export const openBrowser = async (args: ReadonlyArray<string> = []): Promise<Browser> => {
  const profile = mkdtempSync(join(tmpdir(), "agentlog-chromium-"))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      ...args
    ],
    viewport: { width: 1280, height: 800 }
  })
  return {
    context,
    close: async () => {
      await context.close()
      rmSync(profile, { recursive: true, force: true })
    }
  }
}
