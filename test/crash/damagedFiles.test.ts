// Torn and damaged files in the data directory, met by the real service process at
// start-up: a WAL cut off in the middle of a frame after a kill -9 (what was committed
// before the cut survives, as a prefix of the history, and the read models follow the
// store, not what they had seen), read.db deleted while stopped (rebuilt, identical), and
// files that are not databases (refused with a message naming the file, left untouched).
import { spawn } from "node:child_process"
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeClaudeEnv, type ClaudeEnv } from "../support/claudeEnv.ts"
import { startFakeAnthropic, type FakeAnthropic } from "../support/fakeAnthropic.ts"
import type { ServiceProcess } from "../support/serviceProcess.ts"
import { dump, openReadDb } from "../projections/projectionsFixtures.ts"
import {
  accepted,
  checkReadModels,
  checkRuns,
  checkStore,
  Ledger,
  readAllEvents,
  serviceEnv,
  startService,
  waitForStatus
} from "./crashHarness.ts"

const mainTs = fileURLToPath(new URL("../../src/main.ts", import.meta.url))

let fake: FakeAnthropic
let claude: ClaudeEnv
let service: ServiceProcess | undefined
const dirs: Array<string> = []
const newDir = (name: string) => {
  const d = mkdtempSync(join(tmpdir(), `agentlog-${name}-`))
  dirs.push(d)
  return d
}

beforeAll(async () => {
  fake = await startFakeAnthropic([], { defaultText: "OK" })
  claude = makeClaudeEnv(fake.url, { prefix: "agentlog-damaged-" })
})

afterAll(async () => {
  await service?.kill()
  await fake?.close()
  for (const pid of claude ? claude.claudePids() : []) process.kill(pid, "SIGKILL")
  claude?.cleanup()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

const tools = (n: number, tag: string) => ({
  text: `running ${n} commands`,
  toolUse: Array.from({ length: n }, (_, i) => ({ name: "Bash", input: { command: `echo ${tag}-${i}` } }))
})

/** A few completed sessions, then one killed with SIGKILL while its tool calls stream in. */
const historyWithKill = async (dataDir: string, ledger: Ledger): Promise<{ killedAt: number; sessions: Array<string> }> => {
  service = await startService(dataDir, claude)
  const url = service.url
  const sessions: Array<string> = []
  for (let i = 0; i < 3; i++) {
    fake.setScript([tools(4, `s${i}`), { text: "done" }])
    const { sessionId } = ledger.answer("launch", await accepted(url, "POST", "/v1/sessions", { query: `job ${i}`, cwd: claude.cwd, allowedTools: ["Bash"] }))
    await waitForStatus(url, sessionId, ["completed"])
    sessions.push(sessionId)
  }
  fake.setScript([tools(10, "x"), tools(10, "y"), { text: "done" }])
  const { sessionId } = ledger.answer("launch", await accepted(url, "POST", "/v1/sessions", { query: "killed job", cwd: claude.cwd, allowedTools: ["Bash"] }))
  sessions.push(sessionId)
  await ledger.follow(url, sessionId)
  await ledger.waitForFrames(20)
  await service.kill()
  service = undefined
  await ledger.harvest()
  fake.setScript([])
  return { killedAt: Date.now(), sessions }
}

/** The events a copy of these files holds (the originals stay as they are). */
const eventsOfCopy = async (files: Record<string, string>) => {
  const dir = newDir("copy")
  for (const [name, from] of Object.entries(files)) copyFileSync(from, join(dir, name))
  return readAllEvents(dir)
}

/** Runs `node src/main.ts` on a data dir that must be refused; resolves with its exit code and output. */
const refusedStart = (dataDir: string): Promise<{ code: number | null; output: string }> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [mainTs], { env: serviceEnv(claude, dataDir), stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    child.stdout.on("data", (d) => (output += d))
    child.stderr.on("data", (d) => (output += d))
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000)
    child.once("exit", (code) => {
      clearTimeout(timer)
      resolve({ code, output })
    })
  })

