// The write side: load a session from its stream, ask the decider, append what it decided
// with the expected revision. HTTP handlers and the supervisor both come through here, so
// there is exactly one path by which events reach a session's stream.
import { createHash, randomUUID } from "node:crypto"
import { Context, Effect, Layer, Result, Semaphore, Stream } from "effect"
import { backoffFor } from "../backoff.ts"
import { decide, type SessionCommand } from "../domain/sessionDecider.ts"
import type { DomainError } from "../domain/sessionErrors.ts"
import { schemaVersions, type SessionEvent, type Source } from "../domain/sessionEvents.ts"
import { decodeStored } from "../domain/storedEvents.ts"
import { evolve, inertEventTypes, type Session, type SessionState } from "../domain/sessionState.ts"
import { streamOf } from "../domain/streamName.ts"
import {
  type AppendError,
  type EventData,
  EventStore,
  EventStoreFailure,
  type EventStoreShape,
  type Position,
  type ReadError,
  type ReadStreamOptions,
  WrongExpectedVersion
} from "../eventstore/eventStore.ts"

export interface CommandContext {
  readonly correlationId: string
  readonly causationId?: string
  readonly source: Source
  /** Who: the principal's name for a request; the supervisor's and Claude's events name their source. */
  readonly actor?: string
  /** A keyed request's fingerprint: a retry with the same Idempotency-Key compares it. */
  readonly requestFingerprint?: string
}

export interface CommandOptions {
  /** If-Match: refuse with WrongExpectedVersion unless the stream is still at this revision. */
  readonly expectedRevision?: bigint
  /**
   * While the store is unavailable, send the same append again (same event ids, same
   * expected revision: idempotent, so an append whose answer was lost is not written
   * twice) with backoff, for up to this long. Default 0: fail at once (HTTP answers 503).
   */
  readonly retryUnavailableMs?: number
  /** Checked before each retry: false stops retrying (e.g. the service is shutting down). */
  readonly keepRetrying?: () => boolean
}

export interface CommandOutcome {
  readonly sessionId: string
  readonly events: ReadonlyArray<SessionEvent>
  /** Revision of the stream after the command (null when the session still does not exist). */
  readonly revision: bigint | null
  /** Where the last appended event landed; null when nothing was appended. */
  readonly position: Position | null
  readonly state: Session
}

export interface LoadedSession {
  readonly state: SessionState
  readonly revision: bigint | null
}

export type CommandError = DomainError | AppendError | ReadError

export interface SessionCommandsShape {
  readonly handle: (
    command: SessionCommand,
    ctx: CommandContext,
    options?: CommandOptions
  ) => Effect.Effect<CommandOutcome, CommandError>
  /** `fresh`: read the stream even when the cache has the session (it may be behind the store). */
  readonly load: (sessionId: string, options?: { readonly fresh?: boolean }) => Effect.Effect<LoadedSession, ReadError | DomainError>
}

export class SessionCommands extends Context.Service<SessionCommands, SessionCommandsShape>()("agentlog/SessionCommands") {}

/** Attempts when another writer moved the stream between our read and our append. */
const maxConflictRetries = 5
const cacheLimit = 1000
const firstRetryDelayMs = 100
const maxRetryDelayMs = 2_000

/** The same effect again while it fails with EventStoreUnavailable, with capped exponential backoff, for up to `forMs`. */
const retryWhileUnavailable = <A, E extends { readonly _tag: string }>(
  effect: Effect.Effect<A, E>,
  forMs: number,
  keepRetrying: () => boolean
): Effect.Effect<A, E> =>
  forMs <= 0
    ? effect
    : Effect.retry(effect, {
        schedule: backoffFor(firstRetryDelayMs, maxRetryDelayMs, forMs),
        while: (e) => e._tag === "EventStoreUnavailable" && keepRetrying()
      })

/**
 * Claude messages carry a uuid; deriving the event id from it (and the session and run)
 * makes a retried append of the same message idempotent, while two sessions that replay
 * the same Claude message (a fork) still get distinct ids.
 */
