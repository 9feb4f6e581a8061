// An interrupt racing the end of a run, tried at every point of generated runs: once
// Claude's result is recorded, an interrupt is refused ("the run already finished"), and a
// run whose successful result is recorded ends RunCompleted whatever the supervisor
// thought it was stopping; a finished run is never relabelled as interrupted.
import { Result } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { ClaudeMessage } from "../../src/domain/claudeMessages.ts"
import type { RunOutcome } from "../../src/domain/sessionDecider.ts"
import type { SessionEvent } from "../../src/domain/sessionEvents.ts"
import {
  assistantText,
  type Cmd,
  Harness,
  newId,
  resultMessage,
  runningSession,
  streamEvent,
  systemInit,
  types
} from "../support/domainFixtures.ts"

const claudeId = "claude-race"

type Step =
  | { readonly kind: "say" }
  | { readonly kind: "stream" }
  | { readonly kind: "ask" }
  | { readonly kind: "answer"; readonly decision: "allow" | "deny" }

/** A run as Claude plays it: some steps, then a result (or none: the process died first). */
interface Script {
  readonly steps: ReadonlyArray<Step>
  readonly result: "success" | "error" | "none"
  readonly cost: number
  /** The supervisor ends the run as interrupted even without an accepted interrupt (its shutdown path). */
  readonly supervisorStopsAnyway: boolean
}

const script: fc.Arbitrary<Script> = fc.record({
  steps: fc.array(
    fc.oneof(
      fc.constant<Step>({ kind: "say" }),
      fc.constant<Step>({ kind: "stream" }),
      fc.constant<Step>({ kind: "ask" }),
      fc.constantFrom<Step>({ kind: "answer", decision: "allow" }, { kind: "answer", decision: "deny" })
    ),
    { maxLength: 8 }
  ),
  result: fc.constantFrom("success", "error", "none"),
  cost: fc.double({ min: 0, max: 5, noNaN: true }),
  supervisorStopsAnyway: fc.boolean()
})

const interrupt: Cmd = { kind: "RequestInterrupt", requestedBy: "user:race" }

/** Applies a command when the decider accepts it (a racing caller may be refused). */
const attempt = (h: Harness, c: Cmd): boolean => {
  if (Result.isFailure(h.decide(c))) return false
  h.run(c)
  return true
}

/**
 * Plays the script with one interrupt before the point `at` (0: while queued, 1: right
 * after the start, …, past the result: after Claude finished), then ends the run as the
 * supervisor does. Returns the harness and whether the interrupt was accepted.
 */
const play = (s: Script, at: number) => {
  const h = new Harness()
  h.launch()
  const points: Array<() => void> = [
    () => h.start(),
    () => h.claude(systemInit(claudeId)),
    ...s.steps.map((step) => () => {
      const pending = [...h.session.pending.keys()]
      if (step.kind === "say") h.claude(assistantText(claudeId))
      else if (step.kind === "stream") h.claude(streamEvent(claudeId))
      else if (step.kind === "ask")
        attempt(h, { kind: "RequestApproval", runId: h.runId, approvalId: newId(), toolUseId: "toolu_r", toolName: "Bash", input: {}, suggestions: [] })
      else if (pending.length > 0) attempt(h, { kind: "DecideApproval", approvalId: pending[0]!, decision: step.decision, decidedBy: "user:race" })
    }),
    ...(s.result === "none"
      ? []
      : [
          () =>
            h.claude(
              resultMessage(claudeId, s.cost, s.result === "error" ? { subtype: "error_during_execution", is_error: true } : {})
            )
        ])
  ]
  let accepted: boolean | undefined
  let refusal: unknown
  const tryInterrupt = () => {
    const before = h.events.length
    const d = h.decide(interrupt)
    if (Result.isSuccess(d)) {
      h.run(interrupt)
      accepted = true
    } else {
      accepted = false
      refusal = d.failure
      expect(h.events.length).toBe(before)
    }
  }
  points.forEach((step, i) => {
    if (i === at) tryInterrupt()
    if (h.session.status === "interrupted") return // stopped while queued: nothing more runs
    step()
  })
  if (at >= points.length) tryInterrupt()
  if (h.session.status !== "interrupted") {
    // What the supervisor reports when the process is gone (see execute in supervisor.ts).
    const last = h.session.runResult
    const outcome: RunOutcome =
      accepted || s.supervisorStopsAnyway
        ? { kind: "interrupted" }
        : last && !last.isError
          ? { kind: "completed", ...last }
          : { kind: "failed", error: "claude exited with code 1 without a result", exitCode: 1 }
    h.run({ kind: "FinishRun", runId: h.runId, outcome })
  }
  return { h, accepted: accepted === true, refusal, points: points.length }
}

