// Commands on sessions: launch, continue, fork, interrupt, archive, unarchive, rename.
// Ids are generated here (the domain never does), each command goes through the session
// decider via SessionCommands (source "api", correlationId = the request id) and is
// appended; the supervisor reacts to what is in the store. A run's unredacted options
// (its MCP secrets) are left in memory for the supervisor, keyed by run id. Every answer
// is 202 with the ids, the status the command left and the position it appended at.
//
// Idempotency-Key lives in the store: the ids of what a launch, continue or fork creates
// derive from the key (and the route and session), so a retry, on any instance, meets
// the run the first attempt created (the append with an exact expected revision cannot
// create it twice) and is answered as the first attempt was. The request's fingerprint
// rides in the event's metadata: the same key with another request is 422.
import { randomUUID } from "node:crypto"
import type { Hono } from "hono"
import { Effect, Option, Result, Stream } from "effect"
import type { CommandContext, CommandOutcome } from "../commands/sessionCommands.ts"
import { forkSource, type SessionCommand } from "../domain/sessionDecider.ts"
import { redactOptions, type SessionOptions } from "../domain/sessionOptions.ts"
import { streamOf } from "../domain/streamName.ts"
import { WrongExpectedVersion } from "../eventstore/eventStore.ts"
import { encodePosition } from "../eventstore/position.ts"
import { ContinueBody, EmptyBody, ForkBody, LaunchBody, RenameBody } from "./bodies.ts"
import type { HttpDeps } from "./deps.ts"
import { type HttpEnv, runEffect } from "./env.ts"
import { derivedUuid, fingerprintOf, parseIdempotencyKey } from "./idempotency.ts"
import { idempotencyKeyReused } from "./problem.ts"
import { accepted, acceptedBody, body, checkCwd, commandContext, type Ctx, ifMatch, on, pathId } from "./routeKit.ts"
import { routes } from "./routes.ts"

const without = <A extends object, K extends keyof A>(a: A, key: K): Omit<A, K> => {
  const { [key]: _, ...rest } = a
  return rest
}

/** How long a command's answer waits for the supervisor to have seen it, for queuePosition. */
const queueSightingMs = 1_000

interface Keyed {
  readonly key: string
  readonly fingerprint: string
}

