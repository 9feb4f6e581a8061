// A Server-Sent Events response fed by an Effect Stream: writes `id:`/`event:`/`data:`
// frames, a comment as heartbeat, respects the client's pace (waits while the response
// buffer is full), and stops the stream (interrupting its fiber, so a store
// subscription ends) when the client goes away or the server closes the connection.
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
  readonly onEnd?: (reason: "client_closed" | "completed" | { readonly failure: unknown }) => void
  /** Reconnection delay the client should use, in ms. */
  readonly retryMs?: number
}

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
  let timer: NodeJS.Timeout | undefined
  let fiber: Fiber.Fiber<void, E> | undefined
  let resumeWriter: (() => void) | undefined
  let onAbort: (() => void) | undefined

  const stop = (reason: Parameters<NonNullable<SseOptions<E>["onEnd"]>>[0]) => {
    if (closed) return false
    closed = true
    if (timer) clearInterval(timer)
    if (onAbort) options.signal?.removeEventListener("abort", onAbort)
    resumeWriter?.()
    options.onEnd?.(reason)
    return true
  }

  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        const write = (text: string) => {
          if (!closed) controller.enqueue(encoder.encode(text))
        }
        write(`: agentlog\nretry: ${options.retryMs ?? 2000}\n\n`)
        timer = setInterval(() => write(": heartbeat\n\n"), options.heartbeatMs)
        timer.unref?.()
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
    { highWaterMark: 64 }
  )
}