const resultIndex = (events: ReadonlyArray<SessionEvent>) => events.findIndex((e) => e.type === "ClaudeResult")

describe("property: an interrupt at every point of a run", () => {
  it("is refused once the result is recorded, and a run with a successful result always ends RunCompleted", () => {
    fc.assert(
      fc.property(script, (s) => {
        const points = 2 + s.steps.length + (s.result === "none" ? 0 : 1)
        for (let at = 0; at <= points; at++) {
          const { h, accepted, refusal } = play(s, at)
          const events = h.events
          const res = resultIndex(events)
          const resultRecordedBeforeInterrupt = s.result !== "none" && at >= points
          // Refused exactly when Claude's result was already in.
          expect(accepted).toBe(!resultRecordedBeforeInterrupt)
          if (!accepted) expect(refusal).toMatchObject({ _tag: "InvalidTransition", reason: "the run already finished" })
          // Never an interrupt request after the result.
          const requested = events.findIndex((e) => e.type === "InterruptRequested")
          if (res >= 0 && requested >= 0) expect(requested).toBeLessThan(res)
          const end = events[events.length - 1]!
          const successful = res >= 0 && events[res]!.type === "ClaudeResult" && !(events[res] as Extract<SessionEvent, { type: "ClaudeResult" }>).data.isError
          if (successful) {
            expect(end.type).toBe("RunCompleted")
            const r = (events[res] as Extract<SessionEvent, { type: "ClaudeResult" }>).data
            expect(end.data).toEqual({ runId: h.runId, totalCostUsd: r.totalCostUsd, runCostUsd: r.runCostUsd, usage: r.usage, numTurns: r.numTurns, durationMs: r.durationMs })
          } else if (accepted || s.supervisorStopsAnyway) expect(end.type).toBe("RunInterrupted")
          else expect(end.type).toBe("RunFailed")
          expect(h.session.pending.size).toBe(0)
          expect(h.refold()).toEqual(h.state)
        }
      }),
      { numRuns: 150, seed: 167 }
    )
  })
})

describe("an interrupt racing completion", () => {
  it("after a successful result: refused with 'the run already finished'; the run ends RunCompleted", () => {
    const h = runningSession()
    h.claude(resultMessage(claudeId, 0.25))
    expect(h.refuse(interrupt)).toMatchObject({ _tag: "InvalidTransition", command: "RequestInterrupt", reason: "the run already finished" })
    expect(types(h.complete(0.25))).toEqual(["RunCompleted"])
  })

  it("accepted just before the result, Claude finished all the same: the supervisor's 'interrupted' is recorded as RunCompleted", () => {
    const h = runningSession()
    h.run(interrupt)
    const message: ClaudeMessage = resultMessage(claudeId, 0.4)
    h.claude(message)
    expect(h.interrupted()).toEqual([
      { type: "RunCompleted", data: { runId: h.runId, totalCostUsd: 0.4, runCostUsd: 0.4, usage: { input_tokens: 10, output_tokens: 5 }, numTurns: 2, durationMs: 1234 } }
    ])
    expect(h.session.status).toBe("completed")
  })

  it("an error result (what an interrupted Claude reports) still ends RunInterrupted", () => {
    const h = runningSession()
    h.run(interrupt)
    h.claude(resultMessage(claudeId, 0.1, { subtype: "error_during_execution", is_error: true }))
    expect(types(h.interrupted())).toEqual(["RunInterrupted"])
  })

  it("the next run can be interrupted again: the result belongs to the run that recorded it", () => {
    const h = runningSession()
    h.claude(resultMessage(claudeId, 0.1))
    h.complete(0.1)
    h.continue()
    h.start()
    expect(types(h.run(interrupt))).toEqual(["InterruptRequested"])
  })
})