export const derivedId = (...parts: ReadonlyArray<string | number>): string => {
  const h = createHash("sha256").update(parts.join("\u0000")).digest()
  h[6] = (h[6]! & 0x0f) | 0x50
  h[8] = (h[8]! & 0x3f) | 0x80
  const x = h.subarray(0, 16).toString("hex")
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`
}

const eventIds = (command: SessionCommand, count: number): ReadonlyArray<string> => {
  const uuid = command.kind === "RecordClaudeMessage" ? command.message.uuid : undefined
  return Array.from({ length: count }, (_, i) =>
    typeof uuid === "string" && command.kind === "RecordClaudeMessage"
      ? derivedId(command.sessionId, command.runId, uuid, i)
      : randomUUID()
  )
}

/** What the fold reads of a stored event. */
interface Foldable {
  readonly type: string
  readonly revision: bigint
  readonly data: unknown
  readonly metadata: unknown
}

const runIdOf = (e: SessionEvent): string | undefined => ("runId" in e.data ? e.data.runId : undefined)

export interface SessionCommandsConfig {
  /**
   * This agentlog instance, written into every event's metadata as `instanceId`: the
   * process manager leaves a run accepted by another instance (which holds its MCP
   * secrets) to that instance first.
   */
  readonly instanceId?: string
}

export const makeSessionCommands = (store: EventStoreShape, config: SessionCommandsConfig = {}): SessionCommandsShape => {
  // Folding a long stream for every Claude message would be quadratic; the cache keeps the
  // last known state, and the expected revision on append proves it is still current.
  const cache = new Map<string, LoadedSession>()
  const locks = new Map<string, { sem: Semaphore.Semaphore; users: number }>()

  const remember = (sessionId: string, loaded: LoadedSession) => {
    cache.delete(sessionId)
    cache.set(sessionId, loaded)
    if (cache.size > cacheLimit) cache.delete(cache.keys().next().value!)
  }

  /**
   * A stream's events as the fold needs them. Claude's messages (most of a session's
   * events and bytes) leave the state alone: only their type and revision are needed,
   * so they are read as the store's JSON text and never parsed.
   */
  const foldable = (stream: string, options: ReadStreamOptions | undefined): Stream.Stream<Foldable, ReadError> =>
    store.readStreamJson(stream, options).pipe(
      Stream.map((e): Foldable =>
        inertEventTypes.has(e.type)
          ? { type: e.type, revision: e.revision, data: undefined, metadata: undefined }
          : { type: e.type, revision: e.revision, data: JSON.parse(e.dataJson), metadata: JSON.parse(e.metadataJson) }
      )
    )

  /**
   * The session as the store has it now. With `from` (the state folded so far and its
   * revision) only the events after it are read: a long session costs a refresh what
   * happened since, not its whole history.
   */
  const readFromStore = (sessionId: string, stream: string, from?: LoadedSession) =>
    foldable(stream, from?.revision != null ? { fromRevision: from.revision + 1n } : undefined).pipe(
      Stream.runFoldEffect(
        (): LoadedSession => from ?? { state: null, revision: null },
        (acc, e) => {
          if (inertEventTypes.has(e.type)) return Effect.succeed<LoadedSession>({ state: acc.state, revision: e.revision })
          const d = decodeStored(e)
          // Unknown (newer) event types are kept in the stream and skipped by this fold.
          if (d._tag === "UnknownType") return Effect.succeed<LoadedSession>({ state: acc.state, revision: e.revision })
          if (d._tag === "Undecodable")
            return Effect.fail(
              new EventStoreFailure({ reason: `${stream} revision ${e.revision}: stored ${d.type} cannot be read: ${d.issue}` })
            )
          return Effect.succeed<LoadedSession>({ state: evolve(acc.state, d.event), revision: e.revision })
        }
      ),
      Effect.catchTag("StreamNotFound", () => Effect.succeed<LoadedSession>({ state: null, revision: null })),
      Effect.tap((loaded) => Effect.sync(() => remember(sessionId, loaded)))
    )

  const load = (sessionId: string, options?: { readonly fresh?: boolean }) =>
    Effect.gen(function* () {
      const stream = yield* Effect.fromResult(streamOf(sessionId))
      const cached = options?.fresh ? undefined : cache.get(sessionId)
      return cached ?? (yield* readFromStore(sessionId, stream))
    })

  // One command at a time per session inside this process; other processes are kept
  // honest by the expected revision.
  const serialized = <A, E>(sessionId: string, effect: Effect.Effect<A, E>) =>
    Effect.suspend(() => {
      let lock = locks.get(sessionId)
      if (!lock) {
        lock = { sem: Semaphore.makeUnsafe(1), users: 0 }
        locks.set(sessionId, lock)
      }
      const l = lock
      l.users++
      return Semaphore.withPermit(l.sem, effect).pipe(
        Effect.ensuring(
          Effect.sync(() => {
            if (--l.users === 0) locks.delete(sessionId)
          })
        )
      )
    })

  const attempt = (command: SessionCommand, ctx: CommandContext, options: CommandOptions | undefined, fresh: boolean) =>
    Effect.gen(function* () {
      const stream = yield* Effect.fromResult(streamOf(command.sessionId))
      const cached = cache.get(command.sessionId)
      // After a conflict, catch the cached state up with what the other writer appended.
      let loaded = fresh ? yield* readFromStore(command.sessionId, stream, cached) : yield* load(command.sessionId)
      // Another agentlog instance on the same store may have moved the session on since it was
      // cached: a refusal (or a revision mismatch) is only final on the stored state.
      const refused = (l: LoadedSession) =>
        (options?.expectedRevision !== undefined && options.expectedRevision !== l.revision) ||
        Result.isFailure(decide(command, l.state))
      if (!fresh && cached !== undefined && refused(loaded)) loaded = yield* readFromStore(command.sessionId, stream, loaded)
      if (options?.expectedRevision !== undefined && options.expectedRevision !== loaded.revision) {
        return yield* new WrongExpectedVersion({
          stream,
          expected: options.expectedRevision,
          actual: loaded.revision ?? "no_stream"
        })
      }
      const events = yield* Effect.fromResult(decide(command, loaded.state))
      let state = loaded.state
      for (const e of events) state = evolve(state, e)
      if (events.length === 0) {
        return { sessionId: command.sessionId, events, revision: loaded.revision, position: null, state: state! }
      }
      const recordedAt = new Date().toISOString()
      const ids = eventIds(command, events.length)
      const data: Array<EventData> = events.map((e, i) => {
        const runId = runIdOf(e)
        return {
          id: ids[i]!,
          type: e.type,
          data: e.data,
          metadata: {
            ...(runId !== undefined ? { runId } : {}),
            correlationId: ctx.correlationId,
            ...(ctx.causationId !== undefined ? { causationId: ctx.causationId } : {}),
            schemaVersion: schemaVersions[e.type],
            recordedAt,
            source: ctx.source,
            actor: ctx.actor ?? ctx.source,
            ...(ctx.requestFingerprint !== undefined ? { requestFingerprint: ctx.requestFingerprint } : {}),
            ...(config.instanceId !== undefined ? { instanceId: config.instanceId } : {})
          }
        }
      })
      const appended = yield* retryWhileUnavailable(
        store.append(stream, data, loaded.revision === null ? "no_stream" : loaded.revision),
        options?.retryUnavailableMs ?? 0,
        options?.keepRetrying ?? (() => true)
      )
      // A failed append leaves the cached state as it was: still a true prefix of the
      // stream (whatever did land is read after it on the next refresh).
      remember(command.sessionId, { state, revision: appended.nextRevision })
      return {
        sessionId: command.sessionId,
        events,
        revision: appended.nextRevision,
        position: appended.position,
        state: state!
      }
    })

  const handle = (command: SessionCommand, ctx: CommandContext, options?: CommandOptions) => {
    const loop = (n: number): Effect.Effect<CommandOutcome, CommandError> =>
      attempt(command, ctx, options, n > 0).pipe(
        Effect.catchTag("WrongExpectedVersion", (e) =>
          // With If-Match the caller asked to be told; otherwise decide again on the newer state.
          options?.expectedRevision !== undefined || n >= maxConflictRetries ? Effect.fail(e) : loop(n + 1)
        )
      )
    return serialized(command.sessionId, loop(0))
  }

  return { handle, load }
}

export const SessionCommandsLive = Layer.effect(
  SessionCommands,
  Effect.gen(function* () {
    return makeSessionCommands(yield* EventStore)
  })
)

