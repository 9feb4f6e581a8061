// The Projections service: keeps read.db up to date while its scope is open. At start it
// prepares the projections (rebuilding those whose version changed), then follows the
// store from the oldest checkpoint, resubscribing with backoff when the store fails.
// Read-your-writes: waitForPosition(p) resolves once every projection has applied every
// session event at or before p.
import type { DatabaseSync } from "node:sqlite"
import { Context, Effect, Layer, Option, Scope, Stream } from "effect"
import { streamPrefix } from "../domain/streamName.ts"
import { EventStore, type EventStoreShape, type Position } from "../eventstore/eventStore.ts"
import { comparePositions, encodePosition } from "../eventstore/position.ts"
import { allProjections } from "./allProjections.ts"
import type { Projection } from "./projection.ts"
import { prepareProjections, runSubscription, type CheckpointInfo, type ProjectionRunner } from "./projectionRunner.ts"
import { catchUpMode, ReadDb, ReadDbError } from "./readDb.ts"

export interface ProjectionsShape {
  /**
   * Resolves true as soon as every projection has applied every session event at or before
   * `position` (at once when it already has), false when `timeoutMs` passes first. A
   * position that is not a session event's (another stream's, or past the store's head)
   * waits only for the session events before it.
   */
  readonly waitForPosition: (position: Position, timeoutMs: number) => Effect.Effect<boolean>
  /** True once the subscription has delivered everything the store held, and while it stays connected. */
  readonly isCaughtUp: () => boolean
  /** Every projection has applied every session event at or before this position; null when none yet. */
  readonly currentPosition: () => Position | null
  /** Each projection's name, version and checkpoint. */
  readonly checkpoints: () => ReadonlyArray<CheckpointInfo>
}

export class Projections extends Context.Service<Projections, ProjectionsShape>()("agentlog/Projections") {}

export interface ProjectionsOptions {
  /** Defaults to allProjections. */
  readonly projections?: ReadonlyArray<Projection>
  /** Most events per transaction while catching up (default 1000). */
  readonly maxBatch?: number
  /** First delay before resubscribing after a failure, doubled up to 30s (default 500ms). */
  readonly retryDelayMs?: number
}

const maxRetryDelayMs = 30_000
/** How long start-up waits for the store's head to check the checkpoints against it. */
const headCheckMs = 5_000

/**
 * Starts the projections on `db`, following `store` until the scope closes. Fails only
 * when read.db cannot be prepared; later store failures are retried.
 */
export const makeProjections = (
  store: EventStoreShape,
  db: DatabaseSync,
  options: ProjectionsOptions = {}
): Effect.Effect<ProjectionsShape, ReadDbError, Scope.Scope> =>
  Effect.gen(function* () {
    const prepare = (reset: boolean) =>
      Effect.try({
        try: () =>
          prepareProjections(db, options.projections ?? allProjections, {
            ...(options.maxBatch !== undefined ? { maxBatch: options.maxBatch } : {}),
            ...(reset ? { reset } : {})
          }),
        catch: (e) =>
          e instanceof ReadDbError ? e : new ReadDbError({ reason: `preparing read models: ${e instanceof Error ? e.message : String(e)}` })
      })
    let runner: ProjectionRunner = yield* prepare(false)
    // A store that lost its tail (a WAL torn by a crash, a restored backup, another server)
    // is behind what the read models have seen: following it from their checkpoints would
    // keep the lost events and skip new ones appended at the same positions. Rebuild instead.
    // (A store that does not answer in time is not checked: it is followed as usual.)
    const head = yield* store.headPosition().pipe(Effect.timeoutOption(headCheckMs), Effect.option, Effect.map(Option.flatten))
    if (Option.isSome(head)) {
      const h = head.value
      const ahead = runner.checkpoints().filter((c) => c.position !== null && (h === null || comparePositions(c.position, h) > 0))
      if (ahead.length > 0) {
        yield* Effect.logWarning(
          `read models are ahead of the event store (${ahead.map((c) => `${c.name} at ${encodePosition(c.position!)}`).join(", ")}; ` +
            `the store ends at ${h === null ? "nothing" : encodePosition(h)}): rebuilding them from zero`
        )
        runner = yield* prepare(true)
      }
    }
    if (runner.rebuilt.length > 0) yield* Effect.logInfo(`read models building from zero: ${runner.rebuilt.join(", ")}`)

    let caughtUp = false
    const waiters = new Set<() => void>()
    const notify = () => {
      for (const w of [...waiters]) w()
    }

    const reached = (p: Position): boolean => {
      const c = runner.position()
      return c !== null && comparePositions(c, p) >= 0
    }

    const awaitReached = (p: Position) =>
      Effect.callback<void>((resume) => {
        const check = () => {
          if (!reached(p)) return
          waiters.delete(check)
          resume(Effect.void)
        }
        waiters.add(check)
        check()
        return Effect.sync(() => {
          waiters.delete(check)
        })
      })

    /** The last session event at or before p (null when there is none). */
    const lastSessionEventAtOrBefore = (p: Position) =>
      store
        .readAll({ fromPosition: p, direction: "backwards", filter: { streamPrefix: [streamPrefix] }, maxCount: 1 })
        .pipe(
          Stream.runHead,
          Effect.map(Option.match({ onNone: () => null, onSome: (e) => e.position })),
          // Without the store's answer, wait for p itself.
          Effect.orElseSucceed(() => p)
        )

    const waitForPosition = (position: Position, timeoutMs: number): Effect.Effect<boolean> =>
      Effect.suspend(() => {
        if (reached(position)) return Effect.succeed(true)
        return Effect.gen(function* () {
          const target = yield* lastSessionEventAtOrBefore(position)
          if (target !== null) yield* awaitReached(target)
          return true
        }).pipe(
          Effect.timeoutOption(Math.max(0, timeoutMs)),
          Effect.map(Option.getOrElse(() => false))
        )
      })

    const baseDelay = Math.max(1, options.retryDelayMs ?? 500)
    const follow = Effect.gen(function* () {
      let delay = baseDelay
      while (true) {
        catchUpMode(db, true)
        const why = yield* runSubscription(store, runner, {
          onBatch: notify,
          onCaughtUp: () => {
            catchUpMode(db, false)
            caughtUp = true
            notify()
          }
        }).pipe(
          Effect.as("the subscription ended"),
          Effect.catch((e) => Effect.succeed(e.message))
        )
        // A subscription that had caught up was healthy: start the backoff afresh.
        if (caughtUp) delay = baseDelay
        caughtUp = false
        const from = runner.position()
        yield* Effect.logWarning(
          `read models: ${why}; resubscribing from ${from === null ? "the start" : encodePosition(from)} in ${delay}ms`
        )
        yield* Effect.sleep(delay)
        delay = Math.min(maxRetryDelayMs, delay * 2)
      }
    })
    yield* Effect.forkScoped(follow)

    return {
      waitForPosition,
      isCaughtUp: () => caughtUp,
      currentPosition: () => runner.position(),
      checkpoints: () => runner.checkpoints()
    }
  })

/** Projections over the EventStore and ReadDb services, running for the layer's lifetime. */
export const ProjectionsLive: Layer.Layer<Projections, ReadDbError, EventStore | ReadDb> = Layer.effect(
  Projections,
  Effect.gen(function* () {
    const store = yield* EventStore
    const { db } = yield* ReadDb
    return yield* makeProjections(store, db)
  })
)
