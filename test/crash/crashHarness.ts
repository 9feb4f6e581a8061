// Shared pieces of the crash suite: the service as a child process that can also be killed
// in the middle of its start-up, a ledger of everything the service acknowledged to a
// client (202 answers, events seen over SSE or GET), and the checks run on the data
// directory while the service is stopped: every acknowledged event is stored where it was
// acknowledged, no stream has a gap or a duplicate, every run that was in flight at a kill
// ended as RunAbandoned, and read.db equals a rebuild from zero (byte for byte).
import { spawn } from "node:child_process"
import { randomUUID } from "node:crypto"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { DatabaseSync } from "node:sqlite"
import { Effect, Stream } from "effect"
import type { RecordedEvent } from "../../src/eventstore/eventStore.ts"
import { makeSqliteEventStore } from "../../src/eventstore/sqliteEventStore.ts"
import { allProjections } from "../../src/projections/allProjections.ts"
import { prepareProjections } from "../../src/projections/projectionRunner.ts"
import { readDbFile } from "../../src/projections/readDb.ts"
import { claudeBinaryPath, type ClaudeEnv } from "../support/claudeEnv.ts"
import type { FakeAnthropic } from "../support/fakeAnthropic.ts"
import { startServiceProcess, type ServiceProcess } from "../support/serviceProcess.ts"
import { openSse, type SseReader } from "../http/sseClient.ts"
import { dump, openReadDb, tempDir } from "../projections/projectionsFixtures.ts"
import { waitForSessionStatus } from "../support/waitFor.ts"

const mainTs = fileURLToPath(new URL("../../src/main.ts", import.meta.url))

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/**
 * How long a wait of the suite gives up after. Every wait ends on an event (a status, a
 * frame, a log line); this only bounds a hang, generously: on a shared 2-core machine at a
 * load average of 25 a start-up or a claude run took well over 30 s.
 */
export const patienceMs = 120_000

// ---- HTTP ----

export interface Answer {
  readonly status: number
  readonly body: any
  readonly contentType: string
  readonly headers: Readonly<Record<string, string>>
}

export const call = async (
  url: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {}
): Promise<Answer> => {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {})
  })
  const text = await res.text()
  let parsed: unknown = text
  try {
    parsed = text === "" ? undefined : JSON.parse(text)
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: parsed, contentType: res.headers.get("content-type") ?? "", headers: Object.fromEntries(res.headers) }
}

export const accepted = async (url: string, method: string, path: string, body?: unknown): Promise<any> => {
  const a = await call(url, method, path, body)
  if (a.status !== 202) throw new Error(`${method} ${path}: ${a.status} ${JSON.stringify(a.body)}`)
  return a.body
}

export const sessionOf = async (url: string, sessionId: string): Promise<any> => {
  const a = await call(url, "GET", `/v1/sessions/${sessionId}`)
  return a.status === 200 ? a.body : undefined
}

export const waitForStatus = (url: string, sessionId: string, statuses: ReadonlyArray<string>, timeoutMs = patienceMs): Promise<any> =>
  waitForSessionStatus(url, sessionId, statuses, { timeoutMs })

// ---- the ledger of acknowledgements ----

export interface AckedEvent {
  readonly stream: string
  readonly revision: number
  readonly position: string
  readonly id: string
  readonly type: string
}

export interface AckedAnswer {
  readonly what: string
  readonly sessionId: string
  readonly position: string
  readonly revision: number
}

export class Ledger {
  readonly events = new Map<string, AckedEvent>()
  readonly answers: Array<AckedAnswer> = []
  private readonly followers = new Set<SseReader>()

  /** Remembers a 202 answer: the event at `position` is the stream's `revision`. */
  answer(what: string, body: any): any {
    if (typeof body?.position === "string" && typeof body?.revision === "number")
      this.answers.push({ what, sessionId: body.sessionId, position: body.position, revision: body.revision })
    return body
  }

  see(e: any) {
    if (typeof e?.id !== "string") return
    this.events.set(e.id, { stream: e.stream, revision: e.revision, position: e.position, id: e.id, type: e.type })
  }

  /** Follows a session's live events; every frame that arrives is an acknowledged event. */
  async follow(url: string, sessionId: string): Promise<SseReader> {
    const sse = await openSse(`${url}/v1/sessions/${sessionId}/events/live`)
    if (sse.response.status !== 200) throw new Error(`SSE for ${sessionId}: ${sse.response.status}`)
    this.followers.add(sse)
    return sse
  }

