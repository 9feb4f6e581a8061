// 4. Supervisor overhead: one scripted session through agentlog (HTTP launch -> the run
// completed in the read model) against the same `claude` binary run directly with the
// Agent SDK's query() (streaming input, the same options), against the same fake Messages
// API, in the same process, interleaved, several times.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { query, type SDKUserMessage } from "@anthropic-ai/claude-agent-sdk"
import { loadConfig } from "../src/config.ts"
import { makeLogger } from "../src/log.ts"
import { openPolicy, protectionFor, sandboxOptions } from "../src/process/sandbox.ts"
import { startService } from "../src/service.ts"
import { claudeBinaryPath, makeClaudeEnv } from "../test/support/claudeEnv.ts"
import { startFakeAnthropic, type Turn } from "../test/support/fakeAnthropic.ts"
import { fmt, median, type Row } from "./table.ts"

export interface SupervisorBenchOptions {
  readonly repetitions: number
  readonly log: (line: string) => void
}

const prompt = "List the files, then count them."
const script: Array<Turn> = [
  { text: "Let me look at the directory.", toolUse: { name: "Bash", input: { command: "ls -la" } } },
  { text: "Now let me count them.", toolUse: { name: "Bash", input: { command: "ls | wc -l" } } },
  { text: "There are a few files here; the listing above shows each of them." }
]

/** Reads SSE frames from a response body until `until` says stop; returns that event's data. */
const waitForSse = async (res: Response, until: (event: string) => boolean): Promise<Record<string, unknown>> => {
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  let buffer = ""
  try {
    for (;;) {
      const { value, done } = await reader.read()
      if (done) throw new Error("the event stream ended before the run did")
      buffer += decoder.decode(value, { stream: true })
      let end: number
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const frame = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        const event = /^event: (.*)$/m.exec(frame)?.[1]
        const data = /^data: (.*)$/m.exec(frame)?.[1]
        if (event !== undefined && data !== undefined && until(event)) return JSON.parse(data) as Record<string, unknown>
      }
    }
  } finally {
    await reader.cancel().catch(() => {})
  }
}

export const runSupervisorBench = async (o: SupervisorBenchOptions): Promise<Array<Row>> => {
  const fake = await startFakeAnthropic([], { defaultText: "ok" })
  const claude = makeClaudeEnv(fake.url, { prefix: "agentlog-bench-" })
  const dataDir = mkdtempSync(join(tmpdir(), "agentlog-bench-data-"))
  const env = { ...process.env, ...claude.env }
  const config = loadConfig({
    ...env,
    AGENTLOG_DATA_DIR: dataDir,
    AGENTLOG_PORT: "0",
    AGENTLOG_HOST: "127.0.0.1",
    AGENTLOG_CLAUDE_PATH: claudeBinaryPath,
    AGENTLOG_LOG_LEVEL: "warn"
  })
  const service = await startService({ config, logger: makeLogger("warn"), env })
  // The baseline gets the fence agentlog gives every run (Claude Code's sandbox when it can
  // run here: bubblewrap around each command), so the ratio is agentlog's own cost.
  const protection = protectionFor(config.sandbox)
  const fence = sandboxOptions({ ...openPolicy, protection, privatePaths: [dataDir] })

  const throughAgentlog = async (): Promise<number> => {
    fake.setScript(script)
    const started = performance.now()
    const launched = await fetch(`${service.url}/v1/sessions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: prompt, cwd: claude.cwd, allowedTools: ["Bash"] })
    })
    if (launched.status !== 202) throw new Error(`launch: ${launched.status} ${await launched.text()}`)
    const { sessionId } = (await launched.json()) as { sessionId: string }
    const live = await fetch(`${service.url}/v1/sessions/${sessionId}/events/live`)
    const ended = await waitForSse(live, (e) => e === "RunCompleted" || e === "RunFailed" || e === "RunInterrupted")
    // Read-your-writes: the read model has the run's end.
    const s = (await (await fetch(`${service.url}/v1/sessions/${sessionId}?minPosition=${String(ended.position)}`)).json()) as { status: string }
    const ms = performance.now() - started
    if (s.status !== "completed") throw new Error(`the run ended ${s.status}: ${JSON.stringify(ended)}`)
    return ms
  }

  const direct = async (): Promise<number> => {
    fake.setScript(script)
    const started = performance.now()
    let finish: () => void = () => {}
    const inputDone = new Promise<void>((r) => (finish = r))
    // Streaming input, as agentlog runs claude: the prompt stays open until the result.
    async function* input(): AsyncIterable<SDKUserMessage> {
      yield { type: "user", message: { role: "user", content: prompt }, parent_tool_use_id: null }
      await inputDone
    }
    const q = query({
      prompt: input(),
      options: {
        cwd: claude.cwd,
        allowedTools: ["Bash"],
        disallowedTools: fence.denyRules,
        ...(fence.sandbox === undefined ? {} : { sandbox: fence.sandbox }),
        includePartialMessages: false,
        pathToClaudeCodeExecutable: claudeBinaryPath,
        env: { ...env },
        canUseTool: async (_tool, input) => ({ behavior: "allow", updatedInput: input })
      }
    })
    let result: { subtype?: string } | undefined
    try {
      for await (const m of q) {
        if (m.type === "result") {
          result = m
          finish()
        }
      }
    } finally {
      finish()
      q.close()
    }
    const ms = performance.now() - started
    if (result?.subtype !== "success") throw new Error(`direct run ended ${JSON.stringify(result)}`)
    return ms
  }

  const agentlogMs: Array<number> = []
  const directMs: Array<number> = []
  try {
    // Warm-up: page the binary in, JIT both paths.
    await direct()
    await throughAgentlog()
    for (let i = 0; i < o.repetitions; i++) {
      const pair = i % 2 === 0 ? [direct, throughAgentlog] : [throughAgentlog, direct]
      for (const f of pair) (f === direct ? directMs : agentlogMs).push(await f())
      o.log(`  run ${i + 1}: direct ${fmt.ms(directMs.at(-1)!)} agentlog ${fmt.ms(agentlogMs.at(-1)!)}`)
    }
  } finally {
    await service.stop()
    await fake.close()
    claude.cleanup()
    rmSync(dataDir, { recursive: true, force: true })
  }
  const a = median(agentlogMs)
  const d = median(directMs)
  // Each pair ran back to back: the median of the pairs' own ratios.
  const ratio = median(agentlogMs.map((x, i) => x / directMs[i]!))
  return [
    {
      item: 4,
      what: `scripted session (3 turns, 2 tool calls), median of ${o.repetitions}; both ${protection.enabled ? "sandboxed" : "unsandboxed"}`,
      figure: `agentlog ${fmt.ms(a)}`,
      baseline: `SDK query() ${fmt.ms(d)}`,
      ratio: `${fmt.ratio(ratio)} (${fmt.pct(ratio - 1)})`,
      goal: "< +10%",
      pass: ratio < 1.1
    }
  ]
}
