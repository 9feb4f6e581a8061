// Launch a session: the query and the options of POST /v1/sessions. Ctrl/⌘+Enter launches;
// the API's field errors (problem+json `errors[].path`) show under the field they name.
import { useQuery } from "@tanstack/react-query"
import { useEffect, useMemo, useRef, useState } from "react"
import { ApiError, client, ok, type Schemas } from "../api.ts"
import { navigate } from "../router.ts"

type LaunchBody = Schemas["LaunchSession"]
type Mode = NonNullable<LaunchBody["permissionMode"]>
const modes: ReadonlyArray<Mode> = ["default", "acceptEdits", "plan", "bypassPermissions", "dontAsk"]

interface Form {
  query: string
  cwd: string
  title: string
  model: string
  permissionMode: string
  maxTurns: string
  systemPrompt: string
  appendSystemPrompt: string
  allowedTools: string
  disallowedTools: string
}

const emptyForm: Form = {
  query: "",
  cwd: "",
  title: "",
  model: "",
  permissionMode: "",
  maxTurns: "",
  systemPrompt: "",
  appendSystemPrompt: "",
  allowedTools: "",
  disallowedTools: ""
}

const tools = (s: string) =>
  s
    .split(/[,\n]/)
    .map((t) => t.trim())
    .filter((t) => t !== "")

/** The launch body: only what was filled in. */
export const launchBody = (f: Form): LaunchBody => {
  const body: LaunchBody = { query: f.query }
  for (const k of ["cwd", "title", "model", "systemPrompt", "appendSystemPrompt"] as const) if (f[k].trim() !== "") body[k] = f[k].trim()
  const mode = modes.find((m) => m === f.permissionMode.trim())
  if (mode !== undefined) body.permissionMode = mode
  if (f.maxTurns.trim() !== "") body.maxTurns = Number(f.maxTurns)
  if (tools(f.allowedTools).length > 0) body.allowedTools = tools(f.allowedTools)
  if (tools(f.disallowedTools).length > 0) body.disallowedTools = tools(f.disallowedTools)
  return body
}

/** Field errors by field name (`/cwd` -> cwd); the rest stay for the form. */
export const errorsByField = (e: ApiError): { fields: Partial<Record<keyof Form, string>>; other: Array<string> } => {
  const fields: Partial<Record<keyof Form, string>> = {}
  const other: Array<string> = []
  for (const fe of e.fieldErrors) {
    const name = /^\/([A-Za-z]+)/.exec(fe.path)?.[1] as keyof Form | undefined
    if (name !== undefined && name in emptyForm) fields[name] = fields[name] ? `${fields[name]}; ${fe.message}` : fe.message
    else other.push(fe.path ? `${fe.path}: ${fe.message}` : fe.message)
  }
  if (e.fieldErrors.length === 0) other.push(`${e.title}: ${e.message}`)
  return { fields, other }
}