export const sessionRoutes = (app: Hono<HttpEnv>, deps: HttpDeps): void => {
  const { commands, supervisor, store, runSecrets } = deps

  /** The key and the request's fingerprint (secrets redacted: a hash of them is not kept either). */
  const keyed = (c: Ctx, query: string, options: SessionOptions): Keyed | undefined => {
    const key = parseIdempotencyKey(c.req.header("idempotency-key"))
    return key === undefined ? undefined : { key, fingerprint: fingerprintOf(c.req.method, c.req.path, { query, ...redactOptions(options) }) }
  }

  const contextOf = (c: Ctx, k: Keyed | undefined): CommandContext => ({
    ...commandContext(c),
    ...(k ? { requestFingerprint: k.fingerprint } : {})
  })

  /** The 202 for a command that queued a run, with its place in the queue once the supervisor has seen it. */
  const queuedAnswer = async (outcome: CommandOutcome, extra: Record<string, unknown> = {}) => {
    let queuePosition: number | undefined
    if (outcome.position !== null && (await supervisor.seen(outcome.position, queueSightingMs)))
      queuePosition = supervisor.queuePosition(outcome.sessionId)
    return acceptedBody(outcome, { ...extra, ...(queuePosition === undefined ? {} : { queuePosition }) })
  }

  /**
   * The first answer to a keyed request, when an earlier attempt already created its run:
   * the event that created it says where and at which revision; the command left it queued.
   */
  const firstAnswer = async (
    sessionId: string,
    runId: string,
    createdBy: string,
    k: Keyed,
    extra: Record<string, unknown> = {}
  ) => {
    const found = await runEffect(
      store.readStream(Result.getOrThrow(streamOf(sessionId))).pipe(
        Stream.filter((e) => e.type === createdBy && (e.data as { runId?: unknown }).runId === runId),
        Stream.runHead,
        Effect.catchTag("StreamNotFound", () => Effect.succeed(Option.none()))
      )
    )
    if (Option.isNone(found)) return null
    const fingerprint = (found.value.metadata as { requestFingerprint?: unknown } | null)?.requestFingerprint
    if (typeof fingerprint === "string" && fingerprint !== k.fingerprint) throw idempotencyKeyReused()
    return {
      sessionId,
      runId,
      status: "queued",
      position: encodePosition(found.value.position),
      revision: Number(found.value.revision),
      ...extra
    }
  }

  const replay = (c: Ctx, answer: { readonly revision?: unknown }) => {
    c.header("Idempotent-Replayed", "true")
    return accepted(c, answer)
  }

  /**
   * Appends a command that queues a run, its unredacted options left for the supervisor
   * first (it may start the run before the append returns). A keyed request whose run
   * already exists gets the first answer instead; `lookFirst` checks before appending (a
   * continue's or fork's retry after the first run ended would otherwise be accepted anew).
   */
  const queueRun = async (
    c: Ctx,
    k: Keyed | undefined,
    run: {
      readonly command: SessionCommand & { readonly runId: string }
      readonly secrets: SessionOptions
      readonly createdBy: string
      readonly expectedRevision?: bigint | undefined
      readonly extra?: Record<string, unknown>
      readonly lookFirst?: boolean
    }
  ) => {
    const { command, extra = {} } = run
    const existing = () => (k ? firstAnswer(command.sessionId, command.runId, run.createdBy, k, extra) : Promise.resolve(null))
    const earlier = run.lookFirst ? await existing() : null
    if (earlier) return replay(c, earlier)
    const mine = !runSecrets.has(command.runId)
    if (mine) runSecrets.put(command.runId, run.secrets)
    try {
      const outcome = await runEffect(
        commands.handle(command, contextOf(c, k), run.expectedRevision === undefined ? undefined : { expectedRevision: run.expectedRevision })
      )
      return accepted(c, await queuedAnswer(outcome, extra))
    } catch (e) {
      const first = await existing()
      if (first) return replay(c, first)
      if (mine) runSecrets.drop(command.runId)
      throw e
    }
  }

  on(app, routes.launchSession, async (c) => {
    const b = await body(c, deps, LaunchBody)
    await checkCwd(b.cwd)
    const { query, ...options } = b
    const k = keyed(c, query, options)
    const sessionId = k === undefined ? randomUUID() : derivedUuid("launch", "session", k.key)
    const runId = k === undefined ? randomUUID() : derivedUuid("launch", "run", k.key)
    return queueRun(c, k, {
      command: { kind: "LaunchSession", sessionId, runId, query, options },
      secrets: options,
      createdBy: "SessionLaunched"
    })
  })

  on(app, routes.continueSession, async (c) => {
    const sessionId = pathId(c)
    const b = await body(c, deps, ContinueBody)
    await checkCwd(b.cwd)
    const expectedRevision = ifMatch(c)
    const { query, ...overrides } = b
    const k = keyed(c, query, overrides)
    const runId = k === undefined ? randomUUID() : derivedUuid("continue", sessionId, k.key)
    return queueRun(c, k, {
      command: { kind: "ContinueSession", sessionId, runId, query, overrides },
      secrets: overrides,
      createdBy: "ContinueRequested",
      expectedRevision,
      lookFirst: true
    })
  })

  on(app, routes.forkSession, async (c) => {
    const parentSessionId = pathId(c)
    const b = await body(c, deps, ForkBody)
    await checkCwd(b.cwd)
    const expectedRevision = ifMatch(c)
    const { query, ...overrides } = b
    const k = keyed(c, query, overrides)
    const sessionId = k === undefined ? randomUUID() : derivedUuid("fork", parentSessionId, "session", k.key)
    const runId = k === undefined ? randomUUID() : derivedUuid("fork", parentSessionId, "run", k.key)
    const earlier = k === undefined ? null : await firstAnswer(sessionId, runId, "SessionForked", k, { parentSessionId })
    if (earlier) return replay(c, earlier)
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
    return queueRun(c, k, {
      command: { kind: "ForkSession", sessionId, runId, parentSessionId, parentClaudeSessionId: source.success, query, options },
      secrets: overrides,
      createdBy: "SessionForked",
      extra: { parentSessionId }
    })
  })

  on(app, routes.interruptSession, async (c) => {
    const sessionId = pathId(c)
    await body(c, deps, EmptyBody)
    const expectedRevision = ifMatch(c)
    const outcome = await runEffect(
      commands.handle(
        { kind: "RequestInterrupt", sessionId, requestedBy: c.get("subject") },
        commandContext(c),
        expectedRevision === undefined ? undefined : { expectedRevision }
      )
    )
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
