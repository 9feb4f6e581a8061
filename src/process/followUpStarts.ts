// The process manager's part in follow-ups (issue 12, item 6): when a run completes, the
// session's oldest queued follow-up becomes its next run (StartNextFollowUp, decided and
// appended at the stream's expected revision, so of two instances, or a replay after a
// crash, only one start is ever written). Until that attempt has finished, the supervisor's
// checkpoint stays before the RunCompleted it reacts to: a crash in between replays it,
// and the decider answers "nothing to do" once the session has moved on.
import type { Position } from "../eventstore/eventStore.ts"

interface PendingStart {
  readonly runId: string
  /** The last position handled before that RunCompleted: a replay from here sees it again. */
  readonly before: Position | "start"
  inFlight: boolean
}

export class FollowUpStarts {
  readonly #pending = new Map<string, PendingStart>()

  /** A run completed: its session may have a follow-up to start (the decider knows). */
  completed(sessionId: string, runId: string, before: Position | "start"): void {
    this.#pending.set(sessionId, { runId, before, inFlight: false })
  }

  /** Where a replay must start from for the attempts not yet finished. */
  befores(): ReadonlyArray<Position | "start"> {
    return [...this.#pending.values()].map((p) => p.before)
  }

  /** Tries each pending start once at a time; a finished attempt (started, nothing to do, or refused) is forgotten. */
  drain(start: (sessionId: string, afterRunId: string) => Promise<boolean>): ReadonlyArray<Promise<unknown>> {
    const started: Array<Promise<unknown>> = []
    for (const [sessionId, p] of this.#pending) {
      if (p.inFlight) continue
      p.inFlight = true
      started.push(
        start(sessionId, p.runId).then((done) => {
          p.inFlight = false
          // A newer completion of the same session replaced this entry meanwhile: keep that one.
          if (done && this.#pending.get(sessionId) === p) this.#pending.delete(sessionId)
        })
      )
    }
    return started
  }
}
