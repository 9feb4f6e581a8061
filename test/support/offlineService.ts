// The service in this process (startService) with the real claude binary pointed at the
// fake Messages API, on its own data dir; close() stops and removes everything.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { loadConfig } from "../../src/config.ts"
import { silentLogger } from "../../src/log.ts"
import { startService, type RunningService } from "../../src/service.ts"
import { claudeBinaryPath, makeClaudeEnv, type ClaudeEnv } from "./claudeEnv.ts"
import { startFakeAnthropic, type FakeAnthropic } from "./fakeAnthropic.ts"

export interface OfflineService {
  readonly fake: FakeAnthropic
  readonly claude: ClaudeEnv
  readonly service: RunningService
  readonly close: () => Promise<void>
}

export const startOfflineService = async (name: string, env: Record<string, string> = {}): Promise<OfflineService> => {
  const fake = await startFakeAnthropic([])
  const claude = makeClaudeEnv(fake.url)
  const dataDir = mkdtempSync(join(tmpdir(), `agentlog-${name}-`))
  const config = loadConfig({
    AGENTLOG_PORT: "0",
    AGENTLOG_DATA_DIR: dataDir,
    AGENTLOG_CLAUDE_PATH: claudeBinaryPath,
    ...env
  })
  const service = await startService({ config, logger: silentLogger, env: claude.env })
  return {
    fake,
    claude,
    service,
    close: async () => {
      await service.stop()
      await fake.close()
      claude.cleanup()
      rmSync(dataDir, { recursive: true, force: true })
    }
  }
}
