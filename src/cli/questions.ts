// Claude's questions (AskUserQuestion) at the terminal: allowing one is answering each of
// its questions, by the question's text (the API refuses a bare allow).
import { CliError } from "./client.ts"

export interface Question {
  readonly question: string
  readonly multiSelect: boolean
  readonly options: ReadonlyArray<string>
}

/** The questions of an AskUserQuestion input; undefined for any other tool or shape. */
export const questionsOf = (toolName: string, input: unknown): ReadonlyArray<Question> | undefined => {
  if (toolName !== "AskUserQuestion") return undefined
  const qs = (input as { questions?: unknown } | null)?.questions
  if (!Array.isArray(qs)) return undefined
  const out: Array<Question> = []
  for (const q of qs as Array<{ question?: unknown; multiSelect?: unknown; options?: unknown }>) {
    if (typeof q?.question !== "string" || !Array.isArray(q.options)) return undefined
    const options = (q.options as Array<{ label?: unknown }>).map((o) => o?.label)
    if (!options.every((l): l is string => typeof l === "string")) return undefined
    out.push({ question: q.question, multiSelect: q.multiSelect === true, options })
  }
  return out
}

/**
 * What a person typed for one question: option numbers ("2", or "1,3" where several may be
 * chosen), else the text itself as a free answer. Several labels are sent comma separated.
 */
export const answerOf = (q: Question, typed: string): string | undefined => {
  const t = typed.trim()
  if (t === "") return undefined
  if (/^\d+(\s*,\s*\d+)*$/.test(t)) {
    const picks = t.split(",").map((n) => q.options[Number(n.trim()) - 1])
    if (picks.some((p) => p === undefined) || (!q.multiSelect && picks.length > 1)) return undefined
    return picks.join(", ")
  }
  return t
}

/** `--answer "Which color?=Blue"` (repeated): the question's text to its answer. */
export const parseAnswers = (given: ReadonlyArray<string>): Record<string, string> => {
  const answers: Record<string, string> = {}
  for (const a of given) {
    const at = a.lastIndexOf("=")
    if (at <= 0 || at === a.length - 1) throw new CliError(`--answer takes "QUESTION=ANSWER", got ${JSON.stringify(a)}`)
    answers[a.slice(0, at)] = a.slice(at + 1)
  }
  return answers
}
