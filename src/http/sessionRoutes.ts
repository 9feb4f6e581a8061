// Commands on sessions: launch, continue, fork, interrupt, archive, unarchive, rename,
// drafts (create, edit, launch, discard, restore) and archiving many at once.
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
import type { CommandContext } from "../commands/sessionCommands.ts"
import { forkSource, type SessionCommand } from "../domain/sessionDecider.ts"
import type { BypassGrant } from "../domain/sessionControls.ts"
import { holdsSecrets, redactOptions, type SessionOptions } from "../domain/sessionOptions.ts"
import { streamOf } from "../domain/streamName.ts"
import { SessionNotFound } from "../domain/sessionErrors.ts"
import { WrongExpectedVersion } from "../eventstore/eventStore.ts"
import { encodePosition } from "../eventstore/position.ts"
import type { HttpDeps } from "./deps.ts"
import type { HttpEnv } from "./env.ts"
import { derivedUuid, fingerprintOf } from "./idempotency.ts"
import { type HttpProblem, idempotencyKeyReused, problem, toProblem, validationFailed } from "./problem.ts"
import { checkContinuedPermissionMode, checkPermissionMode } from "./permissionModeCheck.ts"
import { followUpIdFor, followUpOf, followUpSecrets, queuedFollowUp } from "./followUpRoutes.ts"
import { attemptIds } from "./groupAndFileRoutes.ts"
import { accepted, acceptedBody, checkDirectories, commandContext, type Ctx, type Input, router } from "./routeKit.ts"
import { routes } from "./routes.ts"
import { forkWorkspace, workspaceAtLaunch } from "./workspaceRoutes.ts"
import { bypassGrant } from "./sessionControlRoutes.ts"

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
  const handle = router(app, deps)

  /** A full run queue refuses new runs before anything is appended: queued runs hold their secrets in memory. */
  const queueHasRoom: Effect.Effect<void, HttpProblem> = Effect.suspend(() =>
    supervisor.queueFull()
      ? Effect.fail(problem(503, "queue-full", "Run queue full", "too many runs are waiting for a slot; retry later", {}, { "Retry-After": "5" }))
      : Effect.void
  )

  /** The key and the request's fingerprint (secrets redacted: a hash of them is not kept either). */
  const keyed = (c: Ctx, key: string | undefined, query: string, options: SessionOptions, extra: Record<string, unknown> = {}): Keyed | undefined =>
    key === undefined
      ? undefined
      : { key, fingerprint: fingerprintOf(c.req.method, c.req.path, { query, ...redactOptions(options), ...extra }) }

  /**
   * The parent's Claude message a fork branches from, read from the parent's stream (the
   * record, not a read model that may lag): the Claude session it belongs to is the one to
   * resume. 400 when the parent has no such message.
   */
  const forkPoint = (parentSessionId: string, atMessage: string) =>
    store.readStream(Result.getOrThrow(streamOf(parentSessionId))).pipe(
      Stream.filter((e) => e.type === "ClaudeUserMessage" || e.type === "ClaudeAssistantMessage"),
      Stream.map((e) => (e.data as { message?: { uuid?: unknown; session_id?: unknown } }).message),
      Stream.filter((m) => m?.uuid === atMessage && typeof m.session_id === "string" && m.session_id.length > 0),
      Stream.runHead,
      Effect.catchTag("StreamNotFound", () => Effect.succeed(Option.none())),
      Effect.flatMap((m) =>
        Option.isSome(m)
          ? Effect.succeed(m.value!.session_id as string)
          : Effect.fail(
              validationFailed(`/atMessage: ${atMessage} is not a Claude message of session ${parentSessionId}`, [
                { path: "/atMessage", message: "is not a message of the parent session" }
              ])
            )
      )
    )

  const contextOf = (c: Ctx, k: Keyed | undefined): CommandContext => ({
    ...commandContext(c),
    ...(k ? { requestFingerprint: k.fingerprint } : {})
  })

  /**
   * The first answer to a keyed request, when an earlier attempt already created its run:
   * the event that created it says where and at which revision; the command left it queued.
   */
  const firstAnswer = (
    sessionId: string,
    runId: string,
    createdBy: string | ReadonlyArray<string>,
    k: Keyed | undefined,
    extra: Record<string, unknown> = {}
  ) =>
    Effect.gen(function* () {
      if (k === undefined) return null
      const found = yield* store.readStream(Result.getOrThrow(streamOf(sessionId))).pipe(
        Stream.filter((e) => [createdBy].flat().includes(e.type) && (e.data as { runId?: unknown }).runId === runId),
        Stream.runHead,
        Effect.catchTag("StreamNotFound", () => Effect.succeed(Option.none()))
      )
      if (Option.isNone(found)) return null
      const fingerprint = (found.value.metadata as { requestFingerprint?: unknown } | null)?.requestFingerprint
      if (typeof fingerprint === "string" && fingerprint !== k.fingerprint) return yield* Effect.fail(idempotencyKeyReused())
      return {
        sessionId,
        runId,
        status: "queued" as const,
        position: encodePosition(found.value.position),
        revision: Number(found.value.revision),
        ...followUpOf(found.value),
        ...extra
      }
    })

  /**
   * Appends a command that queues a run, its unredacted options left for the supervisor
   * first (it may start the run before the append returns). A keyed request whose run
   * already exists gets the first answer instead; `lookFirst` checks before appending (a
   * continue's or fork's retry after the first run ended would otherwise be accepted anew).
   */
  const queueRun = (
    c: Ctx,
    k: Keyed | undefined,
    run: {
      readonly command: SessionCommand & { readonly runId: string }
      readonly secrets: SessionOptions
      readonly createdBy: string | ReadonlyArray<string>
      readonly expectedRevision?: bigint | undefined
      readonly extra?: Record<string, unknown>
      readonly lookFirst?: boolean
    }
  ) =>
    Effect.gen(function* () {
      const { command, extra = {} } = run
      const existing = firstAnswer(command.sessionId, command.runId, run.createdBy, k, extra)
      const earlier = run.lookFirst ? yield* existing : null
      if (earlier) return accepted(earlier, true)
      const mine = !runSecrets.has(command.runId)
      if (mine) runSecrets.put(command.runId, run.secrets)
      const outcome = yield* commands
        .handle(command, contextOf(c, k), run.expectedRevision === undefined ? undefined : { expectedRevision: run.expectedRevision })
        .pipe(
          Effect.catch((e) =>
            Effect.flatMap(existing, (first) => {
              if (first) return Effect.succeed(first)
              if (mine) runSecrets.drop(command.runId)
              return Effect.fail(e)
            })
          )
        )
      if (!("state" in outcome)) return accepted(outcome, true)
      const followUp = queuedFollowUp(outcome)
      if (followUp !== undefined) {
        // Nothing waits for a slot yet: the follow-up's run is queued when the active run
        // completes, under the same run id; only its MCP secrets, if any, wait for it here.
        const held = followUpSecrets(run.secrets)
        if (mine && held === undefined) runSecrets.drop(command.runId)
        else if (mine && held !== undefined) runSecrets.put(command.runId, held)
        return accepted(acceptedBody(outcome, { ...extra, ...followUp }))
      }
      let queuePosition: number | undefined
      if (outcome.position !== null && (yield* supervisor.seen(outcome.position!, queueSightingMs)))
        queuePosition = supervisor.queuePosition(outcome.sessionId)
      return accepted(acceptedBody(outcome, { ...extra, ...(queuePosition === undefined ? {} : { queuePosition }) }))
    })

  handle(routes.launchSession, ({ c, body: b, idempotencyKey }) =>
    Effect.gen(function* () {
      yield* checkDirectories(b)
      yield* checkPermissionMode(deps, b.permissionMode)
      yield* queueHasRoom
      const { query, attempts, bypassExpiresInMs, ...asked } = b
      const grant = yield* bypassGrant(c, deps, asked.permissionMode, bypassExpiresInMs)
      const k = keyed(c, idempotencyKey, query, asked, { ...(attempts === undefined ? {} : { attempts }), ...(bypassExpiresInMs === undefined ? {} : { bypassExpiresInMs }) })
      if (attempts !== undefined) return yield* launchAttempts(c, k, query, asked, attempts, grant)
      const sessionId = k === undefined ? randomUUID() : derivedUuid("launch", "session", k.key)
      const runId = k === undefined ? randomUUID() : derivedUuid("launch", "run", k.key)
      const options = yield* workspaceAtLaunch(deps, sessionId, asked)
      return yield* queueRun(c, k, {
        command: { kind: "LaunchSession", sessionId, runId, query, options, ...grant },
        secrets: options,
        createdBy: "SessionLaunched"
      })
    })
  )

  /**
   * Parallel attempts (issue 12, item 7): N sessions of one query, each its own stream with
   * its own SessionLaunched naming the group. N appends to N streams are not atomic: with an
   * Idempotency-Key every id derives from the key and the attempt, so a retry after a crash
   * mid-launch finds the sessions already there (answered from their events) and launches
   * the rest. Without a key a crash can leave a smaller group.
   */
  const launchAttempts = (c: Ctx, k: Keyed | undefined, query: string, asked: SessionOptions, of: number, grant: { bypass?: BypassGrant }) =>
    Effect.gen(function* () {
      const ids = attemptIds(k?.key, of)
      const answers = []
      for (const [i, { sessionId, runId }] of ids.sessions.entries()) {
        const attempt = i + 1
        // Each attempt its own worktree: a branch named in the request gets the attempt's number.
        const w = asked.workspace
        const own = w?.kind === "worktree" && w.branch !== undefined ? { ...asked, workspace: { ...w, branch: `${w.branch}-${attempt}` } } : asked
        const options = yield* workspaceAtLaunch(deps, sessionId, own)
        answers.push({
          attempt,
          ...(yield* queueRun(c, k, {
            command: { kind: "LaunchSession", sessionId, runId, query, options, group: { groupId: ids.groupId, attempt, of }, ...grant },
            secrets: options,
            createdBy: "SessionLaunched"
          }))
        })
      }
      const first = answers[0]!
      const sessions = answers.map(({ attempt, body: a }) => ({ attempt, sessionId: a.sessionId, runId: a.runId ?? "", position: a.position, revision: a.revision }))
      return accepted({ ...first.body, groupId: ids.groupId, sessions }, answers.every((a) => a.headers["Idempotent-Replayed"] === "true"))
    })

  handle(routes.continueSession, ({ c, id: sessionId, body: b, ifMatch: expectedRevision, idempotencyKey }) =>
    Effect.gen(function* () {
      yield* checkDirectories(b)
      yield* checkContinuedPermissionMode(deps, sessionId, b.permissionMode)
      yield* queueHasRoom
      const { query, bypassExpiresInMs, ...overrides } = b
      const grant = yield* bypassGrant(c, deps, overrides.permissionMode, bypassExpiresInMs)
      const k = keyed(c, idempotencyKey, query, overrides, bypassExpiresInMs === undefined ? {} : { bypassExpiresInMs })
      const runId = k === undefined ? randomUUID() : derivedUuid("continue", sessionId, k.key)
      return yield* queueRun(c, k, {
        command: { kind: "ContinueSession", sessionId, runId, query, overrides, ...followUpIdFor(sessionId, k?.key), ...grant },
        secrets: overrides,
        createdBy: ["ContinueRequested", "FollowUpQueued"],
        expectedRevision,
        lookFirst: true
      })
    })
  )

  handle(routes.forkSession, ({ c, id: parentSessionId, body: b, ifMatch: expectedRevision, idempotencyKey }) =>
    Effect.gen(function* () {
      yield* checkDirectories(b)
      yield* queueHasRoom
      const { query, atMessage, bypassExpiresInMs, ...overrides } = b
      const k = keyed(c, idempotencyKey, query, overrides, {
        ...(atMessage === undefined ? {} : { atMessage }),
        ...(bypassExpiresInMs === undefined ? {} : { bypassExpiresInMs })
      })
      const sessionId = k === undefined ? randomUUID() : derivedUuid("fork", parentSessionId, "session", k.key)
      const runId = k === undefined ? randomUUID() : derivedUuid("fork", parentSessionId, "run", k.key)
      const earlier = yield* firstAnswer(sessionId, runId, "SessionForked", k, { parentSessionId })
      if (earlier) return accepted(earlier, true)
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
      const resumed = atMessage === undefined ? source.success : yield* forkPoint(parentSessionId, atMessage)
      // The fork runs as the parent's current run did, under its own title.
      const inherited = parent.state === null ? {} : without(parent.state.runOptions, "title")
      const options = yield* workspaceAtLaunch(deps, sessionId, forkWorkspace(parent.state, { ...inherited, ...overrides }, overrides))
      yield* checkPermissionMode(deps, options.permissionMode)
      // A fork in bypassPermissions (asked, or inherited from its parent) has a bypass of its own.
      const grant = yield* bypassGrant(c, deps, options.permissionMode, bypassExpiresInMs)
      return yield* queueRun(c, k, {
        command: {
          kind: "ForkSession",
          sessionId,
          runId,
          parentSessionId,
          parentClaudeSessionId: resumed,
          ...(atMessage === undefined ? {} : { atMessage }),
          query,
          options,
          ...grant
        },
        secrets: overrides,
        createdBy: "SessionForked",
        extra: { parentSessionId }
      })
    })
  )

  handle(routes.interruptSession, ({ c, id: sessionId, ifMatch: expectedRevision }) =>
    commands
      .handle(
        { kind: "RequestInterrupt", sessionId, requestedBy: c.get("principal").name },
        commandContext(c),
        expectedRevision === undefined ? undefined : { expectedRevision }
      )
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

  /** A draft is recorded as it is, so a secret in it would be lost to redaction: only `${VAR}` references. */
  const checkDraftSecrets = (options: SessionOptions): Effect.Effect<void, HttpProblem> =>
    holdsSecrets(options)
      ? Effect.fail(
          validationFailed("/mcpServers: a draft is recorded as it is; give MCP secrets as ${VAR} references", [
            { path: "/mcpServers", message: "holds a secret value (use a ${VAR} reference)" }
          ])
        )
      : Effect.void

  const ifMatched = (expectedRevision: bigint | undefined) => (expectedRevision === undefined ? undefined : { expectedRevision })

  handle(routes.createDraft, ({ c, body: b, idempotencyKey }) =>
    Effect.gen(function* () {
      yield* checkDirectories(b)
      const { query = "", ...asked } = b
      yield* checkDraftSecrets(asked)
      // The service's default is recorded with the draft (checked against the repository at launch).
      const options: SessionOptions =
        asked.workspace === undefined && deps.config.workspaceDefault === "worktree" ? { ...asked, workspace: { kind: "worktree" } } : asked
      const k = keyed(c, idempotencyKey, query, options)
      const sessionId = k === undefined ? randomUUID() : derivedUuid("draft", "session", k.key)
      const outcome = yield* commands
        .handle({ kind: "CreateDraft", sessionId, query, options }, contextOf(c, k))
        .pipe(
          Effect.catchTag("SessionAlreadyExists", (e) =>
            Effect.gen(function* () {
              // A retry of the same keyed request: answered as the first was (its DraftCreated).
              if (k === undefined) return yield* Effect.fail(e)
              const first = yield* store.readStream(Result.getOrThrow(streamOf(sessionId)), { maxCount: 1 })
                .pipe(Stream.runHead, Effect.catchTag("StreamNotFound", () => Effect.succeed(Option.none())))
              if (Option.isNone(first) || first.value.type !== "DraftCreated") return yield* Effect.fail(e)
              const fingerprint = (first.value.metadata as { requestFingerprint?: unknown } | null)?.requestFingerprint
              if (fingerprint !== k.fingerprint) return yield* Effect.fail(idempotencyKeyReused())
              return { replayed: true as const, position: first.value.position, revision: first.value.revision }
            })
          )
        )
      if ("replayed" in outcome)
        return accepted(
          { sessionId, runId: null, status: "draft" as const, position: encodePosition(outcome.position), revision: Number(outcome.revision) },
          true
        )
      return accepted({ ...acceptedBody(outcome), runId: null })
    })
  )

  handle(routes.editDraft, ({ c, id: sessionId, body: b, ifMatch }) =>
    Effect.gen(function* () {
      yield* checkDirectories(b)
      const { query, ...options } = b
      yield* checkDraftSecrets(options)
      const outcome = yield* commands.handle(
        { kind: "EditDraft", sessionId, ...(query === undefined ? {} : { query }), options },
        commandContext(c),
        ifMatched(ifMatch)
      )
      return accepted({ ...acceptedBody(outcome, { title: outcome.state.title ?? null }), runId: null })
    })
  )

  handle(routes.launchDraft, ({ c, id: sessionId, ifMatch, idempotencyKey }) =>
    Effect.gen(function* () {
      const loaded = yield* commands.load(sessionId)
      const draft = loaded.state
      if (draft === null) return yield* Effect.fail(new SessionNotFound({ sessionId }))
      // Checked again at launch: a directory may have gone since the draft was written.
      if (draft.status === "draft") {
        yield* checkDirectories(draft.options)
        yield* checkPermissionMode(deps, draft.options.permissionMode)
        yield* workspaceAtLaunch(deps, sessionId, draft.options)
        yield* queueHasRoom
      }
      const k = keyed(c, idempotencyKey, draft.query, draft.options)
      const runId = k === undefined ? randomUUID() : derivedUuid("launch-draft", sessionId, k.key)
      const grant = yield* bypassGrant(c, deps, draft.options.permissionMode, undefined)
      return yield* queueRun(c, k, {
        command: { kind: "LaunchDraft", sessionId, runId, ...grant },
        // The draft holds no secrets (refused when it was written): its options are the run's.
        secrets: draft.options,
        createdBy: "SessionLaunched",
        expectedRevision: ifMatch,
        lookFirst: true
      })
    })
  )

  const draftHousekeeping =
    (kind: "DiscardDraft" | "RestoreDraft") =>
    ({ c, id: sessionId, ifMatch }: Input<typeof routes.discardDraft | typeof routes.restoreDraft>) =>
      commands
        .handle({ kind, sessionId }, commandContext(c), ifMatched(ifMatch))
        .pipe(Effect.map((outcome) => accepted({ ...acceptedBody(outcome), runId: null })))
  handle(routes.discardDraft, draftHousekeeping("DiscardDraft"))
  handle(routes.restoreDraft, draftHousekeeping("RestoreDraft"))

  /** Each session's own command; a failure is reported beside the others, as a single request would have got it. */
  const bulk =
    (kind: "ArchiveSession" | "UnarchiveSession") =>
    ({ c, body: { sessionIds } }: Input<typeof routes.archiveSessions | typeof routes.unarchiveSessions>) =>
      Effect.gen(function* () {
        const succeeded: Array<{ sessionId: string; archived: boolean; position: string | null; revision: number | null }> = []
        const failed: Array<{ sessionId: string; problem: Record<string, unknown> }> = []
        for (const raw of new Set(sessionIds.map((id) => id.toLowerCase()))) {
          const r = yield* Effect.result(commands.handle({ kind, sessionId: raw }, commandContext(c)))
          if (Result.isSuccess(r)) {
            const { sessionId, position, revision } = acceptedBody(r.success)
            succeeded.push({ sessionId, archived: r.success.state.archived, position, revision })
            continue
          }
          const p = toProblem(r.failure, { ifMatch: false })
          // A store failure is the whole request's, logged at the edge, not one session's.
          if (p.internal) return yield* Effect.fail(r.failure)
          failed.push({ sessionId: raw, problem: p.problem })
        }
        return { status: 200, body: { succeeded, failed } } as const
      })
  handle(routes.archiveSessions, bulk("ArchiveSession"))
  handle(routes.unarchiveSessions, bulk("UnarchiveSession"))
}
