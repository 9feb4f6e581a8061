// The supervisor is the process manager of the event store: it follows the lifecycle
// events of every session stream from its checkpoint and reacts to them. A run queued by
// SessionLaunched, SessionForked or ContinueRequested is claimed by appending RunStarted
// with the stream's expected revision (so of several instances on one store exactly one
// runs it) when this instance has a free slot; InterruptRequested stops the run's process;
// ApprovalDecided releases the Claude process waiting on it; RunCompleted starts the
// session's oldest queued follow-up (followUpStarts.ts). Nothing else hands it work:
// HTTP handlers decide and append, and recovery after a restart is the same subscription
// replayed from the checkpoint.
import { randomUUID } from "node:crypto"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { PermissionResult } from "@anthropic-ai/claude-agent-sdk"
import { Cause, Clock, Context, Deferred, Effect, Fiber, Result, Stream } from "effect"
import type {
  CommandContext,
  CommandOptions,
  CommandOutcome,
  LoadedSession,
  SessionCommandsShape
} from "../commands/sessionCommands.ts"
import { isResultError, type ClaudeMessage } from "../domain/claudeMessages.ts"
import type { RunOutcome, SessionCommand } from "../domain/sessionDecider.ts"
import { validateEvent } from "../domain/sessionEvents.ts"
import type { SessionOptions } from "../domain/sessionOptions.ts"
import type { Session } from "../domain/sessionState.ts"
import { sessionIdOf, streamPrefix } from "../domain/streamName.ts"
import { EventStoreFailure, type EventStoreShape, type Position, type RecordedEvent } from "../eventstore/eventStore.ts"
import { comparePositions } from "../eventstore/position.ts"
import { errorText, type Logger } from "../log.ts"
import { backoff } from "../backoff.ts"
import { memoryCheckpoint, type Checkpoint } from "./checkpoint.ts"
import { startClaude, type PermissionRequest, type RunHooks, type RunningClaude, type RunSpec } from "./claudeRunner.ts"
import { RunQueue } from "./runQueue.ts"
import { FollowUpStarts } from "./followUpStarts.ts"
import { noPidFiles, type RunPidFiles } from "./runPidFiles.ts"
import { refusal, type RunPolicy } from "./sandbox.ts"
import { makeRunSecrets, missingSecrets, type RunSecrets } from "./runSecrets.ts"
import { controlEventTypes, makeControlsReactor } from "./sessionControlsReactor.ts"
import { bypassPermissionsUnavailable } from "./claudePreflight.ts"
import { makeWorkspaceProcess } from "../workspaces/workspaceProcess.ts"

export interface SupervisorConfig {
  readonly maxRunning: number
  readonly claudePath: string | undefined
  /** Identifies this agentlog instance in RunStarted, so recovery only abandons its own runs. */
  readonly supervisorId: string
  readonly approvalTimeoutMs: number
  /** How long an interrupted process may take to stop before it is killed. */
  readonly interruptGraceMs: number
  /** The environment Claude inherits (the service's own, less agentlog's secrets). */
  readonly env: Readonly<Record<string, string | undefined>>
  /** Runs that may wait for a slot (their secrets wait in memory); launches past it are refused. */
  readonly maxQueued?: number
  /** How runs are fenced in (sandbox, private paths, MCP `${VAR}` allowlist); recorded in RunStarted. */
  readonly policy?: RunPolicy
  /** Where live runs leave their pids, so orphans can be ended after a crash. */
  readonly pidFiles?: RunPidFiles
  /**
   * How long an append of this supervisor's (a Claude message, an approval request, the
   * start or end of a run) is retried while the event store is unavailable before it
   * gives up (default 15 s). Claude waits meanwhile. A Claude message that still cannot be
   * recorded stops the run; the start and end of a run are retried until they are recorded.
   */
  readonly storeRetryMs?: number
  /** Where the subscription resumes after a restart (default: in memory, from the start). */
  readonly checkpoint?: Checkpoint
  /**
   * How long a run accepted by another instance is left to that instance before this one
   * may claim it (default 2 s): the instance that took the request runs it when it has a
   * free slot, and any instance with a free slot does when it has not.
   */
  readonly foreignClaimDelayMs?: number
  /** Where session worktrees are made (default: under the system's temporary directory). */
  readonly workspaceRoot?: string
  /** Test seam: starts a run's process (default: the claude binary through the Agent SDK). */
  readonly startClaude?: (spec: RunSpec, hooks: RunHooks) => RunningClaude
}

