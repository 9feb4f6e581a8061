// One pending approval: what Claude wants to run, who is waiting and for how long, the
// time left, and the three answers: allow, deny (a reason is required: Claude reads it),
// and edit-then-allow (the input as JSON, checked before it is sent). A question Claude asks
// (AskUserQuestion) is answered instead: an option chosen for each of its questions.
import { useQueryClient } from "@tanstack/react-query"
import { useEffect, useId, useRef, useState } from "react"
import { decide, failureText } from "../api.ts"
import { pretty } from "../format.ts"
import { useNow } from "../now.ts"
import { waitingText } from "../sessionRow.ts"
import { useKeys } from "../keys.ts"
import { Alert } from "./Alert.tsx"
import { ToolInput } from "./ToolInput.tsx"

export interface PendingApproval {
  readonly approvalId: string
  readonly toolName: string
  readonly input: unknown
  readonly requestedAt: string
  readonly expiresAt: string | null
}

/** The input JSON a person typed: an object, or why not. */
export const parseInput = (text: string): { ok: true; value: Record<string, unknown> } | { ok: false; error: string } => {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch (e) {
    return { ok: false, error: `not valid JSON: ${(e as Error).message}` }
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) return { ok: false, error: "the input must be a JSON object" }
  return { ok: true, value: v as Record<string, unknown> }
}

export interface Question {
  readonly question: string
  readonly header?: string
  readonly multiSelect?: boolean
  readonly options: ReadonlyArray<{ readonly label: string; readonly description?: string }>
}

/** AskUserQuestion's questions, when the input is shaped as Claude sends them. */
export const questionsOf = (toolName: string, input: unknown): ReadonlyArray<Question> | undefined => {
  if (toolName !== "AskUserQuestion") return undefined
  const qs = (input as { questions?: unknown } | null)?.questions
  if (!Array.isArray(qs)) return undefined
  const ok = qs.every(
    (q) => typeof q?.question === "string" && Array.isArray(q.options) && q.options.every((o: { label?: unknown }) => typeof o?.label === "string")
  )
  return ok ? (qs as ReadonlyArray<Question>) : undefined
}

/** The API's answers: each question's text to its chosen labels (several comma separated). */
export const answersOf = (questions: ReadonlyArray<Question>, chosen: Readonly<Record<string, ReadonlyArray<string>>>): Record<string, string> | undefined => {
  const out: Record<string, string> = {}
  for (const q of questions) {
    const labels = chosen[q.question] ?? []
    if (labels.length === 0) return undefined
    out[q.question] = labels.join(", ")
  }
  return out
}

const QuestionForm = ({
  questions,
  chosen,
  onChange,
  idBase
}: {
  questions: ReadonlyArray<Question>
  chosen: Readonly<Record<string, ReadonlyArray<string>>>
  onChange: (question: string, labels: ReadonlyArray<string>) => void
  idBase: string
}) => (
  <div className="questions">
    {questions.map((q, i) => (
      <fieldset key={q.question} className="field">
        <legend>{q.question}</legend>
        {q.options.map((o, j) => {
          const id = `${idBase}-q${i}-o${j}`
          const on = (chosen[q.question] ?? []).includes(o.label)
          return (
            <div key={o.label} className="option">
              <input
                id={id}
                type={q.multiSelect ? "checkbox" : "radio"}
                name={`${idBase}-q${i}`}
                checked={on}
                onChange={() => {
                  const now = chosen[q.question] ?? []
                  onChange(q.question, q.multiSelect ? (on ? now.filter((l) => l !== o.label) : [...now, o.label]) : [o.label])
                }}
              />
              <label htmlFor={id}>
                {o.label}
                {o.description && <span className="muted"> — {o.description}</span>}
              </label>
            </div>
          )
        })}
      </fieldset>
    ))}
  </div>
)

export const Waiting = ({ requestedAt, expiresAt }: { requestedAt: string; expiresAt: string | null }) => {
  const now = useNow()
  return <span className="waiting">{waitingText(requestedAt, expiresAt, now)}</span>
}

