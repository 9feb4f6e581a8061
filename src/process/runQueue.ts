// The runs waiting for a slot, oldest first. The process manager adds a run when it sees
// the event that queued it (so the order is the store's order, across restarts too) and
// takes the oldest one that is ready whenever a slot is free. A run accepted by another
// instance is ready only later (`readyAt`): that instance gets the first chance to take it.
export interface QueuedRun {
  readonly sessionId: string
  readonly runId: string
  /** Epoch ms from which this instance may take it. */
  readonly readyAt: number
  /** The instance that accepted the request (and holds its MCP secrets); undefined: unknown. */
  readonly acceptedBy: string | undefined
}

export class RunQueue {
  readonly #waiting: Array<QueuedRun> = []

  get size(): number {
    return this.#waiting.length
  }

  /** Queues a session's run behind the others; a session has at most one queued run. */
  add(run: QueuedRun): void {
    this.remove(run.sessionId)
    this.#waiting.push(run)
  }

  /** Drops the session's queued run (started elsewhere, interrupted); false when none. */
  remove(sessionId: string): boolean {
    const i = this.#waiting.findIndex((w) => w.sessionId === sessionId)
    if (i < 0) return false
    this.#waiting.splice(i, 1)
    return true
  }

  /** How many runs wait for a slot. */
  get waiting(): number {
    return this.#waiting.length
  }

  /** 1-based place in the queue, or undefined when not waiting. */
  position(sessionId: string): number | undefined {
    const i = this.#waiting.findIndex((w) => w.sessionId === sessionId)
    return i < 0 ? undefined : i + 1
  }

  /** Removes and returns the oldest run ready at `now`. */
  take(now: number): QueuedRun | undefined {
    const i = this.#waiting.findIndex((w) => w.readyAt <= now)
    return i < 0 ? undefined : this.#waiting.splice(i, 1)[0]
  }

  /** When the earliest run that is not ready yet becomes ready. */
  nextReadyAt(now: number): number | undefined {
    let next: number | undefined
    for (const w of this.#waiting) if (w.readyAt > now && (next === undefined || w.readyAt < next)) next = w.readyAt
    return next
  }
}
