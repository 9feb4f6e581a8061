// Commands on sessions: launch, continue, fork, interrupt, archive, unarchive, rename.
// Ids are generated here (the domain never does), each command goes through the session
// decider via SessionCommands (source "api", correlationId = the request id), and runs
// are handed to the supervisor with their unredacted options. Every answer is 202 with
// the ids, the status the command left and the position it appended at.
import { randomUUID } from "node:crypto"
import type { Hono } from "hono"
import { Effect, Option, Result, Stream } from "effect"
import { forkSource } from "../domain/sessionDecider.ts"
import type { SessionOptions } from "../domain/sessionOptions.ts"
import { streamOf } from "../domain/streamName.ts"
import { WrongExpectedVersion } from "../eventstore/eventStore.ts"
import { encodePosition } from "../eventstore/position.ts"
import { SessionAlreadyExists } from "../domain/sessionErrors.ts"
import type { HttpDeps } from "./deps.ts"
import type { HttpEnv } from "./env.ts"
import { derivedUuid, fingerprintOf, type IdempotentResult, type Idempotency, type StoredAnswer } from "./idempotency.ts"
import { type HttpProblem, problem, toProblem } from "./problem.ts"
import type { CommandAccepted } from "./responses.ts"
import { checkContinuedPermissionMode, checkPermissionMode } from "./permissionModeCheck.ts"
import { accepted, acceptedBody, checkCwd, commandContext, type Input, router } from "./routeKit.ts"
import { routes } from "./routes.ts"

/** A refusal appended nothing, so the idempotency key may be used again. */
const isRefusal = (e: unknown): boolean => toProblem(e, { ifMatch: false }).problem.status < 500

const without = <A extends object, K extends keyof A>(a: A, key: K): Omit<A, K> => {
  const { [key]: _, ...rest } = a
  return rest
}

/** Runs an Effect for the Promise-based idempotency store: its failure is rejected as is (typed again by `once`). */
const toPromise = async <A, E>(effect: Effect.Effect<A, E>): Promise<A> => {
  const r = await Effect.runPromise(Effect.result(effect))
  if (Result.isFailure(r)) throw r.failure
  return r.success
}

