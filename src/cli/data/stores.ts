// What the data commands (export, import, backup, verify, migrate) share: opening a store
// by what a person types (a data dir, an events.db file, or an esdb:// connection string),
// running the port's effects from async code with its errors as CliErrors, and the
// per-stream digest both sides of a migration are compared by.
import { createHash } from "node:crypto"
import { copyFileSync, existsSync, mkdtempSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { basename, dirname, join, resolve } from "node:path"
import { Cause, Effect, Exit, Stream } from "effect"
import type { EventStoreShape, RecordedEventJson } from "../../eventstore/eventStore.ts"
import { openEventStore } from "../../eventstore/openEventStore.ts"
import { CliError } from "../client.ts"

export type Json = Record<string, any>

/** The data dir the service would use. */
export const defaultDataDir = (): string => resolve(process.env.AGENTLOG_DATA_DIR || "./data")

export const isEsdb = (spec: string): boolean => /^esdb(\+discover)?:\/\//i.test(spec)

/** Runs a port effect, its failure becoming a CliError with the store's message. */
export const run = async <A, E>(effect: Effect.Effect<A, E>): Promise<A> => {
  const exit = await Effect.runPromiseExit(effect)
  if (Exit.isSuccess(exit)) return exit.value
  const error = Cause.squash(exit.cause)
  throw new CliError(error instanceof Error ? error.message : String(error))
}

export interface OpenedStore {
  readonly store: EventStoreShape
  /** What a person would call it in a message. */
  readonly name: string
  readonly close: () => Promise<void>
}

/**
 * A store to read from or write to. `spec`: esdb://…, a data dir, or an events.db file (a
 * backup, under any name: it is opened from a private copy, so the file itself is never
 * touched). `mustExist`: refuse to create an embedded store that is not there.
 */
export const openStore = async (spec: string, mustExist: boolean): Promise<OpenedStore> => {
  if (isEsdb(spec)) {
    const store = await run(openEventStore(spec, ""))
    return { store, name: spec.replace(/\/\/[^@/]*@/, "//"), close: () => run(store.close()) }
  }
  const path = resolve(spec)
  const isFile = existsSync(path) && statSync(path).isFile()
  const dataDir = isFile ? dirname(path) : path
  if (mustExist && !isFile && !existsSync(join(dataDir, "events.db"))) throw new CliError(`no event store at ${join(dataDir, "events.db")}`)
  let copy: string | undefined
  if (isFile && basename(path) !== "events.db") {
    copy = mkdtempSync(join(tmpdir(), "agentlog-store-"))
    copyFileSync(path, join(copy, "events.db"))
  }
  const store = await run(openEventStore("sqlite", copy ?? dataDir)).catch((e: unknown) => {
    if (copy !== undefined) rmSync(copy, { recursive: true, force: true })
    const message = e instanceof Error ? e.message : String(e)
    throw new CliError(
      /locked/.test(message) ? `${message}\nThe service is running on it: stop it first, or work on a copy made with \`agentlog backup FILE\`.` : message
    )
  })
  return {
    store,
    name: isFile ? path : join(dataDir, "events.db"),
    close: async () => {
      await run(store.close())
      if (copy !== undefined) rmSync(copy, { recursive: true, force: true })
    }
  }
}

export const withStore = async <A>(spec: string, mustExist: boolean, f: (s: OpenedStore) => Promise<A>): Promise<A> => {
  const s = await openStore(spec, mustExist)
  try {
    return await f(s)
  } finally {
    await s.close()
  }
}

/** The last revision of a stream in a store, -1n when it has none. */
export const lastRevision = async (store: EventStoreShape, stream: string): Promise<bigint> => {
  const last = await run(
    Stream.runCollect(store.readStreamJson(stream, { direction: "backwards", maxCount: 1 })).pipe(
      Effect.catchTag("StreamNotFound", () => Effect.succeed([] as Array<RecordedEventJson>))
    )
  )
  return last[0]?.revision ?? -1n
}

/** One stream's events as JSON text, from a revision on (nothing when there is no such stream). */
export const readStreamFrom = (store: EventStoreShape, stream: string, fromRevision: bigint, maxCount?: number) =>
  store
    .readStreamJson(stream, { fromRevision, ...(maxCount !== undefined ? { maxCount } : {}) })
    .pipe(Stream.catchTag("StreamNotFound", () => Stream.empty))

/** What makes an event the same event in two stores: its id, type, data and metadata. */
export const sameEvent = (a: RecordedEventJson, b: { id: string; type: string; dataJson: string; metadataJson: string }) =>
  a.id === b.id && a.type === b.type && a.dataJson === b.dataJson && a.metadataJson === b.metadataJson

export interface StreamDigest {
  readonly count: number
  /** sha256 over every event's id, type, data and metadata, in revision order. */
  readonly hash: string
}

export const digestStream = async (store: EventStoreShape, stream: string): Promise<StreamDigest> => {
  const h = createHash("sha256")
  let count = 0
  await run(
    Stream.runForEachArray(readStreamFrom(store, stream, 0n), (events) =>
      Effect.sync(() => {
        for (const e of events) h.update(`${e.id}\n${e.type}\n${e.dataJson}\n${e.metadataJson}\n`)
        count += events.length
      })
    )
  )
  return { count, hash: h.digest("hex") }
}

/** Every stream of a store with its event count, in the order of their first events. */
export const streamsOf = async (store: EventStoreShape): Promise<Map<string, number>> => {
  const streams = new Map<string, number>()
  await run(
    Stream.runForEachArray(store.readAll(), (events) =>
      Effect.sync(() => {
        for (const e of events) streams.set(e.stream, (streams.get(e.stream) ?? 0) + 1)
      })
    )
  )
  return streams
}

/** Writes text to stdout in large pieces, waiting when the pipe is full. */
export const stdoutWriter = () => {
  let buffer = ""
  const flush = async () => {
    if (buffer === "") return
    const chunk = buffer
    buffer = ""
    if (!process.stdout.write(chunk)) await new Promise<void>((r) => process.stdout.once("drain", () => r()))
  }
  return {
    write: async (line: string) => {
      buffer += line
      if (buffer.length >= 1 << 16) await flush()
    },
    flush
  }
}
