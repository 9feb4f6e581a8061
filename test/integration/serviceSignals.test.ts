// SIGTERM in the instant the service says it is listening (as a supervisor such as systemd
// or Kubernetes may send it) is a clean stop with exit code 0, never the default action of
// a signal that has no handler yet.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { makeClaudeEnv, type ClaudeEnv } from "../support/claudeEnv.ts"
import { startServiceProcess, type ServiceProcess } from "../support/serviceProcess.ts"

let claude: ClaudeEnv | undefined
let service: ServiceProcess | undefined
const dirs: Array<string> = []

afterEach(async () => {
  await service?.kill()
  claude?.cleanup()
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  service = claude = undefined
})

describe("signals", () => {
  it("SIGTERM right after 'listening' stops cleanly, every time", async () => {
    claude = makeClaudeEnv("http://127.0.0.1:9")
    const codes: Array<number | null> = []
    for (let i = 0; i < 5; i++) {
      const dataDir = mkdtempSync(join(tmpdir(), "agentlog-signals-"))
      dirs.push(dataDir)
      service = await startServiceProcess({ dataDir, claude })
      codes.push(await service.stop())
      expect(service.logs.some((l) => l.msg === "stopped")).toBe(true)
    }
    expect(codes).toEqual([0, 0, 0, 0, 0])
  })
})
