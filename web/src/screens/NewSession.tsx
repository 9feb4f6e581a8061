// Launch a session: the query and the options of POST /v1/sessions. Ctrl/⌘+Enter launches;
// the API's field errors (problem+json `errors[].path`) show under the field they name.
// The same form writes a draft (POST /v1/drafts) and, at /new?draft=<id>, edits, launches,
// discards or restores one.
import { useQuery, useQueryClient } from "@tanstack/react-query"
import { useEffect, useMemo, useRef, useState } from "react"
import { ApiError, client, ok, type Schemas } from "../api.ts"
import { navigate, useLocation } from "../router.ts"

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

/** A recorded draft (GET /v1/sessions/{id}) as the form's fields. */
export const formOf = (d: Schemas["Session"]): Form => {
  const o: Partial<Record<string, unknown>> = d.options !== null && typeof d.options === "object" && !Array.isArray(d.options) ? { ...d.options } : {}
  const text = (v: unknown) => (typeof v === "string" ? v : typeof v === "number" ? String(v) : "")
  const list = (v: unknown) => (Array.isArray(v) ? v.filter((t) => typeof t === "string").join(", ") : "")
  return {
    query: d.query,
    cwd: d.cwd ?? "",
    title: d.title ?? "",
    model: d.model ?? "",
    permissionMode: text(o.permissionMode),
    maxTurns: text(o.maxTurns),
    systemPrompt: text(o.systemPrompt),
    appendSystemPrompt: text(o.appendSystemPrompt),
    allowedTools: list(o.allowedTools),
    disallowedTools: list(o.disallowedTools)
  }
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
  const { params } = useLocation()
  const draftId = params.get("draft")
  const [form, setForm] = useState<Form>(emptyForm)
  const [errors, setErrors] = useState<{ fields: Partial<Record<keyof Form, string>>; other: Array<string> }>({ fields: {}, other: [] })
  const [sending, setSending] = useState(false)
  const [saved, setSaved] = useState<string | null>(null)
  const idempotencyKey = useMemo(() => crypto.randomUUID(), [])
  const queryRef = useRef<HTMLTextAreaElement>(null)
  const queryClient = useQueryClient()
  useEffect(() => queryRef.current?.focus(), [])

  // A draft: read at the position of the last command on it, so what is shown is never older.
  const [position, setPosition] = useState<string | undefined>(undefined)
  const draft = useQuery({
    queryKey: ["sessions", "draft", draftId, position],
    queryFn: ({ signal }) => ok(client.GET("/v1/sessions/{id}", { params: { path: { id: draftId ?? "" }, query: { minPosition: position } }, signal })),
    enabled: draftId !== null
  })
  const [filledFrom, setFilledFrom] = useState<string | null>(null)
  useEffect(() => {
    if (draft.data && draft.data.sessionId !== filledFrom) {
      setForm(formOf(draft.data))
      setFilledFrom(draft.data.sessionId)
    }
  }, [draft.data, filledFrom])
  const status = draftId === null ? null : (draft.data?.status ?? null)

  // The directories of recent sessions, offered for the working directory.
  const recent = useQuery({
    queryKey: ["sessions", "recent-cwds"],
    queryFn: ({ signal }) => ok(client.GET("/v1/sessions", { params: { query: { limit: 100 } }, signal }))
  })
  const cwds = useMemo(() => [...new Set((recent.data?.items ?? []).map((s) => s.cwd).filter((c): c is string => !!c))].slice(0, 10), [recent.data])

  const set = (k: keyof Form) => (e: React.ChangeEvent<HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>) => setForm((f) => ({ ...f, [k]: e.target.value }))

  const failed = (e: unknown) => {
    setSending(false)
    setErrors(e instanceof ApiError ? errorsByField(e) : { fields: {}, other: [String(e)] })
    const first = e instanceof ApiError ? Object.keys(errorsByField(e).fields)[0] : undefined
    if (first) document.getElementById(`f-${first}`)?.focus()
  }
  /** Runs a command of the form: errors under their fields, the lists read again after. */
  const act = async (f: () => Promise<void>) => {
    setSending(true)
    setSaved(null)
    setErrors({ fields: {}, other: [] })
    try {
      await f()
      setSending(false)
      void queryClient.invalidateQueries({ queryKey: ["sessions"] })
    } catch (e) {
      failed(e)
    }
  }

  const submit = async () => {
    if (form.query.trim() === "") {
      setErrors({ fields: { query: "Say what Claude should do." }, other: [] })
      queryRef.current?.focus()
      return
    }
    if (draftId !== null)
      return act(async () => {
        // The form as shown is what launches: the edits first, then the launch of the draft.
        await ok(client.PATCH("/v1/drafts/{id}", { params: { path: { id: draftId } }, body: launchBody(form) }))
        const r = await ok(client.POST("/v1/drafts/{id}/launch", { params: { path: { id: draftId }, header: { "Idempotency-Key": idempotencyKey } } }))
        navigate(`/sessions/${r.sessionId}`)
      })
    return act(async () => {
      const r = await ok(client.POST("/v1/sessions", { body: launchBody(form), params: { header: { "Idempotency-Key": idempotencyKey } } }))
      navigate(`/sessions/${r.sessionId}`)
    })
  }

  /** Save as a draft (a new one, or the edits of the one shown). */
  const saveDraft = () =>
    act(async () => {
      const body: Schemas["Draft"] = launchBody(form)
      const r =
        draftId === null
          ? await ok(client.POST("/v1/drafts", { body, params: { header: { "Idempotency-Key": crypto.randomUUID() } } }))
          : await ok(client.PATCH("/v1/drafts/{id}", { params: { path: { id: draftId } }, body }))
      setPosition(r.position ?? undefined)
      setFilledFrom(r.sessionId)
      setSaved(`Draft saved at ${new Date().toLocaleTimeString()}.`)
      if (draftId === null) navigate(`/new?draft=${r.sessionId}`, true)
    })
  const housekeeping = (what: "discard" | "restore") =>
    act(async () => {
      if (draftId === null) return
      const init = { params: { path: { id: draftId } } }
      const r = await ok(what === "discard" ? client.POST("/v1/drafts/{id}/discard", init) : client.POST("/v1/drafts/{id}/restore", init))
      if (what === "discard") navigate("/")
      else setPosition(r.position ?? undefined)
    })

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

  if (draftId !== null && draft.error)
    return (
      <main className="new-session">
        <h2>Draft</h2>
        <p className="error" role="alert">
          Could not read the draft: {draft.error.message}
        </p>
      </main>
    )
  const discarded = status === "discarded"
  const launched = status !== null && status !== "draft" && !discarded
  return (
    <main className="new-session">
      <h2>{draftId === null ? "New session" : discarded ? "Draft (discarded)" : "Draft"}</h2>
      {launched && (
        <p className="muted" role="status">
          This draft was launched:{" "}
          <a href={`/sessions/${draftId}`} onClick={(e) => (e.preventDefault(), navigate(`/sessions/${draftId}`))}>
            open the session
          </a>
          .
        </p>
      )}
      {discarded && (
        <p className="muted" role="status">
          This draft was discarded. Restore it to edit or launch it.
        </p>
      )}
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
          {discarded ? (
            <button type="button" className="primary" disabled={sending} onClick={() => void housekeeping("restore")}>
              Restore the draft
            </button>
          ) : (
            <>
              <button type="submit" className="primary" disabled={sending || launched}>
                {sending ? "Sending…" : draftId === null ? "Launch" : "Launch the draft"} <kbd>Ctrl/⌘+Enter</kbd>
              </button>
              <button type="button" disabled={sending || launched} onClick={() => void saveDraft()}>
                {draftId === null ? "Save as draft" : "Save the draft"}
              </button>
              {draftId !== null && (
                <button type="button" className="quiet" disabled={sending || launched} onClick={() => void housekeeping("discard")}>
                  Discard the draft
                </button>
              )}
            </>
          )}
          <button type="button" className="quiet" onClick={() => navigate("/")}>
            Cancel
          </button>
          {saved && (
            <span className="muted" role="status">
              {saved}
            </span>
          )}
        </div>
      </form>
    </main>
  )
}
