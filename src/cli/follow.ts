// Following one run of a session at the terminal, for `run`, `attach` and `fork --follow`:
// what Claude says as it is recorded, tool calls and results condensed, each approval asked
// inline, a spinner with the elapsed time while Claude works (a TTY only), Ctrl-C to
// interrupt or detach, and at the end the outcome, cost and tokens. The exit code says how
// the run ended. Every line printed comes from an event in the store: what is shown is what
// was recorded.
import yoctoSpinner from "yocto-spinner"
import { CliError, type Client, must, type Schemas } from "./client.ts"
import type { Terminal } from "./command.ts"
import { followEvents } from "./events.ts"
import { contentOf, money, num, obj, oneLine, text, toolResultLine, toolUseLine } from "./format.ts"
import { makePrompter } from "./prompt.ts"
import { answerOf, type Question, questionsOf } from "./questions.ts"

type Event = Schemas["Event"]
type Ended = "completed" | "failed" | "interrupted" | "abandoned"

/** How `run`, `attach` and `fork --follow` exit: 1 and 2 are the CLI's own errors. */
export const exitCodes: Record<Ended | "detached", number> = { completed: 0, failed: 3, interrupted: 4, abandoned: 5, detached: 6 }

const endings: Record<string, Ended> = { RunCompleted: "completed", RunFailed: "failed", RunInterrupted: "interrupted", RunAbandoned: "abandoned" }

export interface FollowSetup {
  readonly client: Client
  readonly terminal: Terminal
  readonly sessionId: string
  /** The run whose end ends the follow. */
  readonly runId: string
  /** Events after this revision are shown (-1: from the start). */
  readonly after: number
  /** --json: the events as NDJSON on stdout, questions on stderr. */
  readonly json: boolean
}

/** The lines a person sees for an event (none for most bookkeeping events). */
export const render = (e: Event): ReadonlyArray<string> => {
  const d = e.data
  switch (e.type) {
    case "SessionLaunched":
    case "SessionForked":
    case "ContinueRequested":
      return [`› ${oneLine(text(d.query), 200)}`]
    case "ClaudeAssistantMessage":
      return contentOf(d).flatMap((c) =>
        c.type === "text" ? [text(c.text).trim()].filter((t) => t !== "") : c.type === "tool_use" ? [`→ ${oneLine(toolUseLine(c), 160)}`] : []
      )
    case "ClaudeUserMessage":
      return contentOf(d).flatMap((c) => (c.type === "tool_result" ? [`  ← ${oneLine(toolResultLine(c).replace(/^\[result(, error)?\] /, (_, err) => (err ? "error: " : "")), 160)}`] : []))
    case "ApprovalDecided": {
      const how = d.decision === "allow" ? "✓ allowed" : "✗ denied"
      const why = d.reason !== undefined ? ` (${text(d.reason)})` : ""
      return [`  ${how} by ${text(d.decidedBy)}${why}${d.message !== undefined ? `: ${oneLine(text(d.message), 120)}` : ""}`]
    }
    case "InterruptRequested":
      return [`  interrupt requested by ${text(d.requestedBy)}`]
    default:
      return []
  }
}

/** The last line: how the run ended, what it cost, the tokens and the time. */
const outcomeLine = (status: Ended, ending: Event, result: Event | undefined, elapsedMs: number): string => {
  const r = result?.data ?? {}
  const tokens = obj(r.tokens)
  const mark = status === "completed" ? "✓" : status === "interrupted" ? "■" : "✗"
  const why = status === "failed" ? `: ${oneLine(text(ending.data.error), 300)}` : status === "abandoned" ? `: ${oneLine(text(ending.data.reason), 300)}` : ""
  const facts = [
    ...(result ? [`${num(r.numTurns)} turns`, money(num(r.runCostUsd)), `${num(tokens.input)} in / ${num(tokens.output)} out tokens`] : []),
    `${(elapsedMs / 1000).toFixed(1)}s`
  ]
  return `${mark} ${status}${why} · ${facts.join(" · ")}`
}

