// additionalDirectories reach Claude: the real `claude` is told about them (it lists them
// among its working directories in what it sends the Messages API).
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, expect, it } from "vitest"
import { startSupervisorHarness, type SupervisorHarness } from "../support/supervisorHarness.ts"

let h: SupervisorHarness | undefined
let dir: string | undefined
afterEach(async () => {
  await h?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
  h = dir = undefined
})

it("a session's additionalDirectories are given to Claude besides its cwd", async () => {
  dir = mkdtempSync(join(tmpdir(), "agentlog-extra-dir-"))
  h = await startSupervisorHarness([{ text: "seen" }, { text: "seen again" }])
  const { sessionId } = await h.launch("which directories?", { additionalDirectories: [dir] })
  expect((await h.waitForStatus(sessionId, ["completed", "failed"])).status).toBe("completed")
  const main = h.fake.requests.filter((r) => r.kind === "main")
  expect(main.length).toBeGreaterThan(0)
  expect(JSON.stringify(main[0]!.body)).toContain(dir)
  // Without them, the directory is nowhere in what Claude sends.
  const other = await h.launch("and now?")
  expect((await h.waitForStatus(other.sessionId, ["completed", "failed"])).status).toBe("completed")
  const second = h.fake.requests.filter((r) => r.kind === "main").at(-1)!
  expect(JSON.stringify(second.body)).not.toContain(dir)
})