export interface SupervisorShape {
  /**
   * Ends orphaned claude processes, subscribes from the checkpoint and resolves once it has
   * caught up: this instance's runs left in flight by a crash are then abandoned, and
   * queued runs start, oldest first, as slots allow.
   */
  readonly start: Effect.Effect<{ abandoned: number; requeued: number }, EventStoreFailure>
  /** Stops taking work; interrupts running runs; abandons what does not stop in time. */
  readonly shutdown: Effect.Effect<void>
  /** 1-based place of the session's run among those waiting for a slot here. */
  readonly queuePosition: (sessionId: string) => number | undefined
  readonly runningCount: () => number
  /** True when maxQueued runs already wait: a new run would be refused. */
  readonly queueFull: () => boolean
  /** True once the subscription has reacted to the event at `position` (false after `timeoutMs`, on the caller's Clock). */
  readonly seen: (position: Position, timeoutMs: number) => Effect.Effect<boolean>
}

export class Supervisor extends Context.Service<Supervisor, SupervisorShape>()("agentlog/Supervisor") {}

/** The run-lifecycle events the process manager reacts to. */
const opening = ["SessionLaunched", "SessionForked", "ContinueRequested"] as const
const closing = ["RunCompleted", "RunFailed", "RunInterrupted", "RunAbandoned"] as const
export const processManagerEvents: ReadonlyArray<string> = [
  ...opening,
  "RunStarted",
  "InterruptRequested",
  "ApprovalDecided",
  ...closing,
  "SessionArchived",
  ...controlEventTypes
]

interface OpenRun {
  readonly runId: string
  /** The last position handled before the event that opened the run: replay resumes after it. */
  readonly before: Position | "start"
  readonly acceptedBy: string | undefined
  /** Set by RunStarted: the instance running it. */
  startedBy: string | undefined
  started: boolean
}

interface LiveRun {
  readonly sessionId: string
  readonly runId: string
  claude: RunningClaude | undefined
  interrupted: boolean
  stopping: Promise<void> | undefined
}

interface Waiter {
  readonly sessionId: string
  /** The tool's input as Claude asked: a question's answers are handed back added to it. */
  readonly input: Record<string, unknown>
  readonly resolve: (r: PermissionResult) => void
  readonly cancelTimeout: () => void
}

const supervisorCtx = (runId: string): CommandContext => ({ correlationId: runId, source: "supervisor" })
const claudeCtx = (runId: string): CommandContext => ({ correlationId: runId, source: "claude" })

const defaultStoreRetryMs = 15_000
const defaultForeignClaimDelayMs = 2_000
const checkpointEveryMs = 200

/** What went wrong, in words, from a failed result message. */
const resultError = (r: ClaudeMessage): string => {
  const errors = Array.isArray(r.errors) ? r.errors.filter((x) => typeof x === "string") : []
  const text = typeof r.result === "string" && r.result.length > 0 ? r.result : errors.join("; ")
  const how = r.subtype === "success" || typeof r.subtype !== "string" ? "an error" : r.subtype
  return `Claude ended with ${how}${text ? `: ${text}` : ""}`
}

/** AskUserQuestion is a question to answer and ExitPlanMode a plan to accept or reject, not a tool's permission. */
const questionOrPlan = (req: PermissionRequest, plans: ReadonlyMap<string, string>) => {
  if (req.toolName === "AskUserQuestion") return { approvalKind: "question" as const }
  if (req.toolName !== "ExitPlanMode") return {}
  // Claude hands over the plan from its plan file when there is one; else the tool use has it.
  const plan = typeof req.input.plan === "string" ? req.input.plan : plans.get(req.toolUseId)
  return { approvalKind: "plan" as const, ...(plan !== undefined ? { plan } : {}) }
}

/** The plans of ExitPlanMode tool uses in an assistant message, by tool use id. */
const plansIn = (message: ClaudeMessage): ReadonlyArray<readonly [string, string]> => {
  const content = (message.message as { content?: unknown } | undefined)?.content
  if (!Array.isArray(content)) return []
  return content.flatMap((b: { type?: unknown; name?: unknown; id?: unknown; input?: { plan?: unknown } }) =>
    b?.type === "tool_use" && b.name === "ExitPlanMode" && typeof b.id === "string" && typeof b.input?.plan === "string"
      ? [[b.id, b.input.plan] as const]
      : []
  )
}

const instanceOf = (metadata: unknown): string | undefined => {
  const m = metadata as { instanceId?: unknown } | null
  return typeof m === "object" && m !== null && typeof m.instanceId === "string" ? m.instanceId : undefined
}