export const followRun = async (setup: FollowSetup): Promise<number> => {
  const { client, terminal, sessionId, runId, json } = setup
  const started = Date.now()
  const stdout = terminal.stdout
  // Questions go where they do not mix with --json's events.
  const ask = (s: string) => (json ? process.stderr : stdout).write(s)
  const prompter = makePrompter(terminal.stdin, stdout, ask)
  const detach = new AbortController()

  // While a question is open, lines wait, so what is typed is not cut by what is printed.
  let held: Array<string> | undefined
  const say = (line: string) => {
    if (held) held.push(line)
    else terminal.out(line)
  }
  const hold = () => (held ??= [])
  const release = () => {
    const lines = held ?? []
    held = undefined
    for (const l of lines) terminal.out(l)
  }

  const spinner = stdout.isTTY && !json ? yoctoSpinner({ stream: stdout, handleSignals: false }) : undefined
  let ended = false
  let waitingOn = 0
  const spinText = () => `${waitingOn > 0 ? `waiting for a decision on ${waitingOn} approval${waitingOn > 1 ? "s" : ""}` : "Claude is working"} · ${Math.round((Date.now() - started) / 1000)}s`
  const ticker = spinner ? setInterval(() => (spinner.text = spinText()), 1000) : undefined
  const spin = () => {
    if (spinner && !ended && held === undefined) spinner.start(spinText())
  }
  const still = () => spinner?.stop()

  // One question at a time: approvals in order, Ctrl-C's question between them.
  let chain: Promise<void> = Promise.resolve()
  const exclusive = (f: () => Promise<void>) => {
    chain = chain.then(f).catch((e: unknown) => {
      say(`agentlog: ${e instanceof Error ? e.message : String(e)}`)
    })
  }
  const asking = new Map<string, AbortController>()
  const decided = new Set<string>()
  detach.signal.addEventListener("abort", () => {
    for (const a of asking.values()) a.abort("detached")
  })

  const decide = async (approvalId: string, body: Schemas["ApprovalDecision"]) => {
    try {
      await must(client.api.POST("/v1/approvals/{id}/decision", { params: { path: { id: approvalId } }, body }))
    } catch (e) {
      if (!(e instanceof CliError)) throw e
      say(`  could not decide: ${e.message}`)
    }
  }

  /** Claude asked: each question with its options numbered, answered by number(s) or in words. */
  const answerQuestions = async (approvalId: string, questions: ReadonlyArray<Question>, signal: AbortSignal): Promise<void> => {
    const answers: Record<string, string> = {}
    for (const q of questions) {
      ask([`  ${q.question}`, ...q.options.map((o, i) => `    ${i + 1}. ${o}`), ""].join("\n"))
      for (;;) {
        const typed = await prompter.line(q.multiSelect ? "  numbers (1,3), or your own answer › " : "  number, or your own answer › ", signal)
        if (signal.aborted) return
        if (typed === null) {
          ask(`  left for someone else: agentlog approve ${approvalId} --answer "QUESTION=ANSWER"\n`)
          return
        }
        const a = answerOf(q, typed)
        if (a !== undefined) {
          answers[q.question] = a
          break
        }
        ask(`  choose ${q.multiSelect ? "numbers" : "a number"} from 1 to ${q.options.length}, or type an answer\n`)
      }
    }
    await decide(approvalId, { decision: "allow", answers })
  }

  const askApproval = async (e: Event): Promise<void> => {
    const approvalId = text(e.data.approvalId)
    if (ended || detach.signal.aborted || decided.has(approvalId)) return
    // Attaching replays approvals that were decided before: only a pending one is asked.
    const now = await must(client.api.GET("/v1/approvals/{id}", { params: { path: { id: approvalId }, query: { minPosition: e.position } } }))
    if (now.status !== "pending" || decided.has(approvalId)) return
    const abort = new AbortController()
    asking.set(approvalId, abort)
    still()
    hold()
    try {
      const input = e.data.input
      const pretty = JSON.stringify(input, null, 2).split("\n")
      ask(
        [
          `? ${text(e.data.toolName)} needs approval (${approvalId})`,
          ...pretty.slice(0, 20).map((l) => `    ${l}`),
          ...(pretty.length > 20 ? [`    … ${pretty.length - 20} more lines`] : []),
          ""
        ].join("\n")
      )
      const questions = questionsOf(text(e.data.toolName), input)
      if (questions) return await answerQuestions(approvalId, questions, abort.signal)
      for (;;) {
        const key = await prompter.choose("  [a]llow / [d]eny with reason / [e]dit input / [s]kip › ", "ades", abort.signal)
        if (abort.signal.aborted) {
          if (abort.signal.reason === "ctrl-c") exclusive(() => askApproval(e))
          return
        }
        if (key === null || key === "s" || key === "\x03") {
          ask(`  left for someone else: agentlog approve|deny ${approvalId}\n`)
          if (key === "\x03") onCtrlC()
          return
        }
        if (key === "a") return await decide(approvalId, { decision: "allow" })
        if (key === "d") {
          const reason = await prompter.line("  reason (Claude is told): ", abort.signal)
          if (abort.signal.aborted) return
          return await decide(approvalId, { decision: "deny", ...(reason?.trim() ? { message: reason.trim() } : {}) })
        }
        const edited = await prompter.line("  input (JSON) › ", abort.signal, JSON.stringify(input))
        if (abort.signal.aborted || edited === null) return
        let updatedInput: unknown
        try {
          updatedInput = JSON.parse(edited)
        } catch {
          ask("  not JSON; try again\n")
          continue
        }
        if (typeof updatedInput !== "object" || updatedInput === null || Array.isArray(updatedInput)) {
          ask("  the input must be a JSON object; try again\n")
          continue
        }
        return await decide(approvalId, { decision: "allow", updatedInput: obj(updatedInput) })
      }
    } finally {
      asking.delete(approvalId)
      release()
      spin()
    }
  }

  let ctrlC = false
  const askCtrlC = async () => {
    still()
    hold()
    try {
      const key = await prompter.choose("\n  Ctrl-C: [i]nterrupt the session / [d]etach (it keeps running) / [c]ontinue watching › ", "idc", detach.signal)
      if (key === "i") {
        await must(client.api.POST("/v1/sessions/{id}/interrupt", { params: { path: { id: sessionId } } })).catch((e: unknown) => {
          if (!(e instanceof CliError)) throw e
          say(`  could not interrupt: ${e.message}`)
        })
      } else if (key !== "c") detach.abort()
    } finally {
      ctrlC = false
      release()
      spin()
    }
  }
  // A second Ctrl-C while the question is open: detach at once.
  function onCtrlC() {
    if (ctrlC) return detach.abort()
    ctrlC = true
    exclusive(askCtrlC)
    for (const a of asking.values()) a.abort("ctrl-c")
  }
  process.on("SIGINT", onCtrlC)

  // --stream: text deltas are written as they are recorded; the message they add up to then
  // shows only its tool calls. Not while a question is open (the message shows it whole).
  let streaming = false
  const streamed = (e: Event): boolean => {
    if (e.type === "ClaudeStreamEvent") {
      const event = obj(obj(e.data.message).event)
      const delta = obj(event.delta)
      if (held === undefined && event.type === "content_block_delta" && delta.type === "text_delta") {
        stdout.write(text(delta.text))
        streaming = true
      }
      return true
    }
    if (e.type === "ClaudeAssistantMessage" && streaming) {
      streaming = false
      stdout.write("\n")
      for (const l of render(e)) if (l.startsWith("→ ")) say(l)
      return true
    }
    return false
  }

  let ending: Event | undefined
  let result: Event | undefined
  let status: Ended | undefined
  spin()
  try {
    for await (const e of followEvents(client, sessionId, setup.after, detach.signal)) {
      if (json) say(JSON.stringify(e))
      else if (!streamed(e)) for (const l of render(e)) say(l)
      const approvalId = text(e.data.approvalId)
      if (e.type === "ApprovalRequested") {
        waitingOn++
        exclusive(() => askApproval(e))
      } else if (e.type === "ApprovalDecided") {
        waitingOn = Math.max(0, waitingOn - 1)
        decided.add(approvalId)
        asking.get(approvalId)?.abort("decided")
      } else if (e.type === "ClaudeResult" && e.data.runId === runId) result = e
      const end = endings[e.type]
      if (end !== undefined && e.data.runId === runId) {
        status = end
        ending = e
        break
      }
    }
  } finally {
    ended = true
    process.off("SIGINT", onCtrlC)
    if (ticker) clearInterval(ticker)
    for (const a of asking.values()) a.abort("ended")
    detach.abort()
    still()
    await chain
    prompter.close()
  }
  if (status === undefined || ending === undefined) {
    ask(`detached: session ${sessionId} keeps running (agentlog attach ${sessionId})\n`)
    return exitCodes.detached
  }
  if (!json) terminal.out(outcomeLine(status, ending, result, Date.now() - started))
  return exitCodes[status]
}
