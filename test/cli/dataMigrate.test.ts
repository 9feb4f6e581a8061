// agentlog migrate, as a process, into the EventStoreDB stand-in (the real client's gRPC
// protocol, in this process): 100,000 events, the migration SIGKILLed past half way and
// run again, then verified on both sides with no event twice; and a service started on
// the migrated store serves the sessions and transcripts the embedded one served.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { startEsdbStandIn, type EsdbStandIn } from "../support/esdbStandIn.ts"
import { closeOfflineWorld, openOfflineWorld, type OfflineWorld } from "../support/offlineWorld.ts"
import { startServiceProcess, type ServiceProcess } from "../support/serviceProcess.ts"
import { waitFor } from "../support/waitFor.ts"
import { agentlog, generate, startCli, type CliRun } from "./dataSupport.ts"

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const scratch = (name: string) => {
  const d = mkdtempSync(join(tmpdir(), `agentlog-${name}-`))
  cleanups.push(() => rmSync(d, { recursive: true, force: true }))
  return d
}
const standIn = async (): Promise<EsdbStandIn> => {
  const esdb = await startEsdbStandIn({ categoryLinks: false })
  cleanups.push(() => esdb.stop())
  return esdb
}
const cliRun = (args: ReadonlyArray<string>): CliRun => {
  const c = startCli(args)
  cleanups.push(() => {
    if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill("SIGKILL")
  })
  return c
}
const userEvents = (esdb: EsdbStandIn) => esdb.allEvents().filter((e) => !e.stream.startsWith("$") && !e.type.startsWith("$"))

describe("agentlog migrate", () => {
  it("100,000 events, killed past half way and resumed: verified, no event twice", { timeout: 900_000 }, async () => {
    const dataDir = scratch("migrate-source")
    generate(dataDir, { sessions: 200, events: 100_000, replayEvents: 2_000, transcriptEvents: 2_000 })
    const esdb = await standIn()

    const first = cliRun(["migrate", "--to", esdb.connectionString, "--data-dir", dataDir])
    // The progress lines (stdout is not a terminal) come at every tenth of the way.
    await first.waitForOutput((out) => /^migrate: \d+\/100000 events \(50%\)/m.test(out))
    first.child.kill("SIGKILL")
    expect(await first.exited).toBe(null)
    const before = userEvents(esdb).length
    expect(before).toBeGreaterThanOrEqual(50_000)
    expect(before).toBeLessThan(100_000)

    const second = cliRun(["migrate", "--to", esdb.connectionString, "--data-dir", dataDir])
    expect(await second.exited, second.stderr()).toBe(0)
    const out = second.stdout()
    expect(out).toContain(`copied ${100_000 - before} events (${before} were already there)`)
    expect(out).toMatch(/^verified: 200 streams, 100000 events, the same count and hash on both sides$/m)
    const events = userEvents(esdb)
    expect(events).toHaveLength(100_000)
    expect(new Set(events.map((e) => e.id)).size).toBe(100_000)
  })

  it("the service on the migrated store serves the same sessions and transcripts", { timeout: 300_000 }, async () => {
    const world: OfflineWorld = await openOfflineWorld("migrate")
    let service: ServiceProcess | undefined
    cleanups.push(async () => {
      expect(await closeOfflineWorld(world, service)).toEqual([])
    })
    generate(world.dataDir)
    const esdb = await standIn()

    /** Every session and its transcript, without what only says where in a store it is. */
    const served = async (url: string) => {
      const get = async (path: string) => {
        const r = await fetch(`${url}${path}`)
        expect(r.status, path).toBe(200)
        return r.json() as Promise<Record<string, unknown>>
      }
      const storeFree = (v: unknown): unknown =>
        JSON.parse(JSON.stringify(v, (k, x) => (/position|cursor/i.test(k) ? undefined : x)))
      const list = (await get("/v1/sessions?limit=200")) as { items: Array<{ sessionId: string }> }
      const transcripts = await Promise.all(list.items.map((s) => get(`/v1/sessions/${s.sessionId}/transcript`)))
      return storeFree({ sessions: list.items, transcripts })
    }
    const ready = (url: string) => waitFor("read models caught up", async () => ((await fetch(`${url}/readyz`)).status === 200 ? true : undefined), { timeoutMs: 120_000, everyMs: 200 })

    service = await startServiceProcess({ dataDir: world.dataDir, claude: world.claude })
    await ready(service.url)
    const embedded = await served(service.url)
    expect((embedded as { sessions: Array<unknown> }).sessions).toHaveLength(12)
    expect(await service.stop()).toBe(0)
    service = undefined

    const migrated = await agentlog(["migrate", "--to", esdb.connectionString, "--data-dir", world.dataDir])
    expect(migrated.code, migrated.stderr).toBe(0)

    service = await startServiceProcess({ dataDir: scratch("migrate-esdb-data"), claude: world.claude, env: { AGENTLOG_EVENTSTORE: esdb.connectionString } })
    await ready(service.url)
    expect(await served(service.url)).toEqual(embedded)
  })
})
