// A minimal Server-Sent Events reader over fetch, for tests: frames in arrival order,
// comments kept apart (heartbeats), and a way to wait for the next n events; and a count
// of the store subscriptions the app opens and ends for its SSE streams.
import { Effect, Stream } from "effect"
import type { HarnessOptions } from "./httpHarness.ts"

/** Counts the store subscriptions the app opens and ends. */
export const countingSubscriptions = () => {
  const counts = { opened: 0, ended: 0 }
  const options: HarnessOptions = {
    wrap: (deps) => ({
      ...deps,
      store: {
        ...deps.store,
        subscribeStream: (stream, from) =>
          Stream.suspend(() => {
            counts.opened++
            return deps.store.subscribeStream(stream, from).pipe(Stream.ensuring(Effect.sync(() => void counts.ended++)))
          })
      }
    })
  }
  return { counts, options }
}

export interface SseFrame {
  readonly id?: string
  readonly event?: string
  readonly data: string
}

export interface SseReader {
  readonly response: Response
  readonly frames: Array<SseFrame>
  readonly comments: Array<string>
  /** Resolves once `count` frames (in total) have arrived; rejects after timeoutMs. */
  waitForFrames(count: number, timeoutMs?: number): Promise<Array<SseFrame>>
  waitForComment(match: (c: string) => boolean, timeoutMs?: number): Promise<void>
  /** Resolves when the server ends the stream (or the connection drops). */
  readonly ended: Promise<void>
  close(): void
}

export const openSse = async (url: string, headers: Record<string, string> = {}): Promise<SseReader> => {
  const controller = new AbortController()
  const response = await fetch(url, { headers: { accept: "text/event-stream", ...headers }, signal: controller.signal })
  const frames: Array<SseFrame> = []
  const comments: Array<string> = []
  const listeners = new Set<() => void>()
  const notify = () => {
    for (const l of [...listeners]) l()
  }
  let buffer = ""
  const parse = () => {
    for (;;) {
      const end = buffer.indexOf("\n\n")
      if (end < 0) return
      const block = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      const frame: { id?: string; event?: string; data?: Array<string> } = {}
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) comments.push(line.slice(1).trim())
        else {
          const i = line.indexOf(":")
          const field = i < 0 ? line : line.slice(0, i)
          const value = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "")
          if (field === "id") frame.id = value
          else if (field === "event") frame.event = value
          else if (field === "data") (frame.data ??= []).push(value)
        }
      }
      if (frame.data !== undefined)
        frames.push({
          ...(frame.id !== undefined ? { id: frame.id } : {}),
          ...(frame.event !== undefined ? { event: frame.event } : {}),
          data: frame.data.join("\n")
        })
    }
  }
  let ended = false
  const done = (async () => {
    if (!response.body) return
    const reader = response.body.getReader()
    const decoder = new TextDecoder()
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        buffer += decoder.decode(value, { stream: true })
        parse()
        notify()
      }
    } catch {
      // aborted or dropped
    } finally {
      ended = true
      notify()
    }
  })()
  const waitUntil = (ok: () => boolean, what: string, timeoutMs: number) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (ok()) {
          listeners.delete(check)
          clearTimeout(timer)
          resolve()
        } else if (ended) {
          listeners.delete(check)
          clearTimeout(timer)
          reject(new Error(`stream ended before ${what}; frames: ${JSON.stringify(frames.map((f) => f.id))}`))
        }
      }
      const timer = setTimeout(() => {
        listeners.delete(check)
        reject(new Error(`timed out waiting for ${what}; frames: ${JSON.stringify(frames.map((f) => f.id))}`))
      }, timeoutMs)
      listeners.add(check)
      check()
    })
  return {
    response,
    frames,
    comments,
    waitForFrames: async (count, timeoutMs = 5_000) => {
      await waitUntil(() => frames.length >= count, `${count} frames`, timeoutMs)
      return frames.slice(0, count)
    },
    waitForComment: (match, timeoutMs = 5_000) => waitUntil(() => comments.some(match), "a comment", timeoutMs),
    ended: done,
    close: () => controller.abort()
  }
}
