// The supervisor stopped (as on SIGTERM) and started again on the same store and data
// dir: recovery is its subscription replayed from its checkpoint. Queued runs start first
// in, first out, across any number of restarts; a queued run whose MCP secrets died with
// the previous process fails with the reason instead of starting with placeholders; the
// shutdown stops each process once and says why.
import { Effect, Stream } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import type { LogLevel } from "../../src/log.ts"
import { startSupervisorHarness, type SupervisorHarness } from "../support/supervisorHarness.ts"

let h: SupervisorHarness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

const hold = { slow: { chunks: ["working"], delayMs: 10, hold: true } }
const ended = ["completed", "failed", "interrupted", "abandoned"] as const

const logged = () => {
  const lines: Array<{ level: LogLevel; msg: string; fields: Record<string, unknown> }> = []
  return { lines, logger: { log: (level: LogLevel, msg: string, fields: Record<string, unknown> = {}) => void lines.push({ level, msg, fields }) } }
}

/** Sessions in the order their runs started, over the whole store. */
const startOrder = async (harness: SupervisorHarness) =>
  (await Effect.runPromise(Stream.runCollect(harness.store.readAll({ filter: { eventTypes: ["RunStarted"] } })))).map((e) =>
    e.stream.slice("session-".length)
  )

describe("supervisor restarts", () => {
  it("starts queued runs first in, first out, across restarts; stops each process once and says why", async () => {
    const log = logged()
    h = await startSupervisorHarness([hold, hold], { maxRunning: 2 }, { logger: log.logger })
    const long = [await h.launch("long one"), await h.launch("long two")]
    await h.fake.waitForSlowChunks(2, 60_000)
    const queued = []
    for (let i = 1; i <= 5; i++) queued.push(await h.launch(`queued ${i}`))
    expect(await Effect.runPromise(h.supervisor.seen(queued.at(-1)!.position, 5_000))).toBe(true)
    expect(queued.map((q) => h!.supervisor.queuePosition(q.sessionId))).toEqual([1, 2, 3, 4, 5])

    // First restart: the two long runs are interrupted; the two oldest queued runs start.
    h.fake.setScript([hold, hold, { text: "three" }, { text: "four" }, { text: "five" }])
    await h.restart()
    for (const l of long) expect((await h.state(l.sessionId)).status).toBe("interrupted")
    await h.fake.waitForSlowChunks(4, 60_000)
    expect(queued.slice(2).map((q) => h!.supervisor.queuePosition(q.sessionId))).toEqual([1, 2, 3])

    // Second restart: those two are interrupted in turn; the other three follow in order.
    await h.restart()
    for (const q of queued.slice(2)) expect((await h.waitForStatus(q.sessionId, ended, 90_000)).status).toBe("completed")
    expect(await startOrder(h)).toEqual([...long, ...queued].map((s) => s.sessionId))

    // Each shutdown said what it did and stopped each running process exactly once.
    const stopping = log.lines.filter((l) => l.msg === "stopping claude").map((l) => l.fields.sessionId)
    expect(stopping.sort()).toEqual([...long, ...queued.slice(0, 2)].map((s) => s.sessionId).sort())
    expect(log.lines.filter((l) => l.msg === "interrupting a run: the service is stopping")).toHaveLength(4)
    expect(log.lines.some((l) => l.msg.includes("another instance"))).toBe(false)
  }, 240_000)

  it("a requeued run whose MCP secrets are gone fails with the reason and never starts", async () => {
    h = await startSupervisorHarness([hold], { maxRunning: 1 })
    await h.launch("long")
    await h.fake.waitForSlowChunks(1, 60_000)
    const secretive = await h.launch("uses a secret", {
      mcpServers: { vault: { command: "/nonexistent/mcp", env: { TOKEN: "s3cr3t-value", HOME_REF: "${HOME}" } } }
    })
    expect(await Effect.runPromise(h.supervisor.seen(secretive.position, 5_000))).toBe(true)
    expect(h.supervisor.queuePosition(secretive.sessionId)).toBe(1)

    await h.restart()
    expect((await h.waitForStatus(secretive.sessionId, ended)).status).toBe("failed")
    expect(await h.types(secretive.sessionId)).toEqual(["SessionLaunched", "RunFailed"])
    const failed = (await h.events(secretive.sessionId)).at(-1)!.data as { error: string }
    expect(failed.error).toMatch(/^MCP secret for vault\.TOKEN is no longer available .*; continue with it resent$/)
  })
})
