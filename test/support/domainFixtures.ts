// Helpers for the domain's unit tests: fresh ids, Claude messages as Claude emits them,
// and a way to drive the decider through a sequence of commands, folding what it accepts.
import { randomUUID } from "node:crypto"
import { Result } from "effect"
import type { ClaudeMessage } from "../../src/domain/claudeMessages.ts"
import { decide, type SessionCommand } from "../../src/domain/sessionDecider.ts"
import type { DomainError } from "../../src/domain/sessionErrors.ts"
import type { SessionEvent } from "../../src/domain/sessionEvents.ts"
import type { SessionOptions } from "../../src/domain/sessionOptions.ts"
import { evolve, fold, type Session, type SessionState } from "../../src/domain/sessionState.ts"

export const newId = (): string => randomUUID()

/** A command without its sessionId, for a session the helper already knows. */
export type Cmd = SessionCommand extends infer C ? (C extends SessionCommand ? Omit<C, "sessionId"> : never) : never

/** The events a decision accepted; fails the test (with the refusal) otherwise. */
export const accepted = (r: Result.Result<ReadonlyArray<SessionEvent>, DomainError>): ReadonlyArray<SessionEvent> => {
  if (Result.isFailure(r)) throw new Error(`expected the command to be accepted, got ${r.failure._tag}: ${r.failure.message}`)
  return r.success
}

/** The refusal of a decision; fails the test (with the events) when it was accepted. */
export const refused = (r: Result.Result<ReadonlyArray<SessionEvent>, DomainError>): DomainError => {
  if (Result.isSuccess(r)) throw new Error(`expected a refusal, got events ${r.success.map((e) => e.type).join(", ")}`)
  return r.failure
}

export const types = (events: ReadonlyArray<SessionEvent>): Array<string> => events.map((e) => e.type)

/**
 * A session under test: its id, every event appended so far and the state folded from them.
 * `run` decides a command against the current state and, when accepted, appends and folds.
 */
export class Harness {
  readonly events: Array<SessionEvent> = []
  state: SessionState = null
  readonly sessionId: string
  constructor(sessionId: string = newId()) {
    this.sessionId = sessionId
  }

  decide(command: Cmd): Result.Result<ReadonlyArray<SessionEvent>, DomainError> {
    return decide({ ...command, sessionId: this.sessionId } as SessionCommand, this.state)
  }

  /** Decides and applies; throws when refused. Returns the events the command appended. */
  run(command: Cmd): ReadonlyArray<SessionEvent> {
    const events = accepted(this.decide(command))
    for (const e of events) this.state = evolve(this.state, e)
    this.events.push(...events)
    return events
  }

  /** Decides, expecting a refusal; the state and the stream must stay as they were. */
  refuse(command: Cmd): DomainError {
    const before = this.state
    const count = this.events.length
    const error = refused(this.decide(command))
    if (this.state !== before || this.events.length !== count) throw new Error("a refusal changed the session")
    return error
  }

  get session(): Session {
    if (this.state === null) throw new Error("the session does not exist")
    return this.state
  }

  get runId(): string {
    return this.session.runId
  }

  /** The state folded from scratch, to check that incremental evolve and fold agree. */
  refold(): SessionState {
    return fold(this.events)
  }

  // Steps that bring a session into a status.

  launch(options: SessionOptions = {}, query = "hello"): ReadonlyArray<SessionEvent> {
    return this.run({ kind: "LaunchSession", runId: newId(), query, options })
  }

  start(): ReadonlyArray<SessionEvent> {
    return this.run({ kind: "StartRun", runId: this.runId })
  }

  claude(message: ClaudeMessage): ReadonlyArray<SessionEvent> {
    return this.run({ kind: "RecordClaudeMessage", runId: this.runId, message })
  }

  /** Requests an approval for the current run; returns its id. */
  ask(toolName = "Bash", input: ClaudeMessage = { command: "ls" }): string {
    const approvalId = newId()
    this.run({
      kind: "RequestApproval",
      runId: this.runId,
      approvalId,
      toolUseId: `toolu_${approvalId.slice(0, 8)}`,
      toolName,
      input,
      suggestions: []
    })
    return approvalId
  }

  answer(approvalId: string, decision: "allow" | "deny" = "allow"): ReadonlyArray<SessionEvent> {
    return this.run({ kind: "DecideApproval", approvalId, decision, decidedBy: "user:test" })
  }

