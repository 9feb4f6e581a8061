// Supervises Claude Code runs: starts queued runs when a slot is free, turns every Claude
// message and every lifecycle change into a command on the session decider, answers
// Claude's permission questions from approval decisions, and accounts for every run that
// ends, fails, is interrupted or is found orphaned at start-up.
import { randomUUID } from "node:crypto"
import type { PermissionResult } from "@anthropic-ai/claude-agent-sdk"
import { Context, Effect, Result } from "effect"
import type {
  CommandContext,
  CommandError,
  CommandOptions,
  CommandOutcome,
  SessionCommandsShape
} from "../commands/sessionCommands.ts"
import { isResultError, type ClaudeMessage } from "../domain/claudeMessages.ts"
import type { RunOutcome, SessionCommand } from "../domain/sessionDecider.ts"
import type { SessionOptions } from "../domain/sessionOptions.ts"
import type { Session } from "../domain/sessionState.ts"
import { sessionIdOf } from "../domain/streamName.ts"
import type { EventStoreShape, RecordedEvent } from "../eventstore/eventStore.ts"
import { errorText, type Logger } from "../log.ts"
import { startClaude, type PermissionRequest, type RunningClaude } from "./claudeRunner.ts"
import { inFlightSessions } from "./inFlightSessions.ts"
import { RunQueue } from "./runQueue.ts"
import { followStore, type StoreFollower } from "./storeFollower.ts"
import { noPidFiles, type RunPidFiles } from "./runPidFiles.ts"
import type { RunPolicy } from "./sandbox.ts"

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
  /**
   * The sessions whose run is queued or in flight, when a read model that has caught up with
   * the store can say so cheaply; null when it cannot (then recovery scans the store).
   */
  readonly activeSessions?: () => Promise<ReadonlyArray<string> | null>
}

export interface ApprovalAnswer {
  readonly decision: "allow" | "deny"
  readonly message?: string
  readonly updatedInput?: { readonly [k: string]: import("effect").Schema.Json }
  readonly decidedBy: string
}

export interface SupervisorShape {
  /** Starts (or queues) the session's current run; `secrets` are the unredacted options. */
  readonly submit: (sessionId: string, runId: string, options?: SessionOptions) => void
  readonly interrupt: (
    sessionId: string,
    requestedBy: string,
    ctx: CommandContext,
    expectedRevision?: bigint
  ) => Effect.Effect<CommandOutcome, CommandError>
  readonly decideApproval: (
    sessionId: string,
    approvalId: string,
    answer: ApprovalAnswer,
    ctx: CommandContext
  ) => Effect.Effect<CommandOutcome, CommandError>
  /** Abandons this instance's orphaned runs and requeues runs that never started. */
  readonly recover: () => Promise<{ abandoned: number; requeued: number }>
  /** Stops taking work; interrupts running runs; abandons what does not stop in time. */
  readonly shutdown: () => Promise<void>
  readonly queuePosition: (sessionId: string) => number | undefined
  readonly runningCount: () => number
  /** True when maxQueued runs already wait: a new run would be refused. */
  readonly queueFull: () => boolean
}

export class Supervisor extends Context.Service<Supervisor, SupervisorShape>()("agentlog/Supervisor") {}

interface LiveRun {
  readonly sessionId: string
  readonly runId: string
  claude: RunningClaude | undefined
  interrupted: boolean
}

interface Waiter {
  readonly sessionId: string
  readonly resolve: (r: PermissionResult) => void
  readonly timer: NodeJS.Timeout
}

const supervisorCtx = (runId: string): CommandContext => ({ correlationId: runId, source: "supervisor" })
const claudeCtx = (runId: string): CommandContext => ({ correlationId: runId, source: "claude" })

const defaultStoreRetryMs = 15_000

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))


