// What a test of the service process needs around it: a fake Messages API, an isolated
// HOME for claude, a data directory; and, afterwards, all of it gone with no claude left.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { makeClaudeEnv, type ClaudeEnv } from "./claudeEnv.ts"
import { startFakeAnthropic, type FakeAnthropic } from "./fakeAnthropic.ts"
import type { ServiceProcess } from "./serviceProcess.ts"

export interface OfflineWorld {
  readonly fake: FakeAnthropic
  readonly claude: ClaudeEnv
  readonly dataDir: string
}

export const openOfflineWorld = async (name: string): Promise<OfflineWorld> => {
  const fake = await startFakeAnthropic([], { defaultText: "OK" })
  const claude = makeClaudeEnv(fake.url, { prefix: `agentlog-${name}-` })
  const dataDir = mkdtempSync(join(tmpdir(), `agentlog-${name}-data-`))
  return { fake, claude, dataDir }
}

/** Stops everything; returns the claude processes that were still running (and were killed). */
export const closeOfflineWorld = async (
  world: Partial<OfflineWorld>,
  service: ServiceProcess | undefined
): Promise<ReadonlyArray<number>> => {
  await service?.kill()
  world.fake?.release()
  await world.fake?.close()
  const left = world.claude?.claudePids() ?? []
  for (const pid of left) {
    try {
      process.kill(pid, "SIGKILL")
    } catch {
      // Gone between the look and the kill.
    }
  }
  world.claude?.cleanup()
  if (world.dataDir) rmSync(world.dataDir, { recursive: true, force: true })
  return left
}