  complete(totalCostUsd = 0.01): ReadonlyArray<SessionEvent> {
    return this.run({
      kind: "FinishRun",
      runId: this.runId,
      outcome: { kind: "completed", totalCostUsd, runCostUsd: totalCostUsd, usage: {}, numTurns: 1, durationMs: 10 }
    })
  }

  fail(error = "boom"): ReadonlyArray<SessionEvent> {
    return this.run({ kind: "FinishRun", runId: this.runId, outcome: { kind: "failed", error, exitCode: 1 } })
  }

  interrupted(): ReadonlyArray<SessionEvent> {
    return this.run({ kind: "FinishRun", runId: this.runId, outcome: { kind: "interrupted" } })
  }

  abandon(reason = "service restarted"): ReadonlyArray<SessionEvent> {
    return this.run({ kind: "AbandonRun", runId: this.runId, reason })
  }

  continue(query = "and then?", overrides: SessionOptions = {}): ReadonlyArray<SessionEvent> {
    return this.run({ kind: "ContinueSession", runId: newId(), query, overrides })
  }
}

/** A launched session whose run has started. */
export const runningSession = (options: SessionOptions = {}): Harness => {
  const h = new Harness()
  h.launch(options)
  h.start()
  return h
}

export type EndedStatus = "completed" | "failed" | "interrupted" | "abandoned"
export const endedKinds: ReadonlyArray<EndedStatus> = ["completed", "failed", "interrupted", "abandoned"]

/** A session whose first run ended in the given status. */
export const endedSession = (status: EndedStatus): Harness => {
  const h = runningSession()
  if (status === "completed") h.complete()
  else if (status === "failed") h.fail()
  else if (status === "interrupted") {
    h.run({ kind: "RequestInterrupt", requestedBy: "user:test" })
    h.interrupted()
  } else h.abandon()
  return h
}

// Claude stream messages, shaped like the Agent SDK's.

export const systemInit = (claudeSessionId: string): ClaudeMessage => ({
  type: "system",
  subtype: "init",
  session_id: claudeSessionId,
  uuid: newId(),
  model: "claude-sonnet-4-5",
  tools: ["Bash", "Read"],
  cwd: "/tmp"
})

export const assistantText = (claudeSessionId: string, text = "hi"): ClaudeMessage => ({
  type: "assistant",
  session_id: claudeSessionId,
  uuid: newId(),
  parent_tool_use_id: null,
  message: { id: "msg_1", role: "assistant", content: [{ type: "text", text }] }
})

export const userToolResult = (claudeSessionId: string, toolUseId = "toolu_1"): ClaudeMessage => ({
  type: "user",
  session_id: claudeSessionId,
  uuid: newId(),
  parent_tool_use_id: null,
  message: { role: "user", content: [{ type: "tool_result", tool_use_id: toolUseId, content: "ok" }] }
})

export const resultMessage = (claudeSessionId: string, totalCostUsd: number, over: ClaudeMessage = {}): ClaudeMessage => ({
  type: "result",
  subtype: "success",
  is_error: false,
  session_id: claudeSessionId,
  uuid: newId(),
  total_cost_usd: totalCostUsd,
  usage: { input_tokens: 10, output_tokens: 5 },
  num_turns: 2,
  duration_ms: 1234,
  duration_api_ms: 1000,
  result: "done",
  permission_denials: [],
  ...over
})

export const streamEvent = (claudeSessionId: string): ClaudeMessage => ({
  type: "stream_event",
  session_id: claudeSessionId,
  uuid: newId(),
  parent_tool_use_id: null,
  event: { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "h" } }
})

/** A small deterministic PRNG (mulberry32), so property runs are reproducible from their seed. */
export const prng = (seed: number) => {
  let a = seed >>> 0
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n: number): number => Math.floor(next() * n)
  const pick = <A>(xs: ReadonlyArray<A>): A => xs[int(xs.length)]!
  const uuid = (): string => {
    const hex = (n: number) => Array.from({ length: n }, () => int(16).toString(16)).join("")
    return `${hex(8)}-${hex(4)}-4${hex(3)}-${pick(["8", "9", "a", "b"])}${hex(3)}-${hex(12)}`
  }
  return { next, int, pick, uuid, chance: (p: number) => next() < p }
}
