// `npm run demo` must show a newcomer a whole session offline: launch, a tool call, an
// approval, the transcript and the record.
import { execFile } from "node:child_process"
import { promisify } from "node:util"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const demo = fileURLToPath(new URL("../../scripts/demo.ts", import.meta.url))

describe("npm run demo", () => {
  it("runs a full session with a tool call and an approval through the real claude binary", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [demo], {
      env: { ...process.env, AGENTLOG_PORT: "0", AGENTLOG_DEMO_EXIT: "1", AGENTLOG_DATA_DIR: "" },
      timeout: 60_000
    })
    expect(stdout).toMatch(/is completed after 1 run\(s\)/)
    expect(stdout).toMatch(/\[tool_call\] Bash .*hello from a tool call/)
    expect(stdout).toMatch(/Claude asks to use Write/)
    expect(stdout).toMatch(/ApprovalRequested, ApprovalDecided/)
  })
})
