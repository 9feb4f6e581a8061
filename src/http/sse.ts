// A Server-Sent Events response fed by an Effect Stream: writes `id:`/`event:`/`data:`
// frames, a comment as heartbeat, respects the client's pace (waits while the response
// buffer is full), and stops the stream (interrupting its fiber, so a store
// subscription ends) when the client goes away or the server closes the connection.
// A client that stops reading costs bounded memory: no heartbeat is queued while earlier
// bytes wait, and a client that takes nothing for stallMs is dropped.
import { Effect, Exit, Fiber, Stream } from "effect"

export interface SseEvent {
  readonly id?: string
  readonly event?: string
  /** One line of text (JSON has no raw newlines). */
  readonly data: string
}

export interface SseOptions<E> {
  readonly events: Stream.Stream<SseEvent, E>
  readonly heartbeatMs: number
  /** Aborts with the request (client gone). */
  readonly signal?: AbortSignal
  /** Called once when the stream ends, with why. */
  readonly onEnd?: (reason: SseEnd) => void
  /** Reconnection delay the client should use, in ms. */
  readonly retryMs?: number
  /** A client that has taken nothing of what waits for it for this long is dropped; 0: never. */
  readonly stallMs?: number
  /** Closes the connection (a dropped client's socket would otherwise hold its unsent bytes). */
  readonly drop?: () => void
}

export type SseEnd = "client_closed" | "completed" | "stalled" | { readonly failure: unknown }

/** Bytes queued for the client before the stream waits for it. */
const queueBytes = 64 * 1024

const line = (field: string, value: string) => `${field}: ${value.replace(/[\r\n]+/g, " ")}\n`

export const formatSse = (e: SseEvent): string =>
  (e.id !== undefined ? line("id", e.id) : "") +
  (e.event !== undefined ? line("event", e.event) : "") +
  e.data
    .split(/\r\n|\r|\n/)
    .map((d) => `data: ${d}\n`)
    .join("") +
  "\n"

export const sseHeaders = {
  "Content-Type": "text/event-stream; charset=utf-8",
  "Cache-Control": "no-store",
  Connection: "keep-alive",
  "X-Accel-Buffering": "no"
} as const

export const sseBody = <E>(options: SseOptions<E>): ReadableStream<Uint8Array> => {
  const encoder = new TextEncoder()
  let closed = false
  const timers: Array<NodeJS.Timeout> = []
  let fiber: Fiber.Fiber<void, E> | undefined
  let resumeWriter: (() => void) | undefined
  let onAbort: (() => void) | undefined

  const stop = (reason: SseEnd) => {
    if (closed) return false
    closed = true
    for (const t of timers) clearInterval(t)
    if (onAbort) options.signal?.removeEventListener("abort", onAbort)
    resumeWriter?.()
    options.onEnd?.(reason)
    return true
  }
  const every = (ms: number, f: () => void) => {
    const t = setInterval(f, ms)
    t.unref?.()
    timers.push(t)
  }

  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        let enqueued = 0
        const queued = () => queueBytes - (controller.desiredSize ?? queueBytes)
        const write = (text: string) => {
          if (closed) return
          const bytes = encoder.encode(text)
          enqueued += bytes.byteLength
          controller.enqueue(bytes)
        }
        write(`: agentlog\nretry: ${options.retryMs ?? 2000}\n\n`)
        // A heartbeat keeps an idle connection open; behind bytes that wait it says nothing
        // and would pile up for a client that does not read.
        every(options.heartbeatMs, () => {
          if (queued() === 0) write(": heartbeat\n\n")
        })
        const stallMs = options.stallMs ?? 0
        if (stallMs > 0) {
          // Progress is what the client took: everything enqueued minus what still waits.
          let taken = 0
          let waitingSince: number | undefined
          every(Math.max(10, Math.min(stallMs / 4, options.heartbeatMs)), () => {
            const nowTaken = enqueued - queued()
            if (queued() === 0 || nowTaken !== taken) {
              taken = nowTaken
              waitingSince = undefined
              return
            }
            waitingSince ??= Date.now()
            if (Date.now() - waitingSince < stallMs) return
            if (stop("stalled")) {
              if (fiber) Effect.runFork(Fiber.interrupt(fiber))
              if (options.drop) options.drop()
              else controller.error(new Error("the client stopped reading"))
            }
          })
        }
        const writeEvent = (e: SseEvent) =>
          Effect.promise(async () => {
            write(formatSse(e))
            // The client is slow: wait until it read some of what is buffered.
            if (!closed && (controller.desiredSize ?? 1) <= 0) await new Promise<void>((r) => (resumeWriter = r))
          })
        fiber = Effect.runFork(Stream.runForEach(options.events, writeEvent))
        fiber.addObserver((exit) => {
          const reason = Exit.isSuccess(exit)
            ? ("completed" as const)
            : Exit.hasInterrupts(exit)
              ? ("client_closed" as const)
              : { failure: exit.cause }
          if (stop(reason)) {
            try {
              controller.close()
            } catch {
              // already closed by the client
            }
          }
        })
        onAbort = () => {
          if (stop("client_closed") && fiber) Effect.runFork(Fiber.interrupt(fiber))
        }
        if (options.signal?.aborted) onAbort()
        else options.signal?.addEventListener("abort", onAbort, { once: true })
      },
      pull() {
        const r = resumeWriter
        resumeWriter = undefined
        r?.()
      },
      cancel() {
        if (stop("client_closed") && fiber) Effect.runFork(Fiber.interrupt(fiber))
      }
    },
    { highWaterMark: queueBytes, size: (chunk) => chunk.byteLength }
  )
}