export const ApprovalPanel = ({ approval, keyboard }: { approval: PendingApproval; keyboard: boolean }) => {
  const [mode, setMode] = useState<"idle" | "deny" | "edit" | "sending">("idle")
  const [reason, setReason] = useState("")
  const [edited, setEdited] = useState(() => pretty(approval.input))
  const [error, setError] = useState<string | null>(null)
  const queryClient = useQueryClient()
  const reasonRef = useRef<HTMLTextAreaElement>(null)
  const editRef = useRef<HTMLTextAreaElement>(null)
  const id = useId()
  const questions = questionsOf(approval.toolName, approval.input)
  const [chosen, setChosen] = useState<Record<string, ReadonlyArray<string>>>({})
  const answers = questions && answersOf(questions, chosen)

  const send = async (body: Parameters<typeof decide>[1]) => {
    setMode("sending")
    setError(null)
    try {
      await decide(approval.approvalId, body)
      void queryClient.invalidateQueries({ queryKey: ["approvals"] })
      void queryClient.invalidateQueries({ queryKey: ["sessions"] })
    } catch (e) {
      setMode("idle")
      setError(failureText(e))
    }
  }
  const allow = () => {
    if (!questions) return void send({ decision: "allow" })
    // Claude asked: allowing is answering, every question.
    if (answers === undefined) return setError("Choose an answer to each question.")
    void send({ decision: "allow", answers })
  }
  const deny = () => {
    if (reason.trim() === "") {
      setError("Say why: Claude reads the reason.")
      reasonRef.current?.focus()
      return
    }
    void send({ decision: "deny", message: reason.trim() })
  }
  const parsed = parseInput(edited)
  const allowEdited = () => {
    if (!parsed.ok) return
    void send({ decision: "allow", updatedInput: parsed.value })
  }

  useKeys(
    {
      a: () => mode === "idle" && allow(),
      d: () => setMode("deny"),
      E: () => setMode("edit")
    },
    keyboard
  )
  useEffect(() => {
    if (mode === "deny") reasonRef.current?.focus()
    if (mode === "edit") editRef.current?.focus()
  }, [mode])

  const submitOnCtrlEnter = (f: () => void) => (e: React.KeyboardEvent) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault()
      f()
    } else if (e.key === "Escape") {
      e.preventDefault()
      setMode("idle")
      setError(null)
    }
  }

  return (
    <section className="approval" aria-label={`Approval: ${approval.toolName}`} data-approval={approval.approvalId}>
      <header>
        <strong className="needs-you">Needs you</strong> Claude wants to use <span className="mono tool-name">{approval.toolName}</span>{" "}
        <Waiting requestedAt={approval.requestedAt} expiresAt={approval.expiresAt} />
      </header>
      {questions ? (
        <QuestionForm questions={questions} chosen={chosen} onChange={(q, labels) => setChosen((c) => ({ ...c, [q]: labels }))} idBase={id} />
      ) : (
        <ToolInput toolName={approval.toolName} input={approval.input} />
      )}
      {mode === "deny" && (
        <div className="field">
          <label htmlFor={`${id}-reason`}>Reason for denying (sent to Claude)</label>
          <textarea
            id={`${id}-reason`}
            ref={reasonRef}
            rows={2}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === "Enter" && !e.shiftKey) {
                e.preventDefault()
                deny()
              } else submitOnCtrlEnter(deny)(e)
            }}
            aria-invalid={error !== null}
          />
        </div>
      )}
      {mode === "edit" && (
        <div className="field">
          <label htmlFor={`${id}-input`}>Input to allow with (JSON)</label>
          <textarea
            id={`${id}-input`}
            ref={editRef}
            className="mono"
            rows={Math.min(16, edited.split("\n").length + 1)}
            value={edited}
            onChange={(e) => setEdited(e.target.value)}
            onKeyDown={submitOnCtrlEnter(allowEdited)}
            aria-invalid={!parsed.ok}
            aria-describedby={`${id}-input-error`}
          />
          <p id={`${id}-input-error`} className={parsed.ok ? "muted" : "error"} role={parsed.ok ? undefined : "alert"}>
            {parsed.ok ? "Ctrl/⌘+Enter allows with this input" : parsed.error}
          </p>
        </div>
      )}
      <Alert text={error} />
      <div className="actions">
        {mode === "edit" ? (
          <button type="button" className="primary" onClick={allowEdited} disabled={!parsed.ok}>
            Allow with this input
          </button>
        ) : (
          <button type="button" className="primary" onClick={allow} disabled={mode === "sending"}>
            {questions ? "Answer" : "Allow"} <kbd>a</kbd>
          </button>
        )}
        {mode === "deny" ? (
          <button type="button" className="danger" onClick={deny}>
            Deny with reason
          </button>
        ) : (
          <button type="button" className="danger" onClick={() => setMode("deny")} disabled={mode === "sending"}>
            Deny… <kbd>d</kbd>
          </button>
        )}
        {mode !== "edit" && !questions && (
          <button type="button" onClick={() => setMode("edit")} disabled={mode === "sending"}>
            Edit, then allow… <kbd>E</kbd>
          </button>
        )}
        {(mode === "deny" || mode === "edit") && (
          <button type="button" className="quiet" onClick={() => setMode("idle")}>
            Cancel
          </button>
        )}
      </div>
    </section>
  )
}