  /** Frames seen so far by every follower (not yet harvested). */
  seen(): number {
    let n = 0
    for (const f of this.followers) n += f.frames.length
    return n
  }

  /** Waits until the followers together have seen `count` frames (or one of `types`). */
  async waitForFrames(count: number, timeoutMs = patienceMs, types?: ReadonlyArray<string>): Promise<void> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const frames = [...this.followers].flatMap((f) => f.frames)
      if (types ? frames.some((f) => types.includes(f.event ?? "")) : frames.length >= count) return
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${types ? types.join("/") : `${count} frames`}`)
      await sleep(2)
    }
  }

  /** After a kill: keeps every frame that arrived, closes the followers. */
  async harvest(): Promise<void> {
    for (const f of this.followers) {
      f.close()
      await f.ended
      for (const frame of f.frames) this.see(JSON.parse(frame.data))
    }
    this.followers.clear()
  }

  /** GET /v1/sessions/:id/events: every event read back is acknowledged too. */
  async readBack(url: string, sessionId: string): Promise<number> {
    const a = await call(url, "GET", `/v1/sessions/${sessionId}/events?limit=1000`)
    if (a.status !== 200) throw new Error(`events of ${sessionId}: ${a.status}`)
    for (const e of a.body.items) this.see(e)
    return a.body.items.length
  }
}

// ---- the service ----

export const serviceEnv = (claude: ClaudeEnv, dataDir: string, extra: Record<string, string> = {}) => ({
  ...claude.env,
  AGENTLOG_DATA_DIR: dataDir,
  AGENTLOG_PORT: "0",
  AGENTLOG_HOST: "127.0.0.1",
  AGENTLOG_CLAUDE_PATH: claudeBinaryPath,
  AGENTLOG_LOG_LEVEL: "info",
  ...extra
})

export const startService = (dataDir: string, claude: ClaudeEnv, env: Record<string, string> = {}): Promise<ServiceProcess> =>
  startServiceProcess({ dataDir, claude, env, timeoutMs: patienceMs })

/**
 * Starts the service and SIGKILLs it `delayMs` after it logged `afterLine` (before it
 * listens): a crash during recovery or during the projections' catch-up. Resolves with
 * the log lines it wrote and whether it got to listen after all.
 */
export const killDuringStartup = (
  dataDir: string,
  claude: ClaudeEnv,
  afterLine: string,
  delayMs: number
): Promise<{ logs: Array<string>; listened: boolean }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [mainTs], { env: serviceEnv(claude, dataDir), stdio: ["ignore", "pipe", "pipe"] })
    const logs: Array<string> = []
    let armed = false
    let buffer = ""
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000)
    const onData = (d: Buffer) => {
      buffer += d.toString()
      let nl: number
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl)
        buffer = buffer.slice(nl + 1)
        logs.push(line)
        if (!armed && line.includes(`"msg":"${afterLine}`)) {
          armed = true
          setTimeout(() => child.kill("SIGKILL"), delayMs)
        }
      }
    }
    child.stdout.on("data", onData)
    child.stderr.on("data", onData)
    child.once("error", reject)
    child.once("exit", () => {
      clearTimeout(timer)
      resolve({ logs, listened: logs.some((l) => l.includes('"msg":"agentlog listening"')) })
    })
  })

/** read.db's lowest projection checkpoint, read without disturbing it (the service is dead). */
export const readModelCheckpoint = (dataDir: string): bigint | null => {
  let db: DatabaseSync | undefined
  try {
    db = new DatabaseSync(readDbFile(dataDir), { readOnly: true, readBigInts: true })
    const row = db.prepare("SELECT min(coalesce(commit_position, 0)) AS c FROM projection_checkpoints").get() as {
      c: bigint | null
    }
    return row.c
  } catch {
    return null
  } finally {
    db?.close()
  }
}

// ---- checks on a stopped service's data directory ----

export interface StoreCheck {
  readonly events: ReadonlyArray<RecordedEvent>
  readonly acknowledged: number
  readonly found: number
  readonly mismatches: ReadonlyArray<string>
}

export const readAllEvents = async (dataDir: string): Promise<ReadonlyArray<RecordedEvent>> => {
  const store = await Effect.runPromise(makeSqliteEventStore(dataDir))
  try {
    return [...(await Effect.runPromise(Stream.runCollect(store.readAll())))]
  } finally {
    await Effect.runPromise(store.close())
  }
}

