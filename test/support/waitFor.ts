// The one way tests wait: for a condition to hold, checked again each time something
// happened (an event in the store) or, across processes where no event reaches the test,
// at a short interval. A timeout fails with what was awaited and the last value seen.
import { Effect, Fiber, Stream } from "effect"
import type { EventStoreShape } from "../../src/eventstore/eventStore.ts"

export interface WaitOptions {
  readonly timeoutMs?: number
  /** Only for conditions no event announces (another process's HTTP API): how often to look. */
  readonly everyMs?: number
}

/** Resolves with the first value `probe` returns that is not undefined. */
export const waitFor = async <A>(
  what: string,
  probe: () => Promise<A | undefined> | A | undefined,
  { timeoutMs = 30_000, everyMs = 25 }: WaitOptions = {}
): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const v = await probe()
      if (v !== undefined) return v
    } catch (e) {
      last = e
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last !== undefined ? ` (last: ${String(last)})` : ""}`)
    await new Promise((r) => setTimeout(r, everyMs))
  }
}

/**
 * Resolves with the first value `probe` returns that is not undefined, looking once now and
 * again after every event appended to the streams starting with `streamPrefix`.
 */
export const waitForEvents = async <A>(
  what: string,
  store: EventStoreShape,
  streamPrefix: string,
  probe: () => Promise<A | undefined>,
  { timeoutMs = 45_000 }: WaitOptions = {}
): Promise<A> => {
  let wake: () => void = () => {}
  let woken = false
  // From the head as it is before the first look: nothing appended after that look is missed.
  const head = await Effect.runPromise(store.headPosition())
  const fiber = Effect.runFork(
    store.subscribeAll({ from: head ?? "start", filter: { streamPrefix: [streamPrefix] } }).pipe(
      Stream.runForEach((e) =>
        Effect.sync(() => {
          if (e._tag !== "RecordedEvent") return
          woken = true
          wake()
        })
      )
    )
  )
  const deadline = Date.now() + timeoutMs
  try {
    for (;;) {
      woken = false
      const v = await probe()
      if (v !== undefined) return v
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
      if (woken) continue
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    }
  } finally {
    await Effect.runPromise(Fiber.interrupt(fiber))
  }
}

/**
 * A session as a service's API shows it, once its status is one of `statuses` after at
 * least `runs` runs (for a service in another process: no event reaches the test).
 */
export const waitForSessionStatus = (
  url: string,
  sessionId: string,
  statuses: ReadonlyArray<string>,
  { runs = 1, ...options }: WaitOptions & { readonly runs?: number } = {}
): Promise<any> => {
  let last: string | undefined
  return waitFor(
    `session ${sessionId} to be ${statuses.join("/")} after ${runs} run(s)`,
    async () => {
      const res = await fetch(`${url}/v1/sessions/${sessionId}`)
      if (!res.ok) return undefined
      const s = (await res.json()) as { status: string; runs: number }
      last = s.status
      return s.runs >= runs && statuses.includes(s.status) ? s : undefined
    },
    { timeoutMs: 45_000, everyMs: 50, ...options }
  ).catch((e: unknown) => {
    throw new Error(`${String(e)}; it is ${last}`)
  })
}