export const makeSupervisor = (
  commands: SessionCommandsShape,
  store: EventStoreShape,
  config: SupervisorConfig,
  logger: Logger,
  secrets: RunSecrets = makeRunSecrets(),
  /**
   * The services its effects run with (SupervisorLive passes its own): every timer and
   * retry goes by their Clock, so a TestClock drives approval timeouts, the interrupt
   * grace and store retries in tests.
   */
  services: Context.Context<never> = Context.empty()
): SupervisorShape => {
  const me = config.supervisorId
  const queue = new RunQueue()
  const open = new Map<string, OpenRun>()
  const live = new Map<string, LiveRun>()
  const waiters = new Map<string, Waiter>()
  const settled = new Set<Promise<unknown>>()
  const checkpoint = config.checkpoint ?? memoryCheckpoint()
  const foreignDelay = config.foreignClaimDelayMs ?? defaultForeignClaimDelayMs
  const pidFiles = config.pidFiles ?? noPidFiles
  let accepting = true
  let caughtUp = false
  let subscribed = false
  let busy = 0
  let lastSeen: Position | "start" = checkpoint.read()
  let seenWaiters: Array<{ readonly position: Position; readonly resolve: (ok: boolean) => void }> = []
  let subscription: Fiber.Fiber<unknown, unknown> | undefined
  let cancelReady: (() => void) | undefined
  let cancelCheckpoint: (() => void) | undefined
  let written: Position | "start" | undefined
  const followUpStarts = new FollowUpStarts()

  /**
   * The supervisor's own appends ride out a short store outage (see storeRetryMs), until
   * shutdown. The first retry of each command is logged: meanwhile Claude waits.
   */
  const persistent = (what: string, sessionId: string): CommandOptions => {
    let warned = false
    return {
      retryUnavailableMs: config.storeRetryMs ?? defaultStoreRetryMs,
      keepRetrying: () => {
        if (!warned && accepting) {
          warned = true
          logger.log("warn", `${what}: the event store is unavailable; retrying`, { sessionId })
        }
        return accepting
      }
    }
  }

  const clock = Context.get(services, Clock.Clock)
  const now = () => clock.currentTimeMillisUnsafe()
  const fork = Effect.runForkWith(services)
  const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromiseWith(services)(Effect.result(e))

  /** Runs `effect` after `ms` on the Clock; the answer cancels it unless it is already due. */
  const after = (ms: number, effect: Effect.Effect<unknown, unknown>): (() => void) => {
    let due = false
    const fiber = fork(
      Effect.sleep(Math.max(0, ms)).pipe(
        Effect.andThen(
          Effect.suspend(() => {
            due = true
            return effect
          })
        ),
        Effect.catchCause((cause) => Effect.sync(() => logger.log("error", "a supervisor timer failed", { error: errorText(Cause.squash(cause)) })))
      )
    )
    return () => {
      if (!due) fiber.interruptUnsafe()
    }
  }

  /** A decided approval releases the Claude process waiting on it, if it is one of ours. */
  const release = (d: {
    readonly approvalId: string
    readonly decision: string
    readonly message?: string | undefined
    readonly updatedInput?: unknown
    readonly answers?: Readonly<Record<string, string>> | undefined
  }) => {
    const w = waiters.get(d.approvalId)
    if (!w) return
    waiters.delete(d.approvalId)
    w.cancelTimeout()
    // AskUserQuestion reads its answers from its input: the questions as asked, with `answers`.
    const updatedInput = d.answers ? { ...w.input, answers: d.answers } : (d.updatedInput as Record<string, unknown> | undefined)
    w.resolve(
      d.decision === "allow"
        ? { behavior: "allow", ...(updatedInput ? { updatedInput } : {}) }
        : { behavior: "deny", message: d.message ?? "denied" }
    )
  }

  const afterCommand = (outcome: CommandOutcome) => {
    for (const e of outcome.events) if (e.type === "ApprovalDecided") release(e.data)
    if (outcome.events.length > 0) {
      const s = outcome.state
      logger.log("info", "session transition", {
        sessionId: s.sessionId,
        runId: s.runId,
        status: s.status,
        events: outcome.events.map((e) => e.type)
      })
    }
    return outcome
  }

  const handle = (command: SessionCommand, ctx: CommandContext, options?: CommandOptions) =>
    commands.handle(command, ctx, options).pipe(Effect.map(afterCommand))

  /**
   * What must reach the record whatever happens (a session's state, the start and the end
   * of a run): tried again, with backoff, for as long as the store is unavailable. Only a
   * shutdown stops it; recovery at the next start then accounts for the run.
   */
  const whileUnavailable = <A, E extends { readonly _tag: string }>(what: string, sessionId: string, effect: Effect.Effect<A, E>) =>
    run(
      effect.pipe(
        Effect.tapError((e) =>
          Effect.sync(() => {
            if (e._tag === "EventStoreUnavailable" && accepting)
              logger.log("warn", `${what}: the event store is unavailable; trying again`, { sessionId, error: errorText(e) })
          })
        ),
        Effect.retry({ schedule: backoff(500, 10_000), while: (e) => e._tag === "EventStoreUnavailable" && accepting })
      )
    )

  const workspaces = makeWorkspaceProcess({
    root: config.workspaceRoot ?? join(tmpdir(), "agentlog-workspaces"),
    logger,
    load: async (sessionId) => {
      const r = await run(commands.load(sessionId, { fresh: true }))
      return Result.isSuccess(r) ? r.success.state : null
    },
    record: (sessionId, runId, command) =>
      whileUnavailable("recording a workspace", sessionId, handle(command, supervisorCtx(runId), persistent("recording a workspace", sessionId))),
    recorded: async () => {
      const r = await run(Stream.runCollect(store.readAll({ filter: { eventTypes: ["WorkspaceCreated"] } })))
      return Result.isSuccess(r) ? [...new Set(r.success.flatMap((e) => sessionIdOf(e.stream) ?? []))] : []
    }
  })

  const finish = async (sessionId: string, runId: string, outcome: RunOutcome) => {
    await workspaces.settle(sessionId, runId, outcome.kind)
    const r = await whileUnavailable(
      "recording the end of a run",
      sessionId,
      handle({ kind: "FinishRun", sessionId, runId, outcome }, supervisorCtx(runId), persistent("recording the end of a run", sessionId))
    )
    // InvalidTransition: already ended (an abandon, or an earlier attempt whose answer was lost).
    if (Result.isFailure(r) && r.failure._tag !== "InvalidTransition")
      logger.log("error", "could not record the end of a run; recovery at the next start abandons it", {
        sessionId,
        runId,
        error: errorText(r.failure)
      })
  }

  const askApproval = async (lr: LiveRun, req: PermissionRequest, timeoutMs: number, plans: ReadonlyMap<string, string>): Promise<PermissionResult> => {
    const approvalId = randomUUID()
    const expiresAt = new Date(now() + timeoutMs).toISOString()
    const answer = new Promise<PermissionResult>((resolve) => {
      // The denial's append releases the waiter (see afterCommand), as a decision from the API would.
      const cancelTimeout = after(
        timeoutMs,
        handle(
          {
            kind: "DecideApproval",
            sessionId: lr.sessionId,
            approvalId,
            decision: "deny",
            message: `no decision within ${timeoutMs} ms`,
            decidedBy: "agentlog",
            reason: "timeout"
          },
          supervisorCtx(lr.runId),
          persistent("recording an approval timeout", lr.sessionId)
        ).pipe(Effect.ignore)
      )
      waiters.set(approvalId, { sessionId: lr.sessionId, input: req.input, resolve, cancelTimeout })
    })
    const requested = await run(
      handle(
        {
          kind: "RequestApproval",
          sessionId: lr.sessionId,
          runId: lr.runId,
          approvalId,
          toolUseId: req.toolUseId,
          toolName: req.toolName,
          input: JSON.parse(JSON.stringify(req.input)),
          suggestions: JSON.parse(JSON.stringify(req.suggestions)),
          expiresAt,
          ...questionOrPlan(req, plans)
        },
        claudeCtx(lr.runId),
        persistent("recording an approval request", lr.sessionId)
      )
    )
    if (Result.isFailure(requested)) {
      waiters.get(approvalId)?.cancelTimeout()
      waiters.delete(approvalId)
      return { behavior: "deny", message: `agentlog could not record the request: ${errorText(requested.failure)}` }
    }
    req.signal.addEventListener("abort", () => {
      const w = waiters.get(approvalId)
      if (w) w.resolve({ behavior: "deny", message: "aborted" })
    })
    return answer
  }

  /** Claims the run: true when this instance's RunStarted was appended (or, after an outage, found). */
  const claim = async (sessionId: string, runId: string, resume: string | undefined): Promise<boolean> => {
    let outage = false
    const started = await whileUnavailable(
      "starting a run",
      sessionId,
      handle(
        {
          kind: "StartRun",
          sessionId,
          runId,
          supervisorId: me,
          ...(resume ? { resume } : {}),
          ...(config.policy ? { sandbox: config.policy.protection } : {})
        },
        supervisorCtx(runId),
        persistent("starting a run", sessionId)
      ).pipe(Effect.tapError((e) => Effect.sync(() => void (outage ||= e._tag === "EventStoreUnavailable"))))
    )
    if (Result.isSuccess(started)) return true
    if (!outage || started.failure._tag !== "InvalidTransition") return false
    // Refused after an outage: an earlier attempt may have been written with its answer lost.
    const now = await run(commands.load(sessionId))
    const s = Result.isSuccess(now) ? now.success.state : null
    return s !== null && s.runId === runId && s.status === "running" && s.runSupervisorId === me
  }

  const controls = makeControlsReactor({
    logger,
    now,
    after,
    handle,
    persistent,
    liveClaude: (sessionId) => live.get(sessionId)?.claude,
    policy: config.policy
  })
  // Whether a run may be switched into bypassPermissions while it runs: Claude must be told at its start.
  const bypassable =
    bypassPermissionsUnavailable(process.getuid?.(), config.env) === undefined &&
    (config.policy === undefined || refusal(config.policy, "bypassPermissions") === undefined)
  /**
   * A completed run's session: its oldest queued follow-up becomes the next run. True when
   * the attempt is over (started, or nothing to start); false leaves it for the next try
   * (or, after a shutdown, for the replay at the next start).
   */
  const startFollowUp = async (sessionId: string, afterRunId: string): Promise<boolean> => {
    // Read fresh: the cached state may predate the RunCompleted (another instance appended
    // it), and "nothing to start" on a stale state would not be retried.
    const r = await whileUnavailable(
      "starting a follow-up",
      sessionId,
      commands.load(sessionId, { fresh: true }).pipe(
        Effect.andThen(
          handle({ kind: "StartNextFollowUp", sessionId, afterRunId }, supervisorCtx(afterRunId), persistent("starting a follow-up", sessionId))
        )
      )
    )
    if (Result.isSuccess(r)) return true
    if (r.failure._tag !== "EventStoreUnavailable")
      logger.log("error", "could not start a follow-up", { sessionId, afterRunId, error: errorText(r.failure) })
    return r.failure._tag !== "EventStoreUnavailable"
  }

  /** Stops the run's process once, however many times it is asked (an interrupt, a shutdown). */
  const stopProcess = (lr: LiveRun) => {
    lr.interrupted = true
    const c = lr.claude
    if (!c || lr.stopping) return
    logger.log("info", "stopping claude", { sessionId: lr.sessionId, runId: lr.runId, graceMs: config.interruptGraceMs })
    lr.stopping = (async () => {
      // The deadline starts now: a claude that never answers the interrupt is killed all the same.
      const cancelKill = after(config.interruptGraceMs, Effect.sync(() => c.kill()))
      await c.interrupt()
      await c.done
      cancelKill()
    })()
  }

  const execute = async (sessionId: string, runId: string, acceptedBy: string | undefined): Promise<void> => {
    const queuedHere = (l: LoadedSession) => l.state !== null && l.state.runId === runId && l.state.status === "queued"
    // The cache may not have the append this reacts to yet (the store can announce it first).
    const loaded = await whileUnavailable(
      "loading a session to start its run",
      sessionId,
      commands.load(sessionId).pipe(Effect.flatMap((l) => (queuedHere(l) ? Effect.succeed(l) : commands.load(sessionId, { fresh: true }))))
    )
    if (Result.isFailure(loaded) || loaded.success.state === null) return
    const s: Session = loaded.success.state
    // Not started while shutting down: it stays queued in the store for the next start.
    if (s.runId !== runId || s.status !== "queued" || !accepting) return
    // The session's mode and model as they are now (changed since the request left its options).
    const { permissionMode, model } = s.runOptions
    const options: SessionOptions = {
      ...s.runOptions,
      ...secrets.take(runId),
      ...(permissionMode !== undefined ? { permissionMode } : {}),
      ...(model !== undefined ? { model } : {})
    }
    const missing = missingSecrets(options)
    if (missing.length > 0) {
      // Only the instance that accepted the request ever held these; another leaves the run to it.
      if (acceptedBy !== undefined && acceptedBy !== me) return
      const which = missing.map((m) => `MCP secret for ${m}`).join(", ")
      const error = `${which} ${missing.length === 1 ? "is" : "are"} no longer available (agentlog keeps secrets in memory only, and it restarted); continue with ${missing.length === 1 ? "it" : "them"} resent`
      logger.log("warn", "a queued run lost its MCP secrets; recorded as failed", { sessionId, runId, missing })
      await finish(sessionId, runId, { kind: "failed", error })
      return
    }
    const resume = s.claudeSessionId
    const lr: LiveRun = { sessionId, runId, claude: undefined, interrupted: false, stopping: undefined }
    // Registered before the claim: an interrupt that follows RunStarted at once finds it.
    live.set(sessionId, lr)
    try {
      // Another instance started it, or it was interrupted while queued: not ours to run.
      if (!(await claim(sessionId, runId, resume))) return
      const workspace = await workspaces.prepare(s)
      if ("error" in workspace) return await finish(sessionId, runId, { kind: "failed", error: workspace.error })
      await runClaude(lr, s, workspace.cwd === undefined ? options : { ...options, cwd: workspace.cwd }, resume)
    } finally {
      pidFiles.forget(runId)
      if (live.get(sessionId) === lr) live.delete(sessionId)
      for (const [id, w] of waiters) {
        if (w.sessionId !== sessionId) continue
        w.cancelTimeout()
        waiters.delete(id)
      }
    }
  }

  const runClaude = async (lr: LiveRun, s: Session, options: SessionOptions, resume: string | undefined) => {
    const { sessionId, runId } = lr
    const timeoutMs = options.approvalTimeoutMs ?? config.approvalTimeoutMs
    let recordFailure: string | undefined
    let recordedResult: RunOutcome | undefined
    const plans = new Map<string, string>()
    try {
      lr.claude = (config.startClaude ?? startClaude)(
        {
          query: s.runQuery,
          options,
          resume,
          // A reset to an earlier run resumes there as a fork: the conversation reset away stays as it was.
          forkSession: (s.parentSessionId !== undefined && !s.claudeSessionBound) || s.resumeAt !== undefined,
          resumeAt: s.resumeAt ?? (s.claudeSessionBound ? undefined : s.forkedAt),
          claudePath: config.claudePath,
          env: config.env,
          ...(config.policy ? { policy: config.policy } : {}),
          allowBypass: bypassable
        },
        {
          onSpawn: (pid) => {
            if (pid !== undefined) pidFiles.record(runId, pid)
            logger.log("info", "claude started", { sessionId, runId, pid })
          },
          onMessage: async (message) => {
            if (recordFailure) return
            if (message.type === "assistant") for (const [id, plan] of plansIn(message)) plans.set(id, plan)
            // Retried while the store is unavailable (Claude waits): the event ids derive from
            // the message's uuid, so a retried append is idempotent.
            const r = await run(
              handle(
                { kind: "RecordClaudeMessage", sessionId, runId, message },
                claudeCtx(runId),
                persistent("recording a Claude message", sessionId)
              )
            )
            if (Result.isSuccess(r)) {
              const res = r.success.events.find((e) => e.type === "ClaudeResult")
              if (res?.type === "ClaudeResult") {
                const { totalCostUsd, runCostUsd, usage, numTurns, durationMs } = res.data
                recordedResult = { kind: "completed", totalCostUsd, runCostUsd, usage, numTurns, durationMs }
              }
            } else {
              // The record is the point: a run we cannot record is stopped, not left running unseen.
              recordFailure = `could not record a Claude message: ${errorText(r.failure)}`
              logger.log("error", recordFailure, { sessionId, runId })
              lr.claude?.kill()
            }
          },
          onPermission: (req) => askApproval(lr, req, timeoutMs, plans),
          onStderr: (line) => logger.log("debug", "claude stderr", { sessionId, runId, line: line.trimEnd() })
        }
      )
      // An interrupt that arrived while the process was being started.
      if (lr.interrupted) stopProcess(lr)
      const end = await lr.claude.done
      const after = await run(commands.load(sessionId))
      const interruptRequested =
        lr.interrupted || (Result.isSuccess(after) && after.success.state?.interruptRequested === true)
      const outcome: RunOutcome = interruptRequested
        ? { kind: "interrupted" }
        : recordFailure
          ? { kind: "failed", error: recordFailure }
          : recordedResult && end.result && !isResultError(end.result) && (end.exitCode === 0 || end.exitCode === null)
            ? recordedResult
            : {
                kind: "failed",
                error: end.result
                  ? resultError(end.result)
                  : (end.error ??
                    `claude exited ${end.signal ? `on signal ${end.signal}` : `with code ${String(end.exitCode)}`} without a result`),
                ...(typeof end.exitCode === "number" ? { exitCode: end.exitCode } : {})
              }
      await finish(sessionId, runId, outcome)
    } catch (e) {
      await finish(sessionId, runId, { kind: "failed", error: `could not run claude: ${errorText(e)}` })
    }
  }

  /** Starts queued runs, oldest first, while slots are free. */
  const pump = () => {
    if (!caughtUp || !accepting) return
    for (const p of followUpStarts.drain(startFollowUp)) {
      settled.add(p)
      void p.finally(() => settled.delete(p))
    }
    const at = now()
    while (busy < Math.max(1, config.maxRunning)) {
      const next = queue.take(at)
      if (!next) break
      busy++
      const p = execute(next.sessionId, next.runId, next.acceptedBy)
        .catch((e: unknown) => logger.log("error", "run crashed", { sessionId: next.sessionId, runId: next.runId, error: errorText(e) }))
        .finally(() => {
          busy--
          settled.delete(p)
          pump()
        })
      settled.add(p)
    }
    // A run accepted elsewhere becomes ours to take later, if it is still waiting then.
    const later = queue.nextReadyAt(at)
    cancelReady?.()
    cancelReady = later === undefined ? undefined : after(later - at, Effect.sync(pump))
  }

  /** Resume after this position: nothing before it belongs to a run still open. */
  const lowWater = (): Position | "start" => {
    let low: Position | "start" = lastSeen
    for (const before of [...[...open.values()].map((r) => r.before), ...controls.holds(), ...followUpStarts.befores()]) {
      if (before === "start") return "start"
      if (low === "start" || comparePositions(before, low) < 0) low = before
    }
    return low
  }

  const saveCheckpoint = () => {
    cancelCheckpoint = undefined
    const at = lowWater()
    if (written !== undefined && (at === written || (at !== "start" && written !== "start" && comparePositions(at, written) === 0))) return
    try {
      checkpoint.write(at)
      written = at
    } catch (e) {
      logger.log("warn", "could not save the supervisor's checkpoint", { error: errorText(e) })
    }
  }

  const react = (e: RecordedEvent) => {
    const sessionId = sessionIdOf(e.stream)
    const decoded = sessionId ? validateEvent(e.type, e.data) : undefined
    if (sessionId && decoded && Result.isSuccess(decoded)) {
      const ev = decoded.success
      switch (ev.type) {
        case "PermissionModeChanged":
        case "ModelChanged":
          controls.react(sessionId, ev, lastSeen)
          break
        case "SessionLaunched":
        case "SessionForked":
        case "ContinueRequested": {
          const acceptedBy = instanceOf(e.metadata)
          open.set(sessionId, { runId: ev.data.runId, before: lastSeen, acceptedBy, startedBy: undefined, started: false })
          const foreign = acceptedBy !== undefined && acceptedBy !== me
          queue.add({ sessionId, runId: ev.data.runId, acceptedBy, readyAt: foreign ? now() + foreignDelay : 0 })
          break
        }
        case "RunStarted": {
          const r = open.get(sessionId)
          if (r && r.runId === ev.data.runId) {
            r.started = true
            r.startedBy = ev.data.supervisorId
          }
          queue.remove(sessionId)
          if (ev.data.supervisorId !== me) secrets.drop(ev.data.runId)
          break
        }
        case "RunCompleted":
        case "RunFailed":
        case "RunInterrupted":
        case "RunAbandoned":
          if (open.get(sessionId)?.runId === ev.data.runId) open.delete(sessionId)
          queue.remove(sessionId)
          secrets.drop(ev.data.runId)
          if (ev.type === "RunCompleted") followUpStarts.completed(sessionId, ev.data.runId, lastSeen)
          break
        case "InterruptRequested": {
          const lr = live.get(sessionId)
          if (lr && lr.runId === ev.data.runId && !lr.interrupted) {
            logger.log("info", "interrupt requested", { sessionId, runId: lr.runId, requestedBy: ev.data.requestedBy })
            stopProcess(lr)
          }
          break
        }
        case "ApprovalDecided":
          release(ev.data)
          break
        case "SessionArchived":
          // A replay of old archives is left to the reconcile at start.
          if (caughtUp)
            workspaces.archived(sessionId).catch((e: unknown) =>
              logger.log("warn", "could not remove an archived session's worktree", { sessionId, error: errorText(e) })
            )
          break
        default:
          break
      }
    }
    lastSeen = e.position
    if (seenWaiters.length > 0) {
      const ready = seenWaiters.filter((w) => comparePositions(w.position, e.position) <= 0)
      seenWaiters = seenWaiters.filter((w) => comparePositions(w.position, e.position) > 0)
      for (const w of ready) w.resolve(true)
    }
    cancelCheckpoint ??= after(checkpointEveryMs, Effect.sync(saveCheckpoint))
    pump()
  }

  /** After the first catch-up: this instance's runs that were in flight when it stopped are gone. */
  const recover = Effect.gen(function* () {
    let abandoned = 0
    for (const [sessionId, r] of [...open]) {
      if (!r.started || (r.startedBy !== undefined && r.startedBy !== me) || live.has(sessionId)) continue
      yield* Effect.promise(() => workspaces.settle(sessionId, r.runId, "abandoned"))
      const a = yield* Effect.result(
        handle(
          { kind: "AbandonRun", sessionId, runId: r.runId, reason: "the service stopped while this run was in flight; its process is gone" },
          supervisorCtx(r.runId),
          persistent("abandoning a run", sessionId)
        )
      )
      if (Result.isSuccess(a)) abandoned++
    }
    const requeued = queue.size
    const reconciled = yield* Effect.promise(() => workspaces.reconcile())
    if (reconciled.removed.length + reconciled.missing.length > 0) logger.log("info", "workspaces reconciled", { ...reconciled })
    caughtUp = true
    pump()
    logger.log("info", "recovery done", { abandoned, requeued })
    return { abandoned, requeued }
  })

  const start = Effect.gen(function* () {
    const killed = pidFiles.killOrphans()
    if (killed.length > 0) logger.log("warn", "ended orphaned claude processes from before a crash", { pids: killed })
    // A checkpoint past the store's head (a store restored from a backup, a torn WAL): the
    // positions after the head will be given to new events, so follow from the start.
    const head = yield* store.headPosition()
    if (lastSeen !== "start" && (head === null || comparePositions(lastSeen, head) > 0)) {
      logger.log("warn", "the supervisor's checkpoint is ahead of the event store; following it from the start", {
        checkpoint: `${lastSeen.commit}`,
        head: head === null ? null : `${head.commit}`
      })
      lastSeen = "start"
    }
    const caughtUpOnce = Deferred.makeUnsafe<void>()
    // After a failure it resubscribes after the last event it handled: nothing missed, nothing twice.
    const follow = Effect.suspend(() =>
      store.subscribeAll({ from: lastSeen, filter: { streamPrefix: [streamPrefix], eventTypes: processManagerEvents } }).pipe(
        Stream.runForEach((e) =>
          Effect.sync(() => {
            if (e._tag === "RecordedEvent") react(e)
            else {
              subscribed = true
              Deferred.doneUnsafe(caughtUpOnce, Effect.void)
            }
          })
        ),
        Effect.andThen(Effect.fail("the subscription ended" as const))
      )
    )
    const following = fork(
      follow.pipe(
        Effect.tapError((e) =>
          Effect.sync(() => logger.log("warn", "the supervisor's subscription to the store failed; resubscribing", { error: errorText(e) }))
        ),
        // Before the first catch-up a failure fails the start (the service does not come up blind).
        Effect.retry({ schedule: backoff(200, 5_000), while: () => subscribed })
      )
    )
    subscription = following
    const ended = Fiber.await(following).pipe(
      Effect.flatMap((exit) =>
        Effect.fail(
          new EventStoreFailure({
            reason: `could not follow the event store: ${exit._tag === "Failure" ? errorText(Cause.squash(exit.cause)) : "it ended"}`
          })
        )
      )
    )
    yield* Effect.raceFirst(Deferred.await(caughtUpOnce), ended)
    return yield* recover
  }).pipe(Effect.mapError((e) => (e._tag === "EventStoreFailure" ? e : new EventStoreFailure({ reason: errorText(e) }))))

  const shutdown = Effect.gen(function* () {
    accepting = false
    cancelReady?.()
    for (const lr of live.values()) {
      logger.log("info", "interrupting a run: the service is stopping", { sessionId: lr.sessionId, runId: lr.runId })
      yield* Effect.result(handle({ kind: "RequestInterrupt", sessionId: lr.sessionId, requestedBy: "agentlog shutdown" }, supervisorCtx(lr.runId)))
      stopProcess(lr)
    }
    yield* Effect.promise(() => Promise.allSettled([...settled]))
    if (subscription) yield* Fiber.interrupt(subscription)
    controls.stop()
    cancelCheckpoint?.()
    saveCheckpoint()
    for (const w of seenWaiters) w.resolve(false)
    seenWaiters = []
  })

  const seen = (position: Position, timeoutMs: number): Effect.Effect<boolean> =>
    Effect.callback<boolean>((resume) => {
      if (lastSeen !== "start" && comparePositions(position, lastSeen) <= 0) return resume(Effect.succeed(true))
      const waiter = { position, resolve: (ok: boolean) => resume(Effect.succeed(ok)) }
      seenWaiters.push(waiter)
      // Timed out (or the caller gave up): the waiter goes.
      return Effect.sync(() => {
        seenWaiters = seenWaiters.filter((w) => w !== waiter)
      })
    }).pipe(Effect.timeoutOrElse({ duration: Math.max(0, timeoutMs), orElse: () => Effect.succeed(false) }))

  return {
    start,
    shutdown,
    queuePosition: (sessionId) => queue.position(sessionId),
    runningCount: () => live.size,
    queueFull: () => queue.waiting >= (config.maxQueued ?? Number.POSITIVE_INFINITY),
    seen
  }
}