describe("torn and damaged files", () => {
  it("a WAL torn in the middle of a frame: the committed prefix survives, read models follow the store, the session continues", async () => {
    const dataDir = newDir("torn-wal")
    const ledger = new Ledger()
    const { killedAt, sessions } = await historyWithKill(dataDir, ledger)
    const db = join(dataDir, "events.db")
    const wal = `${db}-wal`
    expect(existsSync(wal)).toBe(true)
    const full = await eventsOfCopy({ "events.db": db, "events.db-wal": wal })
    const checkpointed = await eventsOfCopy({ "events.db": db })

    // WAL: a 32-byte header, then frames of 24 bytes + one page. Cut the last third of the
    // frames off, in the middle of a frame (a torn write).
    const pageSize = readFileSync(wal).readUInt32BE(8)
    const frames = Math.floor((statSync(wal).size - 32) / (24 + pageSize))
    expect(frames).toBeGreaterThan(3)
    const keep = Math.ceil((frames * 2) / 3)
    truncateSync(wal, 32 + keep * (24 + pageSize) + 24 + Math.floor(pageSize / 2))
    const torn = await eventsOfCopy({ "events.db": db, "events.db-wal": wal })
    expect(torn.length).toBeLessThan(full.length)

    const restartedAt = Date.now()
    service = await startService(dataDir, claude)
    const kept = new Set(torn.map((e) => e.stream))
    for (const s of sessions) {
      if (!kept.has(`session-${s}`)) {
        // The cut took the whole session with it: the read models must not remember it.
        expect((await fetch(`${service.url}/v1/sessions/${s}`)).status).toBe(404)
        continue
      }
      await waitForStatus(service.url, s, ["completed", "abandoned"])
      ledger.answer("continue", await accepted(service.url, "POST", `/v1/sessions/${s}/continue`, { query: "carry on" }))
      expect((await waitForStatus(service.url, s, ["completed", "failed", "abandoned", "interrupted"])).status).toBe("completed")
    }
    expect(await service.stop()).toBe(0)
    service = undefined

    const after = await readAllEvents(dataDir)
    const fullIds = full.map((e) => e.id)
    const survivors = after.filter((e) => fullIds.includes(e.id))
    // What survived is exactly the history up to the cut, in order, at the same positions:
    // everything the main file held, and whole transactions from the WAL, nothing torn.
    expect(survivors.map((e) => e.id)).toEqual(fullIds.slice(0, survivors.length))
    expect(survivors.map((e) => `${e.position.commit}`)).toEqual(full.slice(0, survivors.length).map((e) => `${e.position.commit}`))
    expect(survivors.length).toBe(torn.length)
    expect(survivors.length).toBeGreaterThanOrEqual(checkpointed.length)
    // Positions and revisions stay gap-free past the cut; runs cut off in flight are abandoned.
    const fresh = new Ledger()
    expect(checkStore(after, fresh).mismatches).toEqual([])
    expect(checkRuns(after, [killedAt, restartedAt - 1]).mismatches).toEqual([])
    // The read models had seen events that are gone: they must follow the store, not their memory.
    expect(await checkReadModels(dataDir)).toEqual([])
    console.log(
      `torn WAL: ${full.length} events before the cut, ${checkpointed.length} in the main file, ${survivors.length} survived ` +
        `(${keep}/${frames} WAL frames kept), ${after.length - survivors.length} appended after the restart; read models equal a rebuild`
    )
  })

  it("read.db deleted while stopped: rebuilt at start-up, identical to what it was", async () => {
    const dataDir = newDir("no-readdb")
    const ledger = new Ledger()
    await historyWithKill(dataDir, ledger)
    service = await startService(dataDir, claude)
    expect(await service.stop()).toBe(0)
    service = undefined
    const before = dump(openReadDb(dataDir))
    for (const f of ["read.db", "read.db-wal", "read.db-shm"]) rmSync(join(dataDir, f), { force: true })

    service = await startService(dataDir, claude)
    expect(service.logs.some((l) => String(l.msg).includes("read models building from zero"))).toBe(true)
    const sessions = ((await (await fetch(`${service.url}/v1/sessions?limit=200&minPosition=1`)).json()) as any).items
    expect(sessions).toHaveLength(4)
    expect(await service.stop()).toBe(0)
    service = undefined
    const rebuiltDb = openReadDb(dataDir)
    expect(dump(rebuiltDb)).toBe(before)
    rebuiltDb.close()
    expect(await checkReadModels(dataDir)).toEqual([])
    expect(checkStore(await readAllEvents(dataDir), ledger).mismatches).toEqual([])
  })

  it.each([
    ["events.db", "text", () => Buffer.from("these are my notes, not a database\n".repeat(300))],
    ["events.db", "random bytes", () => Buffer.from(Array.from({ length: 16_384 }, (_, i) => (i * 7919 + 13) % 256))],
    ["read.db", "text", () => Buffer.from("not a database either\n".repeat(300))]
  ])("%s that is %s: start-up refuses, names the file, and leaves it untouched", async (name, _what, content) => {
    const dataDir = newDir("not-a-db")
    if (name === "read.db") {
      // A real store next to it, so only read.db is wrong.
      service = await startService(dataDir, claude)
      expect(await service.stop()).toBe(0)
      service = undefined
      for (const f of ["read.db", "read.db-wal", "read.db-shm"]) rmSync(join(dataDir, f), { force: true })
    }
    const file = join(dataDir, name)
    const bytes = content()
    writeFileSync(file, bytes)
    const otherFiles = () =>
      ["events.db", "events.db-wal", "read.db", "read.db-wal"].filter((f) => f !== name && existsSync(join(dataDir, f)))
    const beforeOthers = otherFiles().map((f) => [f, readFileSync(join(dataDir, f)).toString("base64")])
    const r = await refusedStart(dataDir)
    expect(r.code).toBe(1)
    expect(r.output).toContain(file)
    expect(r.output).not.toContain("agentlog listening")
    expect(readFileSync(file).equals(bytes)).toBe(true)
    // Nothing else was written beside it either (no fresh WAL or read models for a store it refused).
    expect(otherFiles().map((f) => [f, readFileSync(join(dataDir, f)).toString("base64")])).toEqual(beforeOthers)
    console.log(`${name} that is ${_what}: refused with ${JSON.stringify(r.output.trim().split("\n").at(-1))}`)
  })

  it("a data directory that is a file: refused, naming it", async () => {
    const parent = newDir("data-is-file")
    const dataDir = join(parent, "data")
    writeFileSync(dataDir, "I am a file")
    const r = await refusedStart(dataDir)
    expect(r.code).toBe(1)
    expect(r.output).toContain(dataDir)
    expect(readFileSync(dataDir, "utf8")).toBe("I am a file")
    mkdirSync(join(parent, "ok"))
  })
})
