// Questions asked at the terminal while a session runs (approvals, Ctrl-C). On a TTY a
// choice is one keypress and a line is edited in place (readline, prefilled); otherwise
// (a pipe, a script, a test) each answer is one line of stdin. Ended input answers null:
// the caller then leaves the decision to someone else.
import { createInterface, type Interface } from "node:readline"

export interface Prompter {
  /** One of `keys` (lower-case); "\x03" for Ctrl-C on a TTY; null when input ended or `signal` aborted. */
  choose(question: string, keys: string, signal: AbortSignal): Promise<string | null>
  /** One line (on a TTY, `prefill` is there to edit); null when input ended or `signal` aborted. */
  line(question: string, signal: AbortSignal, prefill?: string): Promise<string | null>
  close(): void
}

/** Resolves with the first of `answer` and `signal`'s abort (as null). */
const orAbort = <A>(signal: AbortSignal, answer: (settle: (a: A | null) => void) => () => void): Promise<A | null> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve(null)
    let cleanup = () => {}
    let settled = false
    const settle = (a: A | null) => {
      if (settled) return
      settled = true
      signal.removeEventListener("abort", onAbort)
      cleanup()
      resolve(a)
    }
    const onAbort = () => settle(null)
    signal.addEventListener("abort", onAbort, { once: true })
    const undo = answer(settle)
    if (settled) undo()
    else cleanup = undo
  })

/** Answers as lines of a stream that is not a terminal; one reader for the whole run, so nothing read ahead is lost. */
const linePrompter = (input: NodeJS.ReadableStream, ask: (text: string) => void): Prompter => {
  const lines: Array<string> = []
  const waiting = new Set<(l: string | null) => void>()
  let ended = false
  const rl: Interface = createInterface({ input, terminal: false })
  rl.on("line", (l) => {
    const [first] = waiting
    if (first) {
      waiting.delete(first)
      first(l)
    } else lines.push(l)
  })
  rl.on("close", () => {
    ended = true
    for (const w of waiting) w(null)
    waiting.clear()
  })
  // The answer is echoed after the question, so the output reads as the exchange it was.
  const next = (question: string, signal: AbortSignal) =>
    orAbort<string>(signal, (settle) => {
      ask(question)
      const answered = (l: string | null) => {
        ask(l === null ? "\n" : `${l}\n`)
        settle(l)
      }
      const queued = lines.shift()
      if (queued !== undefined || ended) {
        answered(queued ?? null)
        return () => {}
      }
      waiting.add(answered)
      return () => waiting.delete(answered)
    })
  return {
    choose: async (question, keys, signal) => {
      for (;;) {
        const l = await next(question, signal)
        if (l === null) return null
        const key = l.trim().toLowerCase().slice(0, 1)
        if (key !== "" && keys.includes(key)) return key
      }
    },
    line: (question, signal) => next(question, signal),
    close: () => rl.close()
  }
}

const ttyPrompter = (input: NodeJS.ReadStream, output: NodeJS.WriteStream): Prompter => ({
  choose: (question, keys, signal) =>
    orAbort<string>(signal, (settle) => {
      output.write(question)
      input.setRawMode(true)
      input.resume()
      const onData = (d: Buffer) => {
        const key = d.toString("utf8").toLowerCase()
        if (key === "\x03" || keys.includes(key)) {
          output.write(`${key === "\x03" ? "^C" : key}\n`)
          settle(key)
        }
      }
      input.on("data", onData)
      return () => {
        input.off("data", onData)
        input.setRawMode(false)
        input.pause()
      }
    }),
  line: (question, signal, prefill) =>
    orAbort<string>(signal, (settle) => {
      const rl = createInterface({ input, output, terminal: true })
      rl.question(question, (answer) => settle(answer))
      rl.on("SIGINT", () => settle(null))
      rl.on("close", () => settle(null))
      if (prefill !== undefined) rl.write(prefill)
      return () => rl.close()
    }),
  close: () => {}
})

export const makePrompter = (input: NodeJS.ReadStream, output: NodeJS.WriteStream, ask: (text: string) => void): Prompter =>
  input.isTTY ? ttyPrompter(input, output) : linePrompter(input, ask)
