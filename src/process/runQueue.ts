// At most `limit` Claude processes at once; further runs wait their turn in order.
export class RunQueue {
  readonly #limit: number
  #running = 0
  readonly #waiting: Array<{ readonly key: string; readonly start: () => void; readonly skip: () => void }> = []

  constructor(limit: number) {
    this.#limit = Math.max(1, limit)
  }

  get running(): number {
    return this.#running
  }

  /** How many runs wait for a slot. */
  get waiting(): number {
    return this.#waiting.length
  }

  /** 1-based place in the queue, or undefined when not waiting. */
  position(key: string): number | undefined {
    const i = this.#waiting.findIndex((w) => w.key === key)
    return i < 0 ? undefined : i + 1
  }

  /** Runs `task` when a slot is free (the slot is released when it settles), or "cancelled". */
  enqueue<A>(key: string, task: () => Promise<A>): Promise<A | "cancelled"> {
    return new Promise<A | "cancelled">((resolve, reject) => {
      const start = () => {
        this.#running++
        task()
          .then(resolve, reject)
          .finally(() => {
            this.#running--
            this.#waiting.shift()?.start()
          })
      }
      if (this.#running < this.#limit) start()
      else this.#waiting.push({ key, start, skip: () => resolve("cancelled") })
    })
  }

  /** Drops a waiting run (interrupted before it started); false when it was not waiting. */
  cancel(key: string): boolean {
    const i = this.#waiting.findIndex((w) => w.key === key)
    if (i < 0) return false
    this.#waiting.splice(i, 1)[0]!.skip()
    return true
  }
}