export const sessionRoutes = (app: Hono<HttpEnv>, deps: HttpDeps, idempotency: Idempotency): void => {
  const { commands, supervisor, store } = deps
  const handle = router(app, deps)

  /** A full run queue refuses new runs before anything is appended: queued runs hold their secrets in memory. */
  const queueHasRoom: Effect.Effect<void, HttpProblem> = Effect.suspend(() =>
    supervisor.queueFull()
      ? Effect.fail(problem(503, "queue-full", "Run queue full", "too many runs are waiting for a slot; retry later", {}, { "Retry-After": "5" }))
      : Effect.void
  )

  /** idempotency.run for an Effect: what it rejects with is the command's failure or its own problem. */
  const once = <E>(
    key: string | undefined,
    fingerprint: string,
    execute: (recovering: boolean) => Effect.Effect<StoredAnswer, E>
  ): Effect.Effect<IdempotentResult, E | HttpProblem> =>
    Effect.tryPromise({
      try: () => idempotency.run(key, fingerprint, (recovering) => toPromise(execute(recovering)), isRefusal),
      catch: (e) => e as E | HttpProblem
    })

  /** Hands a run to the supervisor and adds its queue position to the answer. */
  const submit = (sessionId: string, runId: string, options: SessionOptions) => {
    supervisor.submit(sessionId, runId, options)
    const queuePosition = supervisor.queuePosition(sessionId)
    return queuePosition === undefined ? {} : { queuePosition }
  }

  /**
   * The answer for a run an earlier attempt with the same Idempotency-Key already created:
   * the run's ids and where its first event is. It is submitted again when it is still
   * queued (the supervisor starts a run once: a second StartRun is refused).
   */
  const existingRun = (
    sessionId: string,
    runId: string,
    createdBy: ReadonlyArray<string>,
    options: SessionOptions,
    extra: Record<string, unknown> = {}
  ) =>
    Effect.gen(function* () {
      const stream = Result.getOrThrow(streamOf(sessionId))
      const found = yield* store.readStream(stream).pipe(
        Stream.filter((e) => createdBy.includes(e.type) && (e.data as { runId?: unknown }).runId === runId),
        Stream.runHead,
        Effect.catchTag("StreamNotFound", () => Effect.succeed(Option.none()))
      )
      if (Option.isNone(found)) return null
      const loaded = yield* commands.load(sessionId)
      const state = loaded.state
      if (state === null) return null
      const queued = state.status === "queued" && state.runId === runId ? submit(sessionId, runId, options) : {}
      return {
        status: 202,
        body: {
          sessionId,
          runId,
          status: state.runId === runId ? state.status : "superseded",
          position: encodePosition(found.value.position),
          revision: loaded.revision === null ? null : Number(loaded.revision),
          ...queued,
          ...extra
        }
      } satisfies StoredAnswer
    })

  /**
   * Runs a command that creates a session. With an Idempotency-Key the session's id comes from
   * the key, so "already exists" means an earlier attempt with the same key created it: answer
   * as that attempt did.
   */
  const createOnce = <E1, E2>(
    key: string | undefined,
    create: Effect.Effect<StoredAnswer, E1>,
    existing: Effect.Effect<StoredAnswer | null, E2>
  ) =>
    create.pipe(
      Effect.catchIf(
        (e): e is Extract<E1, SessionAlreadyExists> => key !== undefined && e instanceof SessionAlreadyExists,
        (e) => Effect.flatMap(existing, (found) => (found ? Effect.succeed(found) : Effect.fail(e)))
      )
    )

  /** The stored answer (first or replayed) as this route's reply. */
  const send = (r: IdempotentResult) => accepted(r.body as typeof CommandAccepted.Type, r.replayed)

  handle(routes.launchSession, ({ c, body: b, idempotencyKey: key }) =>
    Effect.gen(function* () {
      yield* checkCwd(b.cwd)
      yield* checkPermissionMode(deps, b.permissionMode)
      yield* queueHasRoom
      const { query, ...options } = b
      const result = yield* once(key, fingerprintOf(c.req.method, c.req.path, b), () => {
        const sessionId = key === undefined ? randomUUID() : derivedUuid("launch", "session", key)
        const runId = key === undefined ? randomUUID() : derivedUuid("launch", "run", key)
        return createOnce(
          key,
          commands
            .handle({ kind: "LaunchSession", sessionId, runId, query, options }, commandContext(c))
            .pipe(Effect.map((outcome) => ({ status: 202, body: acceptedBody(outcome, submit(sessionId, runId, options)) }))),
          existingRun(sessionId, runId, ["SessionLaunched"], options)
        )
      })
      return send(result)
    })
  )

  handle(routes.continueSession, ({ c, id: sessionId, body: b, ifMatch: expectedRevision, idempotencyKey: key }) =>
    Effect.gen(function* () {
      yield* checkCwd(b.cwd)
      yield* checkContinuedPermissionMode(deps, sessionId, b.permissionMode)
      yield* queueHasRoom
      const { query, ...overrides } = b
      const result = yield* once(key, fingerprintOf(c.req.method, c.req.path, b), (recovering) =>
        Effect.gen(function* () {
          const runId = key === undefined ? randomUUID() : derivedUuid("continue", sessionId, key)
          if (recovering) {
            const existing = yield* existingRun(sessionId, runId, ["ContinueRequested"], overrides)
            if (existing) return existing
          }
          const outcome = yield* commands.handle(
            { kind: "ContinueSession", sessionId, runId, query, overrides },
            commandContext(c),
            expectedRevision === undefined ? undefined : { expectedRevision }
          )
          return { status: 202, body: acceptedBody(outcome, submit(sessionId, runId, overrides)) }
        })
      )
      return send(result)
    })
  )

  handle(routes.forkSession, ({ c, id: parentSessionId, body: b, ifMatch: expectedRevision, idempotencyKey: key }) =>
    Effect.gen(function* () {
      yield* checkCwd(b.cwd)
      yield* queueHasRoom
      const { query, ...overrides } = b
      const result = yield* once(key, fingerprintOf(c.req.method, c.req.path, b), () =>
        Effect.gen(function* () {
          const sessionId = key === undefined ? randomUUID() : derivedUuid("fork", parentSessionId, "session", key)
          const runId = key === undefined ? randomUUID() : derivedUuid("fork", parentSessionId, "run", key)
          const parent = yield* commands.load(parentSessionId)
          if (expectedRevision !== undefined && parent.revision !== expectedRevision) {
            return yield* Effect.fail(
              new WrongExpectedVersion({
                stream: Result.getOrThrow(streamOf(parentSessionId)),
                expected: expectedRevision,
                actual: parent.revision ?? "no_stream"
              })
            )
          }
          const source = forkSource(parent.state, parentSessionId)
          if (Result.isFailure(source)) return yield* Effect.fail(source.failure)
          // The fork runs as the parent's current run did, under its own title.
          const inherited = parent.state === null ? {} : without(parent.state.runOptions, "title")
          const options: SessionOptions = { ...inherited, ...overrides }
          yield* checkPermissionMode(deps, options.permissionMode)
          return yield* createOnce(
            key,
            commands
              .handle(
                {
                  kind: "ForkSession",
                  sessionId,
                  runId,
                  parentSessionId,
                  parentClaudeSessionId: source.success,
                  query,
                  options
                },
                commandContext(c)
              )
              .pipe(
                Effect.map((outcome) => ({
                  status: 202,
                  body: acceptedBody(outcome, { parentSessionId, ...submit(sessionId, runId, overrides) })
                }))
              ),
            existingRun(sessionId, runId, ["SessionForked"], overrides, { parentSessionId })
          )
        })
      )
      return send(result)
    })
  )

  handle(routes.interruptSession, ({ c, id: sessionId, ifMatch: expectedRevision }) =>
    supervisor
      .interrupt(sessionId, c.get("subject"), commandContext(c), expectedRevision)
      .pipe(Effect.map((outcome) => accepted(acceptedBody(outcome))))
  )

  const housekeeping =
    (kind: "ArchiveSession" | "UnarchiveSession") =>
    ({ c, id: sessionId, ifMatch: expectedRevision }: Input<typeof routes.archiveSession | typeof routes.unarchiveSession>) =>
      commands
        .handle({ kind, sessionId }, commandContext(c), expectedRevision === undefined ? undefined : { expectedRevision })
        .pipe(Effect.map((outcome) => accepted(acceptedBody(outcome, { archived: outcome.state.archived }))))
  handle(routes.archiveSession, housekeeping("ArchiveSession"))
  handle(routes.unarchiveSession, housekeeping("UnarchiveSession"))

  handle(routes.renameSession, ({ c, id: sessionId, body: { title }, ifMatch: expectedRevision }) =>
    commands
      .handle(
        { kind: "RenameSession", sessionId, title },
        commandContext(c),
        expectedRevision === undefined ? undefined : { expectedRevision }
      )
      .pipe(Effect.map((outcome) => accepted(acceptedBody(outcome, { title: outcome.state.title }))))
  )
}