export const NewSessionScreen = () => {
  const [form, setForm] = useState<Form>(emptyForm)
  const [errors, setErrors] = useState<{ fields: Partial<Record<keyof Form, string>>; other: Array<string> }>({ fields: {}, other: [] })
  const [sending, setSending] = useState(false)
  const idempotencyKey = useMemo(() => crypto.randomUUID(), [])
  const queryRef = useRef<HTMLTextAreaElement>(null)
  useEffect(() => queryRef.current?.focus(), [])

  // The directories of recent sessions, offered for the working directory.
  const recent = useQuery({
    queryKey: ["sessions", "recent-cwds"],
    queryFn: ({ signal }) => ok(client.GET("/v1/sessions", { params: { query: { limit: 100 } }, signal }))
  })
  const cwds = useMemo(() => [...new Set((recent.data?.items ?? []).map((s) => s.cwd).filter((c): c is string => !!c))].slice(0, 10), [recent.data])

  const set = (k: keyof Form) => (e: React.ChangeEvent<HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>) => setForm((f) => ({ ...f, [k]: e.target.value }))

  const submit = async () => {
    if (form.query.trim() === "") {
      setErrors({ fields: { query: "Say what Claude should do." }, other: [] })
      queryRef.current?.focus()
      return
    }
    setSending(true)
    try {
      const r = await ok(client.POST("/v1/sessions", { body: launchBody(form), params: { header: { "Idempotency-Key": idempotencyKey } } }))
      navigate(`/sessions/${r.sessionId}`)
    } catch (e) {
      setSending(false)
      setErrors(e instanceof ApiError ? errorsByField(e) : { fields: {}, other: [String(e)] })
      const first = e instanceof ApiError ? Object.keys(errorsByField(e).fields)[0] : undefined
      if (first) document.getElementById(`f-${first}`)?.focus()
    }
  }

  const onKeyDown = (e: React.KeyboardEvent) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault()
      void submit()
    } else if (e.key === "Escape" && form.query === "") navigate("/")
  }

  const field = (k: keyof Form, label: string, input: React.ReactElement, hint?: string) => (
    <div className={`field ${errors.fields[k] ? "invalid" : ""}`}>
      <label htmlFor={`f-${k}`}>{label}</label>
      {input}
      {errors.fields[k] ? (
        <p className="error" id={`f-${k}-error`} role="alert">
          {errors.fields[k]}
        </p>
      ) : hint ? (
        <p className="muted" id={`f-${k}-error`}>
          {hint}
        </p>
      ) : null}
    </div>
  )
  const attrs = (k: keyof Form) => ({
    id: `f-${k}`,
    name: k,
    value: form[k],
    onChange: set(k),
    "aria-invalid": errors.fields[k] !== undefined,
    "aria-describedby": `f-${k}-error`
  })

  return (
    <main className="new-session">
      <h2>New session</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault()
          void submit()
        }}
        onKeyDown={onKeyDown}
      >
        {field("query", "What should Claude do?", <textarea ref={queryRef} rows={5} {...attrs("query")} />, "Ctrl/⌘+Enter launches")}
        <div className="grid">
          {field(
            "cwd",
            "Working directory",
            <>
              <input className="mono" list="recent-cwds" placeholder="/absolute/path (default: where agentlog runs)" {...attrs("cwd")} />
              <datalist id="recent-cwds">
                {cwds.map((c) => (
                  <option key={c} value={c} />
                ))}
              </datalist>
            </>
          )}
          {field("title", "Title", <input {...attrs("title")} />)}
          {field("model", "Model", <input className="mono" placeholder="Claude Code's default" {...attrs("model")} />)}
          {field(
            "permissionMode",
            "Permission mode",
            <select {...attrs("permissionMode")}>
              <option value="">default (ask for approvals)</option>
              {modes.slice(1).map((m) => (
                <option key={m} value={m}>
                  {m}
                </option>
              ))}
            </select>
          )}
          {field("maxTurns", "Max turns", <input type="number" min={1} max={1000} {...attrs("maxTurns")} />)}
          {field("allowedTools", "Allowed tools", <input className="mono" placeholder="Read, Grep" {...attrs("allowedTools")} />, "comma separated")}
          {field("disallowedTools", "Disallowed tools", <input className="mono" placeholder="WebFetch" {...attrs("disallowedTools")} />, "comma separated")}
        </div>
        <details>
          <summary>System prompt</summary>
          {field("systemPrompt", "System prompt (replaces Claude Code's)", <textarea rows={3} {...attrs("systemPrompt")} />)}
          {field("appendSystemPrompt", "Append to the system prompt", <textarea rows={3} {...attrs("appendSystemPrompt")} />)}
        </details>
        {errors.other.length > 0 && (
          <div className="error" role="alert">
            {errors.other.map((m) => (
              <p key={m}>{m}</p>
            ))}
          </div>
        )}
        <div className="actions">
          <button type="submit" className="primary" disabled={sending}>
            {sending ? "Launching…" : "Launch"} <kbd>Ctrl/⌘+Enter</kbd>
          </button>
          <button type="button" className="quiet" onClick={() => navigate("/")}>
            Cancel
          </button>
        </div>
      </form>
    </main>
  )
}
