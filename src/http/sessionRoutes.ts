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
import { ContinueBody, EmptyBody, ForkBody, LaunchBody, RenameBody } from "./bodies.ts"
import type { HttpDeps } from "./deps.ts"
import { type HttpEnv, runEffect } from "./env.ts"
import { derivedUuid, fingerprintOf, parseIdempotencyKey, type Idempotency, type StoredAnswer } from "./idempotency.ts"
import { problem, toProblem } from "./problem.ts"
import { accepted, acceptedBody, body, checkCwd, commandContext, type Ctx, ifMatch, on, pathId } from "./routeKit.ts"
import { routes } from "./routes.ts"

/** A refusal appended nothing, so the idempotency key may be used again. */
const isRefusal = (e: unknown): boolean => toProblem(e, { ifMatch: false }).problem.status < 500

const isTag = (e: unknown, tag: string): boolean =>
  typeof e === "object" && e !== null && (e as { _tag?: unknown })._tag === tag

const without = <A extends object, K extends keyof A>(a: A, key: K): Omit<A, K> => {
  const { [key]: _, ...rest } = a
  return rest
}

export const sessionRoutes = (app: Hono<HttpEnv>, deps: HttpDeps, idempotency: Idempotency): void => {
  const { commands, supervisor, store } = deps

  /** A full run queue refuses new runs before anything is appended: queued runs hold their secrets in memory. */
  const refuseWhenQueueFull = () => {
    if (supervisor.queueFull())
      throw problem(503, "queue-full", "Run queue full", "too many runs are waiting for a slot; retry later", {}, { "Retry-After": "5" })
  }

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
  const existingRun = async (
    sessionId: string,
    runId: string,
    createdBy: ReadonlyArray<string>,
    options: SessionOptions,
    extra: Record<string, unknown> = {}
  ): Promise<StoredAnswer | null> => {
    const stream = Result.getOrThrow(streamOf(sessionId))
    const found = await runEffect(
      store.readStream(stream).pipe(
        Stream.filter((e) => createdBy.includes(e.type) && (e.data as { runId?: unknown }).runId === runId),
        Stream.runHead,
        Effect.catchTag("StreamNotFound", () => Effect.succeed(Option.none()))
      )
    )
    if (Option.isNone(found)) return null
    const loaded = await runEffect(commands.load(sessionId))
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
    }
  }

  /**
   * Runs a command that creates a session. With an Idempotency-Key the session's id comes from
   * the key, so "already exists" means an earlier attempt with the same key created it: answer
   * as that attempt did.
   */
  const createOnce = async (
    key: string | undefined,
    create: () => Promise<StoredAnswer>,
    existing: () => Promise<StoredAnswer | null>
  ): Promise<StoredAnswer> => {
    try {
      return await create()
    } catch (e) {
      if (key !== undefined && isTag(e, "SessionAlreadyExists")) {
        const found = await existing()
        if (found) return found
      }
      throw e
    }
  }

  const send = (c: Ctx, r: StoredAnswer & { replayed: boolean }) => {
    if (r.replayed) c.header("Idempotent-Replayed", "true")
    return accepted(c, r.body as { revision?: unknown }, r.status)
  }

  on(app, routes.launchSession, async (c) => {
    const b = await body(c, deps, LaunchBody)
    await checkCwd(b.cwd)
    refuseWhenQueueFull()
    const key = parseIdempotencyKey(c.req.header("idempotency-key"))
    const { query, ...options } = b
    const result = await idempotency.run(
      key,
      fingerprintOf(c.req.method, c.req.path, b),
      async () => {
        const sessionId = key === undefined ? randomUUID() : derivedUuid("launch", "session", key)
        const runId = key === undefined ? randomUUID() : derivedUuid("launch", "run", key)
        return createOnce(
          key,
          async () => {
            const outcome = await runEffect(
              commands.handle({ kind: "LaunchSession", sessionId, runId, query, options }, commandContext(c))
            )
            return { status: 202, body: acceptedBody(outcome, submit(sessionId, runId, options)) }
          },
          () => existingRun(sessionId, runId, ["SessionLaunched"], options)
        )
      },
      isRefusal
    )
    return send(c, result)
  })

  on(app, routes.continueSession, async (c) => {
    const sessionId = pathId(c)
    const b = await body(c, deps, ContinueBody)
    refuseWhenQueueFull()
    await checkCwd(b.cwd)
    const expectedRevision = ifMatch(c)
    const key = parseIdempotencyKey(c.req.header("idempotency-key"))
    const { query, ...overrides } = b
    const result = await idempotency.run(
      key,
      fingerprintOf(c.req.method, c.req.path, b),
      async (recovering) => {
        const runId = key === undefined ? randomUUID() : derivedUuid("continue", sessionId, key)
        if (recovering) {
          const existing = await existingRun(sessionId, runId, ["ContinueRequested"], overrides)
          if (existing) return existing
        }
        const outcome = await runEffect(
          commands.handle(
            { kind: "ContinueSession", sessionId, runId, query, overrides },
            commandContext(c),
            expectedRevision === undefined ? undefined : { expectedRevision }
          )
        )
        return { status: 202, body: acceptedBody(outcome, submit(sessionId, runId, overrides)) }
      },
      isRefusal
    )
    return send(c, result)
  })

  on(app, routes.forkSession, async (c) => {
    const parentSessionId = pathId(c)
    const b = await body(c, deps, ForkBody)
    refuseWhenQueueFull()
    await checkCwd(b.cwd)
    const expectedRevision = ifMatch(c)
    const key = parseIdempotencyKey(c.req.header("idempotency-key"))
    const { query, ...overrides } = b
    const result = await idempotency.run(
      key,
      fingerprintOf(c.req.method, c.req.path, b),
      async () => {
        const sessionId = key === undefined ? randomUUID() : derivedUuid("fork", parentSessionId, "session", key)
        const runId = key === undefined ? randomUUID() : derivedUuid("fork", parentSessionId, "run", key)
        const parent = await runEffect(commands.load(parentSessionId))
        if (expectedRevision !== undefined && parent.revision !== expectedRevision) {
          throw new WrongExpectedVersion({
            stream: Result.getOrThrow(streamOf(parentSessionId)),
            expected: expectedRevision,
            actual: parent.revision ?? "no_stream"
          })
        }
        const source = forkSource(parent.state, parentSessionId)
        if (Result.isFailure(source)) throw source.failure
        // The fork runs as the parent's current run did, under its own title.
        const inherited = parent.state === null ? {} : without(parent.state.runOptions, "title")
        const options: SessionOptions = { ...inherited, ...overrides }
        return createOnce(
          key,
          async () => {
            const outcome = await runEffect(
              commands.handle(
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
            )
            return { status: 202, body: acceptedBody(outcome, { parentSessionId, ...submit(sessionId, runId, overrides) }) }
          },
          () => existingRun(sessionId, runId, ["SessionForked"], overrides, { parentSessionId })
        )
      },
      isRefusal
    )
    return send(c, result)
  })

  on(app, routes.interruptSession, async (c) => {
    const sessionId = pathId(c)
    await body(c, deps, EmptyBody)
    const expectedRevision = ifMatch(c)
    const outcome = await runEffect(supervisor.interrupt(sessionId, c.get("subject"), commandContext(c), expectedRevision))
    return accepted(c, acceptedBody(outcome))
  })

  const housekeeping = (kind: "ArchiveSession" | "UnarchiveSession") => async (c: Ctx) => {
    const sessionId = pathId(c)
    await body(c, deps, EmptyBody)
    const expectedRevision = ifMatch(c)
    const outcome = await runEffect(
      commands.handle({ kind, sessionId }, commandContext(c), expectedRevision === undefined ? undefined : { expectedRevision })
    )
    return accepted(c, acceptedBody(outcome, { archived: outcome.state.archived }))
  }
  on(app, routes.archiveSession, housekeeping("ArchiveSession"))
  on(app, routes.unarchiveSession, housekeeping("UnarchiveSession"))

  on(app, routes.renameSession, async (c) => {
    const sessionId = pathId(c)
    const { title } = await body(c, deps, RenameBody)
    const expectedRevision = ifMatch(c)
    const outcome = await runEffect(
      commands.handle(
        { kind: "RenameSession", sessionId, title },
        commandContext(c),
        expectedRevision === undefined ? undefined : { expectedRevision }
      )
    )
    return accepted(c, acceptedBody(outcome, { title: outcome.state.title }))
  })
}