/** Gap-free positions and revisions, unique ids, and every acknowledgement where it was given. */
export const checkStore = (events: ReadonlyArray<RecordedEvent>, ledger: Ledger): StoreCheck => {
  const mismatches: Array<string> = []
  const byId = new Map<string, RecordedEvent>()
  const byPosition = new Map<string, RecordedEvent>()
  const nextRevision = new Map<string, bigint>()
  let expectedPosition = 1n
  for (const e of events) {
    if (e.position.commit !== expectedPosition) mismatches.push(`position ${e.position.commit} where ${expectedPosition} was expected`)
    expectedPosition = e.position.commit + 1n
    if (byId.has(e.id)) mismatches.push(`duplicate event id ${e.id}`)
    byId.set(e.id, e)
    byPosition.set(`${e.position.commit}`, e)
    const want = nextRevision.get(e.stream) ?? 0n
    if (e.revision !== want) mismatches.push(`${e.stream}: revision ${e.revision} where ${want} was expected`)
    nextRevision.set(e.stream, e.revision + 1n)
  }
  let found = 0
  for (const a of ledger.events.values()) {
    const e = byId.get(a.id)
    if (!e) {
      mismatches.push(`acknowledged ${a.type} ${a.id} (${a.stream}@${a.revision}) is missing`)
      continue
    }
    if (e.stream !== a.stream || Number(e.revision) !== a.revision || `${e.position.commit}` !== a.position.split("-")[0] || e.type !== a.type) {
      mismatches.push(`acknowledged ${a.type} ${a.id} moved: was ${a.stream}@${a.revision}/${a.position}, is ${e.stream}@${e.revision}/${e.position.commit}`)
      continue
    }
    found++
  }
  for (const a of ledger.answers) {
    const e = byPosition.get(a.position.split("-")[0]!)
    if (!e || e.stream !== `session-${a.sessionId}` || Number(e.revision) !== a.revision) {
      mismatches.push(`${a.what} answered position ${a.position} (revision ${a.revision}) of ${a.sessionId}: store has ${e ? `${e.stream}@${e.revision}` : "nothing"}`)
      continue
    }
    found++
  }
  return { events, acknowledged: ledger.events.size + ledger.answers.length, found, mismatches }
}

const terminal = new Set(["RunCompleted", "RunFailed", "RunInterrupted", "RunAbandoned"])

/**
 * Every run that a killed process had started and not ended was ended by a later process
 * as RunAbandoned (never completed, failed or interrupted by someone who did not run it),
 * and every run has ended. `restarts` are the times the next process was spawned after
 * each kill: everything the killed process wrote was created before.
 */
export const checkRuns = (
  events: ReadonlyArray<RecordedEvent>,
  restarts: ReadonlyArray<number>,
  /** Checked right after a kill: runs started since this time were cut by it and end at the next start. */
  inFlightSince?: number
): { abandoned: number; mismatches: Array<string> } => {
  const mismatches: Array<string> = []
  const started = new Map<string, RecordedEvent>()
  const ended = new Map<string, RecordedEvent>()
  for (const e of events) {
    const runId = (e.data as { runId?: string }).runId
    if (!runId) continue
    if (e.type === "RunStarted") started.set(runId, e)
    if (terminal.has(e.type)) {
      if (ended.has(runId)) mismatches.push(`run ${runId} ended twice (${ended.get(runId)!.type}, ${e.type})`)
      else ended.set(runId, e)
    }
  }
  let abandoned = 0
  for (const [runId, s] of started) {
    const end = ended.get(runId)
    if (!end) {
      if (inFlightSince === undefined || s.created.getTime() < inFlightSince) mismatches.push(`run ${runId} of ${s.stream} never ended`)
      continue
    }
    const crossed = restarts.some((t) => s.created.getTime() <= t && end.created.getTime() > t)
    if (crossed) {
      if (end.type !== "RunAbandoned") mismatches.push(`run ${runId} was in flight at a kill but ended ${end.type}`)
      else abandoned++
    } else if (end.type === "RunAbandoned") {
      mismatches.push(`run ${runId} was abandoned without a kill`)
    }
  }
  return { abandoned, mismatches }
}

/**
 * read.db as the service left it against a rebuild from zero, into a scratch directory, of
 * the session events up to read.db's checkpoint: after a kill, what the next start resumes
 * from must be exactly what those events make. `caughtUp` (after a clean stop): the
 * checkpoint must also be the store's last session event.
 */