/** What went wrong, in words, from a failed result message. */
const resultError = (r: ClaudeMessage): string => {
  const errors = Array.isArray(r.errors) ? r.errors.filter((x) => typeof x === "string") : []
  const text = typeof r.result === "string" && r.result.length > 0 ? r.result : errors.join("; ")
  const how = r.subtype === "success" || typeof r.subtype !== "string" ? "an error" : r.subtype
  return `Claude ended with ${how}${text ? `: ${text}` : ""}`
}

export const makeSupervisor = (
  commands: SessionCommandsShape,
  store: EventStoreShape,
  config: SupervisorConfig,
  logger: Logger
): SupervisorShape => {
  const queue = new RunQueue(config.maxRunning)
  const live = new Map<string, LiveRun>()
  const waiters = new Map<string, Waiter>()
  const secrets = new Map<string, SessionOptions>()
  const settled = new Set<Promise<unknown>>()
  let accepting = true
  const pidFiles = config.pidFiles ?? noPidFiles
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

  const run = <A>(e: Effect.Effect<A, CommandError>) => Effect.runPromise(Effect.result(e))

  /** A decided approval releases the Claude process waiting on it, if it is one of ours. */
  const release = (d: { readonly approvalId: string; readonly decision: string; readonly message?: string | undefined; readonly updatedInput?: unknown }) => {
    const w = waiters.get(d.approvalId)
    if (!w) return
    waiters.delete(d.approvalId)
    clearTimeout(w.timer)
    w.resolve(
      d.decision === "allow"
        ? { behavior: "allow", ...(d.updatedInput ? { updatedInput: d.updatedInput as Record<string, unknown> } : {}) }
        : { behavior: "deny", message: d.message ?? "denied" }
    )
  }

  /** Every decided approval, whoever decided it, releases the Claude process waiting on it. */
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
  const whileUnavailable = async <A, E extends { readonly _tag: string }>(
    what: string,
    sessionId: string,
    attempt: () => Promise<Result.Result<A, E>>
  ): Promise<Result.Result<A, E>> => {
    let delay = 500
    for (;;) {
      const r = await attempt()
      if (Result.isSuccess(r) || r.failure._tag !== "EventStoreUnavailable" || !accepting) return r
      logger.log("warn", `${what}: the event store is unavailable; trying again`, {
        sessionId,
        inMs: delay,
        error: errorText(r.failure)
      })
      await sleep(delay)
      delay = Math.min(delay * 2, 10_000)
    }
  }

  const finish = async (sessionId: string, runId: string, outcome: RunOutcome) => {
    const r = await whileUnavailable("recording the end of a run", sessionId, () =>
      run(
        handle(
          { kind: "FinishRun", sessionId, runId, outcome },
          supervisorCtx(runId),
          persistent("recording the end of a run", sessionId)
        )
      )
    )
    // InvalidTransition: already ended (an abandon, or an earlier attempt whose answer was lost).
    if (Result.isFailure(r) && r.failure._tag !== "InvalidTransition")
      logger.log("error", "could not record the end of a run; recovery at the next start abandons it", {
        sessionId,
        runId,
        error: errorText(r.failure)
      })
  }

  const askApproval = async (lr: LiveRun, req: PermissionRequest, timeoutMs: number): Promise<PermissionResult> => {
    const approvalId = randomUUID()
    const expiresAt = new Date(Date.now() + timeoutMs).toISOString()
    const answer = new Promise<PermissionResult>((resolve) => {
      const timer = setTimeout(() => {
        void run(
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
          )
        )
      }, timeoutMs)
      waiters.set(approvalId, { sessionId: lr.sessionId, resolve, timer })
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
          expiresAt
        },
        claudeCtx(lr.runId),
        persistent("recording an approval request", lr.sessionId)
      )
    )
    if (Result.isFailure(requested)) {
      const w = waiters.get(approvalId)
      if (w) clearTimeout(w.timer)
      waiters.delete(approvalId)
      return { behavior: "deny", message: `agentlog could not record the request: ${errorText(requested.failure)}` }
    }
    req.signal.addEventListener("abort", () => {
      const w = waiters.get(approvalId)
      if (w) w.resolve({ behavior: "deny", message: "aborted" })
    })
    return answer
  }

  /** Records that this instance starts the run; false when it is not (or no longer) this instance's to run. */
  const startRun = async (sessionId: string, runId: string, resume: string | undefined): Promise<boolean> => {
    let outage = false
    const started = await whileUnavailable("starting a run", sessionId, async () => {
      const r = await run(
        handle(
          {
            kind: "StartRun",
            sessionId,
            runId,
            supervisorId: config.supervisorId,
            ...(resume ? { resume } : {}),
            ...(config.policy ? { sandbox: config.policy.protection } : {})
          },
          supervisorCtx(runId),
          persistent("starting a run", sessionId)
        )
      )
      if (Result.isFailure(r) && r.failure._tag === "EventStoreUnavailable") outage = true
      return r
    })
    if (Result.isSuccess(started)) return true
    if (!outage || started.failure._tag !== "InvalidTransition") return false
    // Refused after an outage: an earlier attempt may have been written with its answer lost.
    const now = await run(commands.load(sessionId))
    const s = Result.isSuccess(now) ? now.success.state : null
    return s !== null && s.runId === runId && s.status === "running" && s.runSupervisorId === config.supervisorId
  }

  const execute = async (sessionId: string, runId: string): Promise<void> => {
    const loaded = await whileUnavailable("loading a session to start its run", sessionId, () => run(commands.load(sessionId)))
    if (Result.isFailure(loaded) || loaded.success.state === null) return
    const s: Session = loaded.success.state
    // Not started while shutting down: it stays queued in the store and is requeued at start-up.
    if (s.runId !== runId || s.status !== "queued" || !accepting) return
    const options: SessionOptions = { ...s.runOptions, ...secrets.get(runId) }
    secrets.delete(runId)
    const resume = s.claudeSessionId
    // Another instance started it, or it was interrupted while queued: not ours to run.
    if (!(await startRun(sessionId, runId, resume))) return
    const lr: LiveRun = { sessionId, runId, claude: undefined, interrupted: false }
    live.set(sessionId, lr)
    const timeoutMs = options.approvalTimeoutMs ?? config.approvalTimeoutMs
    let recordFailure: string | undefined
    let recordedResult: RunOutcome | undefined
    try {
      lr.claude = startClaude(
        {
          query: s.runQuery,
          options,
          resume,
          forkSession: s.parentSessionId !== undefined && !s.claudeSessionBound,
          claudePath: config.claudePath,
          env: config.env,
          ...(config.policy ? { policy: config.policy } : {})
        },
        {
          onSpawn: (pid) => {
            if (pid !== undefined) pidFiles.record(runId, pid)
            logger.log("info", "claude started", { sessionId, runId, pid })
          },
          onMessage: async (message) => {
            if (recordFailure) return
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
          onPermission: (req) => askApproval(lr, req, timeoutMs),
          onStderr: (line) => logger.log("debug", "claude stderr", { sessionId, runId, line: line.trimEnd() })
        }
      )
      // An interrupt that arrived while the process was being started.
      if (lr.interrupted) void stopProcess(lr)
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
    } finally {
      pidFiles.forget(runId)
      live.delete(sessionId)
      for (const [id, w] of waiters) {
        if (w.sessionId !== sessionId) continue
        clearTimeout(w.timer)
        waiters.delete(id)
      }
    }
  }

  const stopProcess = async (lr: LiveRun) => {
    lr.interrupted = true
    const c = lr.claude
    if (!c) return
    // The deadline starts now: a claude that never answers the interrupt is killed all the same.
    const timer = setTimeout(() => c.kill(), config.interruptGraceMs)
    await c.interrupt()
    await c.done
    clearTimeout(timer)
  }

  const submit = (sessionId: string, runId: string, options?: SessionOptions) => {
    if (!accepting) return
    if (options) secrets.set(runId, options)
    const p = queue.enqueue(sessionId, () => execute(sessionId, runId)).catch((e) => {
      logger.log("error", "run crashed", { sessionId, runId, error: errorText(e) })
    })
    settled.add(p)
    void p.finally(() => settled.delete(p))
  }

  const interrupt = (sessionId: string, requestedBy: string, ctx: CommandContext, expectedRevision?: bigint) =>
    handle({ kind: "RequestInterrupt", sessionId, requestedBy }, ctx, expectedRevision !== undefined ? { expectedRevision } : undefined).pipe(
      Effect.tap((outcome) =>
        Effect.sync(() => {
          queue.cancel(sessionId)
          const lr = live.get(sessionId)
          if (lr && lr.runId === outcome.state.runId) void stopProcess(lr)
        })
      )
    )

  const decideApproval = (sessionId: string, approvalId: string, answer: ApprovalAnswer, ctx: CommandContext) =>
    handle({ kind: "DecideApproval", sessionId, approvalId, ...answer }, ctx)

  /**
   * Approvals decided and interrupts requested through another agentlog instance on the same
   * store reach this instance's runs through the store (its own commands acted on them already).
   */
  let follower: StoreFollower | undefined
  const onRecorded = (e: RecordedEvent) => {
    const sessionId = sessionIdOf(e.stream)
    const d = e.data as { approvalId?: unknown; decision?: unknown; message?: unknown; updatedInput?: unknown; runId?: unknown }
    if (!sessionId || typeof d !== "object" || d === null) return
    if (e.type === "ApprovalDecided" && typeof d.approvalId === "string" && typeof d.decision === "string") {
      release({
        approvalId: d.approvalId,
        decision: d.decision,
        ...(typeof d.message === "string" ? { message: d.message } : {}),
        updatedInput: d.updatedInput
      })
    } else if (e.type === "InterruptRequested") {
      queue.cancel(sessionId)
      const lr = live.get(sessionId)
      if (lr && lr.runId === d.runId && !lr.interrupted) {
        logger.log("info", "interrupt requested through another instance", { sessionId, runId: lr.runId })
        void stopProcess(lr)
      }
    }
  }

  const recover = async () => {
    follower ??= await followStore(store, ["ApprovalDecided", "InterruptRequested"], onRecorded, logger)
    const killed = pidFiles.killOrphans()
    if (killed.length > 0) logger.log("warn", "ended orphaned claude processes from before a crash", { pids: killed })
    let abandoned = 0
    let requeued = 0
    const candidates = (await config.activeSessions?.()) ?? (await Effect.runPromise(inFlightSessions(store)))
    for (const sessionId of candidates) {
      const loaded = await run(commands.load(sessionId))
      if (Result.isFailure(loaded) || !loaded.success.state) continue
      const s = loaded.success.state
      if (s.status === "queued") {
        submit(sessionId, s.runId)
        requeued++
      } else if (s.runSupervisorId === undefined || s.runSupervisorId === config.supervisorId) {
        const r = await run(
          handle(
            {
              kind: "AbandonRun",
              sessionId,
              runId: s.runId,
              reason: "the service stopped while this run was in flight; its process is gone"
            },
            supervisorCtx(s.runId),
            persistent("abandoning a run", sessionId)
          )
        )
        if (Result.isSuccess(r)) abandoned++
      }
    }
    logger.log("info", "recovery done", { abandoned, requeued })
    return { abandoned, requeued }
  }

  const shutdown = async () => {
    accepting = false
    for (const lr of live.values()) {
      await run(
        handle({ kind: "RequestInterrupt", sessionId: lr.sessionId, requestedBy: "agentlog shutdown" }, supervisorCtx(lr.runId))
      )
      void stopProcess(lr)
    }
    await Promise.allSettled([...settled])
    await follower?.stop()
  }

  return {
    submit,
    interrupt,
    decideApproval,
    recover,
    shutdown,
    queuePosition: (sessionId) => queue.position(sessionId),
    runningCount: () => live.size,
    queueFull: () => queue.waiting >= (config.maxQueued ?? Number.POSITIVE_INFINITY)
  }
}
