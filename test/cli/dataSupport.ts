// What the data-command tests share: the CLI as a process, a generated store, its read
// models built by the real projections, and both compared stream by stream / table by table.
import { type ChildProcess, spawn } from "node:child_process"
import { DatabaseSync } from "node:sqlite"
import { fileURLToPath } from "node:url"
import { Stream } from "effect"
import { generateDataset, type DatasetSpec } from "../../bench/generate.ts"
import { openStore, run, streamsOf } from "../../src/cli/data/stores.ts"
import { tableDigest } from "../../src/cli/data/verify.ts"
import { allProjections } from "../../src/projections/allProjections.ts"
import { prepareProjections, runSubscription } from "../../src/projections/projectionRunner.ts"
import { openReadDb, readDbFile } from "../../src/projections/readDb.ts"

const cliTs = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url))

export interface CliRun {
  readonly child: ChildProcess
  readonly stdout: () => string
  readonly stderr: () => string
  readonly exited: Promise<number | null>
  /** Resolves once stdout satisfies ok (checked as output arrives). */
  readonly waitForOutput: (ok: (stdout: string) => boolean) => Promise<void>
}

export const startCli = (args: ReadonlyArray<string>, env: Record<string, string> = {}): CliRun => {
  const child = spawn(process.execPath, [cliTs, ...args], { env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] })
  let out = ""
  let err = ""
  const listeners = new Set<() => void>()
  child.stdout!.on("data", (d: Buffer) => {
    out += d.toString()
    for (const l of [...listeners]) l()
  })
  child.stderr!.on("data", (d: Buffer) => void (err += d.toString()))
  const exited = new Promise<number | null>((r) => child.once("close", (code) => r(code)))
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForOutput: (ok) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!ok(out)) return
          listeners.delete(check)
          resolve()
        }
        void exited.then((code) => {
          if (listeners.delete(check)) reject(new Error(`agentlog exited (${code}) first; stdout: ${out.slice(-500)}; stderr: ${err}`))
        })
        listeners.add(check)
        check()
      })
  }
}

export const agentlog = async (args: ReadonlyArray<string>, env: Record<string, string> = {}) => {
  const c = startCli(args, env)
  const code = await c.exited
  return { code, stdout: c.stdout(), stderr: c.stderr() }
}

export const generate = (dir: string, spec: Partial<DatasetSpec> = {}) =>
  generateDataset(dir, { sessions: 12, events: 1_200, replayEvents: 150, transcriptEvents: 150, seed: 5, ...spec })

/** Builds the read models of a stopped data dir from its store, as the service would. */
export const buildReadModels = async (dataDir: string): Promise<void> => {
  const { store, close } = await openStore(dataDir, true)
  const db = openReadDb(dataDir)
  try {
    await run(runSubscription(store, prepareProjections(db, allProjections), { untilCaughtUp: true }))
  } finally {
    db.close()
    await close()
  }
}

/**
 * Every read model table's digest. The events index keeps the time the store recorded each
 * event and where in the store's global order it is, the sessions their last position:
 * another store's copy (appended stream by stream) differs there and only there.
 */
const storeColumns: Record<string, ReadonlyArray<string>> = {
  events_index: ["created_at", "commit_position", "prepare_position"],
  sessions: ["last_position"]
}

export const readModelDigests = (dataDir: string, leaveOutStoreTime = false): Record<string, string> => {
  const db = new DatabaseSync(readDbFile(dataDir), { readOnly: true })
  try {
    return Object.fromEntries(
      allProjections.flatMap((p) => p.tables).map((t) => [t, `${JSON.stringify(tableDigest(db, t, leaveOutStoreTime ? storeColumns[t] ?? [] : []))}`])
    )
  } finally {
    db.close()
  }
}

/** Every stream of a store: each event's revision, id, type, data and metadata as the store holds them. */
export const storeContents = async (spec: string): Promise<Map<string, Array<string>>> => {
  const { store, close } = await openStore(spec, true)
  try {
    const contents = new Map<string, Array<string>>()
    for (const stream of (await streamsOf(store)).keys()) {
      const events = await run(Stream.runCollect(store.readStreamJson(stream)))
      contents.set(stream, events.map((e) => `${e.revision} ${e.id} ${e.type} ${e.dataJson} ${e.metadataJson}`))
    }
    return contents
  } finally {
    await close()
  }
}

export const eventCount = (contents: Map<string, Array<string>>) => [...contents.values()].reduce((n, s) => n + s.length, 0)