export const checkReadModels = async (
  dataDir: string,
  options: { readonly caughtUp?: boolean; readonly events?: ReadonlyArray<RecordedEvent> } = {}
): Promise<Array<string>> => {
  const { caughtUp = true } = options
  const events = options.events ?? (await readAllEvents(dataDir))
  const live = openReadDb(dataDir)
  const actual = dump(live)
  const checkpoints = (live.prepare("SELECT DISTINCT commit_position AS c FROM projection_checkpoints").all() as Array<{ c: number | null }>).map((r) => r.c)
  live.close()
  if (checkpoints.length !== 1) return [`the projections' checkpoints differ: ${checkpoints.join(", ")}`]
  const upTo = BigInt(checkpoints[0] ?? 0)
  const sessionEvents = events.filter((e) => e.stream.startsWith("session-"))
  const head = sessionEvents[sessionEvents.length - 1]?.position.commit ?? 0n
  if (caughtUp && upTo !== head) return [`read models stopped at ${upTo}, the store's last session event is at ${head}`]
  const scratch = tempDir()
  try {
    const db = openReadDb(scratch.dir)
    const runner = prepareProjections(db, allProjections, { reset: true })
    runner.applyEvents(sessionEvents.filter((e) => e.position.commit <= upTo))
    const expected = dump(db)
    db.close()
    if (actual === expected) return []
    const a = JSON.parse(actual) as Record<string, Array<unknown>>
    const b = JSON.parse(expected) as Record<string, Array<unknown>>
    const tables = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter(
      (t) => JSON.stringify(a[t]) !== JSON.stringify(b[t])
    )
    return tables.map((t) => {
      const rows = a[t] ?? []
      const want = b[t] ?? []
      const i = rows.findIndex((r, k) => JSON.stringify(r) !== JSON.stringify(want[k]))
      return `read model ${t} differs from a rebuild up to ${upTo} (${rows.length} rows vs ${want.length}; first at ${i}: ${JSON.stringify(rows[i]).slice(0, 300)} vs ${JSON.stringify(want[i]).slice(0, 300)})`
    })
  } finally {
    scratch.remove()
  }
}

const uuidPattern = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g

/**
 * Grows the (stopped) service's store to at least `target` events by copying its session
 * streams, every UUID in them (sessions, runs, approvals, Claude's) consistently replaced:
 * a large, valid history, so that a rebuild of the read models takes long enough to be
 * killed in the middle. Test data generation: the rows go in with one INSERT transaction
 * (the store's own append would fsync once per stream).
 */
export const multiplyHistory = (dataDir: string, target: number): number => {
  const db = new DatabaseSync(join(dataDir, "events.db"))
  try {
    const original = db
      .prepare("SELECT stream, revision, type, data, metadata, created FROM events WHERE stream LIKE 'session-%' ORDER BY position")
      .all() as Array<{ stream: string; revision: number; type: string; data: string; metadata: string; created: number }>
    let total = (db.prepare("SELECT count(*) AS n FROM events").get() as { n: number }).n
    const insert = db.prepare("INSERT INTO events (stream, revision, id, type, data, metadata, created) VALUES (?, ?, ?, ?, ?, ?, ?)")
    db.exec("BEGIN IMMEDIATE")
    while (total < target && original.length > 0) {
      const ids = new Map<string, string>()
      const remap = (text: string) =>
        text.replace(uuidPattern, (u) => {
          let v = ids.get(u)
          if (v === undefined) ids.set(u, (v = randomUUID()))
          return v
        })
      for (const e of original) {
        insert.run(remap(e.stream), e.revision, randomUUID(), e.type, remap(e.data), remap(e.metadata), e.created)
        total++
      }
    }
    db.exec("COMMIT")
    return total
  } finally {
    db.close()
  }
}

// ---- one kill cycle, shared by the fixed kill points and the seeded random ones ----

const ended = ["completed", "failed", "interrupted", "abandoned"]

/** Where the kill cycles run: the fake Messages API, claude's environment, one data dir. */
export interface CrashWorld {
  readonly fake: FakeAnthropic
  readonly claude: ClaudeEnv
  readonly dataDir: string
}

/**
 * Kill cycles on one data dir, each building on the history the earlier ones left, and
 * the tally over all of them: every acknowledgement (the ledger), when the service was
 * started again (for checkRuns), and every check that did not hold.
 */
export class CrashRun {
  readonly world: CrashWorld
  readonly ledger = new Ledger()
  readonly restarts: Array<number> = []
  readonly mismatches: Array<string> = []
  readonly points: Array<string> = []
  kills = 0
  lagging = 0
  continued = 0
  comparisons = 0
  service: ServiceProcess | undefined

  constructor(world: CrashWorld) {
    this.world = world
  }

  /**
   * One kill: drive the running service to a point, SIGKILL it there (and, with
   * `startupKill`, again during the next start-up), start it again and continue every
   * driven session to completed. Then the service is stopped and the data dir checked
   * (see check). `chained` (the random kills): the data dir is checked right after the
   * kill instead, read.db against a rebuild up to its own checkpoint, and the restarted
   * service is left running for the next cycle (one start per kill, not two).
   * Resolves with this cycle's mismatches.
   */
  async cycle(name: string, drive: (url: string) => Promise<ReadonlyArray<string>>, options: CycleOptions = {}): Promise<Array<string>> {
    const { fake, claude, dataDir } = this.world
    const { ledger, restarts, mismatches } = this
    const before = mismatches.length
    this.service ??= await startService(dataDir, claude)
    const sessions = await drive(this.service.url)
    const orphans = this.service.logs.filter((l) => l.msg === "claude started").map((l) => Number(l.pid))
    await this.service.kill()
    this.service = undefined
    this.kills++
    this.points.push(name)
    await ledger.harvest()
    // Projections behind the store at the moment of the kill: the kill hit projection work.
    const checkpoint = readModelCheckpoint(dataDir)
    const lastAck = [...ledger.events.values(), ...ledger.answers].reduce((m, e) => {
      const p = BigInt(e.position.split("-")[0]!)
      return p > m ? p : m
    }, 0n)
    if (checkpoint !== null && checkpoint < lastAck) this.lagging++
    if (options.chained) await this.check(name, { caughtUp: false, inFlightSince: restarts[restarts.length - 1] ?? 0 })
    fake.setScript([])
    const { startupKill } = options
    if (startupKill) {
      restarts.push(Date.now())
      const r = await killDuringStartup(dataDir, claude, startupKill.after, startupKill.delayMs)
      this.kills++
      this.points.push(`${name}, then ${r.listened ? "right after the next start-up" : "during the next start-up's recovery"}`)
    }
    restarts.push(Date.now())
    const service = (this.service = await startService(dataDir, claude))
    fake.abortStreams()
    // The killed service's claude processes were ended by the restart.
    const survivors = orphans.filter((pid) => claude.claudePids().includes(pid))
    if (survivors.length > 0) mismatches.push(`${name}: claude processes of the killed service still run: ${survivors.join(", ")}`)
    await Promise.all(
      sessions.map(async (sessionId, i) => {
        await waitForStatus(service.url, sessionId, ended)
        if (i >= (options.continueSessions ?? Infinity)) return
        ledger.answer("continue", await accepted(service.url, "POST", `/v1/sessions/${sessionId}/continue`, { query: "carry on" }))
        const s = await waitForStatus(service.url, sessionId, ended)
        if (s.status !== "completed") mismatches.push(`${name}: session ${sessionId} continued to ${s.status}`)
        else this.continued++
      })
    )
    if (!options.chained) await this.stopAndCheck(name)
    return mismatches.slice(before)
  }

  /** SIGTERM (it must exit 0), then the checks with read.db caught up. */
  async stopAndCheck(name: string): Promise<void> {
    const code = await this.service?.stop()
    this.service = undefined
    if (code !== 0) this.mismatches.push(`${name}: the service exited ${code} on SIGTERM`)
    await this.check(name, { caughtUp: true })
  }

  /**
   * The checks of a stopped (or killed) service's data dir: every acknowledged event where
   * it was acknowledged, no gap or duplicate, every run ended exactly once (abandoned when a
   * kill cut it; `inFlightSince`: except those the kill just cut), read.db equal to a rebuild.
   */
  async check(name: string, options: { readonly caughtUp: boolean; readonly inFlightSince?: number }): Promise<void> {
    const events = await readAllEvents(this.world.dataDir)
    const found: Array<string> = [
      ...checkStore(events, this.ledger).mismatches,
      ...checkRuns(events, this.restarts, options.inFlightSince).mismatches,
      ...(await checkReadModels(this.world.dataDir, { caughtUp: options.caughtUp, events }))
    ]
    this.mismatches.push(...found.map((m) => `${name}: ${m}`))
    this.comparisons++
  }
}

export interface CycleOptions {
  readonly startupKill?: { readonly after: string; readonly delayMs: number }
  readonly chained?: boolean
  /**
   * How many of the driven sessions are continued to completed after the restart (default
   * all; the others only have to end). A claude run each is most of a cycle's time.
   */
  readonly continueSessions?: number
}
