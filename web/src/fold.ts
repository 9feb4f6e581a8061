// The session as its events tell it: status, totals and the transcript, folded in the
// browser from the recorded events. The live view, the history's replay scrubber and the
// timeline all read this one fold, so "the session at revision N" is the same code as "the
// session now". It is deliberately small: the event types of src/domain/sessionEvents.ts,
// and Claude's message blocks (text, thinking, tool_use, tool_result).
import type { EventView } from "./api.ts"

export type Decision = "pending" | "allow" | "deny"

export interface ApprovalState {
  readonly approvalId: string
  readonly toolName: string
  readonly input: unknown
  readonly decision: Decision
  readonly decidedBy: string | null
  readonly message: string | null
  readonly reason: string | null
  readonly updatedInput: unknown
  readonly requestedAt: string
  readonly expiresAt: string | null
  readonly decidedAt: string | null
  readonly revision: number
  /** The ApprovalDecided event's revision. */
  readonly decidedRevision: number | null
  /** A question (AskUserQuestion) or a plan (ExitPlanMode) rather than a tool's permission. */
  readonly kind?: "question" | "plan"
  /** A question's answers. */
  readonly answers?: unknown
}

export interface Entry {
  /** Stable across updates (React key). */
  readonly key: string
  readonly kind:
    | "user_text"
    | "assistant_text"
    | "thinking"
    | "tool_call"
    | "result"
    | "system"
    | "error"
    | "interrupted"
    | "abandoned"
  readonly revision: number
  readonly at: string
  readonly runId: string | null
  readonly text?: string
  readonly parentToolUseId?: string | null
  readonly toolUseId?: string
  readonly toolName?: string
  readonly input?: unknown
  readonly result?: { readonly text: string; readonly isError: boolean; readonly at: string; readonly revision: number }
  readonly approval?: ApprovalState
  readonly data?: Record<string, unknown>
  /**
   * A prompt after the first: the uuid of Claude's last message before it (the main
   * conversation's, not a sub-agent's). A fork at that message (`atMessage`) is the
   * conversation as it stood when this prompt was sent, with another prompt in its place
   * (Claude does not echo prompts, so the prompt itself has no uuid to fork at).
   */
  readonly forkAt?: string
}

export interface Totals {
  readonly costUsd: number
  readonly inputTokens: number
  readonly outputTokens: number
  readonly turns: number
  readonly runs: number
}

/** Where each figure of the session comes from: the revisions of the events that made it. */
export interface Sources {
  /** ClaudeResult events: the cost, the tokens and the turns are their sums. */
  readonly results: ReadonlyArray<number>
  /** RunStarted events. */
  readonly runs: ReadonlyArray<number>
  /** ApprovalRequested events. */
  readonly approvals: ReadonlyArray<number>
  /** The event that set the status. */
  readonly status: number
}

export interface Folded {
  /** The last folded revision; -1 before any event. */
  readonly revision: number
  readonly status: string
  readonly title: string | null
  readonly archived: boolean
  readonly model: string | null
  readonly cwd: string | null
  readonly runId: string | null
  readonly parentSessionId: string | null
  readonly totals: Totals
  readonly sources: Sources
  readonly entries: ReadonlyArray<Entry>
  /** toolUseId -> index in entries. */
  readonly toolIndex: ReadonlyMap<string, number>
  /** approvalId -> toolUseId. */
  readonly approvals: ReadonlyMap<string, string>
  /** The uuid of Claude's last main-conversation message so far (a fork point). */
  readonly lastMessageUuid: string | null
}

export const emptyFold: Folded = {
  revision: -1,
  status: "unknown",
  title: null,
  archived: false,
  model: null,
  cwd: null,
  runId: null,
  parentSessionId: null,
  totals: { costUsd: 0, inputTokens: 0, outputTokens: 0, turns: 0, runs: 0 },
  sources: { results: [], runs: [], approvals: [], status: -1 },
  entries: [],
  toolIndex: new Map(),
  approvals: new Map(),
  lastMessageUuid: null
}

type Obj = Record<string, unknown>
const obj = (v: unknown): Obj => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {})
const str = (v: unknown): string | null => (typeof v === "string" ? v : null)
const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0)

/** Tool result content (a string or blocks) as text. */
export const resultText = (content: unknown): string =>
  typeof content === "string"
    ? content
    : Array.isArray(content)
      ? content.map((b) => (typeof b === "string" ? b : str(obj(b).text) ?? "")).join("\n")
      : ""

/** Folds events (in revision order) onto a state; events at or below its revision are skipped (resume without duplicates). */
export const fold = (state: Folded, events: ReadonlyArray<EventView>): Folded => {
  const fresh = events.filter((e) => e.revision > state.revision)
  if (fresh.length === 0) return state
  const s = {
    ...state,
    totals: { ...state.totals },
    sources: { ...state.sources },
    entries: state.entries.slice(),
    toolIndex: new Map(state.toolIndex),
    approvals: new Map(state.approvals)
  }
  for (const e of fresh) apply(s, e)
  return s
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }
type Draft = Mutable<Omit<Folded, "entries" | "toolIndex" | "approvals" | "totals" | "sources">> & {
  totals: Mutable<Totals>
  sources: Mutable<Sources>
  entries: Array<Entry>
  toolIndex: Map<string, number>
  approvals: Map<string, string>
}

const add = (s: Draft, e: EventView, entry: Omit<Entry, "key" | "revision" | "at" | "runId">, n = 0): void => {
  s.entries.push({ key: `${e.revision}.${n}`, revision: e.revision, at: e.created, runId: str(obj(e.data).runId), ...entry })
}

const updateTool = (s: Draft, toolUseId: string, f: (entry: Entry) => Entry): boolean => {
  const i = s.toolIndex.get(toolUseId)
  if (i === undefined) return false
  s.entries[i] = f(s.entries[i]!)
  return true
}

const pendingCount = (s: Draft): number => {
  let n = 0
  for (const toolUseId of s.approvals.values()) {
    const i = s.toolIndex.get(toolUseId)
    if (i !== undefined && s.entries[i]?.approval?.decision === "pending") n++
  }
  return n
}

const apply = (s: Draft, e: EventView): void => {
  s.revision = e.revision
  const d = obj(e.data)
  const status = s.status
  applyEvent(s, e, d)
  if (s.status !== status) s.sources.status = e.revision
}

const applyEvent = (s: Draft, e: EventView, d: Obj): void => {
  switch (e.type) {
    case "SessionLaunched":
    case "SessionForked": {
      const o = obj(d.options)
      s.status = "queued"
      s.title = str(o.title)
      s.model = str(o.model)
      s.cwd = str(o.cwd)
      s.runId = str(d.runId)
      s.parentSessionId = str(d.parentSessionId)
      add(s, e, { kind: "user_text", text: str(d.query) ?? "" })
      break
    }
    case "ContinueRequested":
      s.status = "queued"
      s.runId = str(d.runId)
      add(s, e, { kind: "user_text", text: str(d.query) ?? "", ...(s.lastMessageUuid !== null ? { forkAt: s.lastMessageUuid } : {}) })
      break
    // A draft shows as its options; its prompt becomes the first entry when it is launched
    // (SessionLaunched on the same stream).
    case "DraftCreated":
    case "DraftEdited": {
      const o = obj(d.options)
      if (e.type === "DraftCreated") s.status = "draft"
      s.title = str(o.title)
      s.model = str(o.model)
      s.cwd = str(o.cwd)
      break
    }
    case "DraftDiscarded":
      s.status = "discarded"
      break
    case "DraftRestored":
      s.status = "draft"
      break
    case "RunStarted":
      s.status = "running"
      s.totals.runs++
      s.sources.runs = [...s.sources.runs, e.revision]
      break
    case "ClaudeSystemEvent": {
      const m = obj(d.message)
      if (str(d.subtype) === "init") {
        s.model = str(m.model) ?? s.model
        s.cwd = str(m.cwd) ?? s.cwd
      }
      // Claude sends runs of small notices (init, thinking_tokens, …): one line per run of them.
      const label = str(d.subtype) === "init" && str(m.model) ? `init (${str(m.model)})` : (str(d.subtype) ?? "system")
      const last = s.entries[s.entries.length - 1]
      if (last?.kind === "system") s.entries[s.entries.length - 1] = { ...last, text: mergeNotice(last.text ?? "", label) }
      else add(s, e, { kind: "system", text: label, data: m })
      break
    }
    case "ClaudeAssistantMessage":
      assistant(s, e, obj(d.message))
      forkPoint(s, obj(d.message))
      break
    case "ClaudeUserMessage":
      user(s, e, obj(d.message))
      forkPoint(s, obj(d.message))
      break
    case "ClaudeResult": {
      const m = obj(d.message)
      const usage = obj(d.usage)
      s.totals.costUsd += num(d.runCostUsd)
      s.totals.inputTokens += num(usage.input_tokens)
      s.totals.outputTokens += num(usage.output_tokens)
      s.totals.turns += num(d.numTurns)
      s.sources.results = [...s.sources.results, e.revision]
      add(s, e, {
        kind: "result",
        text: str(m.result) ?? "",
        data: {
          subtype: d.subtype,
          isError: d.isError === true,
          runCostUsd: num(d.runCostUsd),
          numTurns: num(d.numTurns),
          durationMs: num(d.durationMs),
          inputTokens: num(usage.input_tokens),
          outputTokens: num(usage.output_tokens)
        }
      })
      break
    }
    case "ApprovalRequested": {
      const toolUseId = str(d.toolUseId) ?? ""
      const approval: ApprovalState = {
        approvalId: str(d.approvalId) ?? "",
        toolName: str(d.toolName) ?? "",
        input: d.input,
        decision: "pending",
        decidedBy: null,
        message: null,
        reason: null,
        updatedInput: undefined,
        requestedAt: e.created,
        expiresAt: str(d.expiresAt),
        decidedAt: null,
        revision: e.revision,
        decidedRevision: null,
        ...(d.kind === "question" || d.kind === "plan" ? { kind: d.kind } : {})
      }
      s.approvals.set(approval.approvalId, toolUseId)
      s.sources.approvals = [...s.sources.approvals, e.revision]
      // The approval usually follows its tool call; when it comes first, it gets an entry of its own.
      if (!updateTool(s, toolUseId, (t) => ({ ...t, approval }))) {
        s.toolIndex.set(toolUseId, s.entries.length)
        add(s, e, { kind: "tool_call", toolUseId, toolName: approval.toolName, input: d.input, approval })
      }
      s.status = "waiting_approval"
      break
    }
    case "ApprovalDecided": {
      const toolUseId = s.approvals.get(str(d.approvalId) ?? "")
      if (toolUseId !== undefined)
        updateTool(s, toolUseId, (t) =>
          t.approval === undefined
            ? t
            : {
                ...t,
                approval: {
                  ...t.approval,
                  decision: d.decision === "allow" ? "allow" : "deny",
                  decidedBy: str(d.decidedBy),
                  message: str(d.message),
                  reason: str(d.reason),
                  updatedInput: d.updatedInput,
                  ...(d.answers !== undefined ? { answers: d.answers } : {}),
                  decidedAt: e.created,
                  decidedRevision: e.revision
                }
              }
        )
      if (s.status === "waiting_approval" && pendingCount(s) === 0) s.status = "running"
      break
    }
    case "RunCompleted":
      s.status = "completed"
      break
    case "RunFailed":
      s.status = "failed"
      add(s, e, { kind: "error", text: str(d.error) ?? "the run failed" })
      break
    case "RunInterrupted":
      s.status = "interrupted"
      add(s, e, { kind: "interrupted" })
      break
    case "RunAbandoned":
      s.status = "abandoned"
      add(s, e, { kind: "abandoned", text: str(d.reason) ?? "" })
      break
    case "SessionArchived":
      s.archived = true
      break
    case "SessionUnarchived":
      s.archived = false
      break
    case "SessionRenamed":
      s.title = str(d.title)
      break
    // A session's controls: a line where they changed.
    case "PermissionModeChanged":
      add(s, e, {
        kind: "system",
        text:
          d.reason === "expired"
            ? `permission mode ${str(d.mode) ?? ""}: bypassPermissions expired`
            : `permission mode ${str(d.mode) ?? ""}${d.expiresAt ? ` until ${str(d.expiresAt) ?? ""}` : ""} (by ${str(d.changedBy) ?? ""})`,
        data: d
      })
      break
    case "ModelChanged":
      s.model = str(d.model) ?? s.model
      add(s, e, { kind: "system", text: `model ${str(d.model) ?? ""} (by ${str(d.changedBy) ?? ""})`, data: d })
      break
    // A continue sent during a run: a line where it was sent; its query is the prompt of the
    // run it becomes (ContinueRequested), once it starts.
    case "FollowUpQueued":
      add(s, e, { kind: "system", text: `follow-up queued: ${str(d.query) ?? ""}`, data: d })
      break
    case "FollowUpEdited":
      add(s, e, { kind: "system", text: `follow-up edited: ${str(d.query) ?? "(same query, new options)"}`, data: d })
      break
    case "FollowUpCancelled":
      add(s, e, { kind: "system", text: `follow-up cancelled (by ${str(d.cancelledBy) ?? ""})`, data: d })
      break
  }
}

const assistant = (s: Draft, e: EventView, m: Obj): void => {
  const inner = obj(m.message)
  const parentToolUseId = str(m.parent_tool_use_id)
  const content = inner.content
  if (typeof content === "string") return add(s, e, { kind: "assistant_text", text: content, parentToolUseId })
  if (!Array.isArray(content)) return
  content.forEach((raw, n) => {
    const b = obj(raw)
    if (b.type === "text") add(s, e, { kind: "assistant_text", text: str(b.text) ?? "", parentToolUseId }, n)
    else if (b.type === "thinking" || b.type === "redacted_thinking")
      add(s, e, { kind: "thinking", text: str(b.thinking) ?? "(redacted)", parentToolUseId }, n)
    else if (b.type === "tool_use" || b.type === "server_tool_use") {
      const toolUseId = str(b.id) ?? `${e.revision}.${n}`
      // An approval that arrived first already made the entry: fill in the call.
      if (updateTool(s, toolUseId, (t) => ({ ...t, input: b.input, parentToolUseId }))) return
      s.toolIndex.set(toolUseId, s.entries.length)
      add(s, e, { kind: "tool_call", toolUseId, toolName: str(b.name) ?? "tool", input: b.input, parentToolUseId }, n)
    }
  })
}

const user = (s: Draft, e: EventView, m: Obj): void => {
  if (m.isReplay === true) return
  const inner = obj(m.message)
  const content = inner.content
  const parentToolUseId = str(m.parent_tool_use_id)
  if (typeof content === "string") return add(s, e, { kind: "user_text", text: content, parentToolUseId })
  if (!Array.isArray(content)) return
  content.forEach((raw, n) => {
    const b = obj(raw)
    if (b.type === "tool_result") {
      const result = { text: resultText(b.content), isError: b.is_error === true, at: e.created, revision: e.revision }
      updateTool(s, str(b.tool_use_id) ?? "", (t) => ({ ...t, result }))
    } else if (b.type === "text") add(s, e, { kind: "user_text", text: str(b.text) ?? "", parentToolUseId }, n)
  })
}

/** The API forks at a message of Claude's session (it resumes that session up to it): main conversation only. */
const forkPoint = (s: Draft, m: Obj): void => {
  const uuid = str(m.uuid)
  if (uuid !== null && m.isReplay !== true && str(m.parent_tool_use_id) === null && str(m.session_id)) s.lastMessageUuid = uuid
}

/** "a · b ×2" + "b" -> "a · b ×3". */
export const mergeNotice = (line: string, label: string): string => {
  const parts = line.split(" · ")
  const m = /^(.*) ×(\d+)$/.exec(parts[parts.length - 1]!)
  const [name, n] = m ? [m[1]!, Number(m[2])] : [parts[parts.length - 1]!, 1]
  if (name === label) parts[parts.length - 1] = `${label} ×${n + 1}`
  else parts.push(label)
  return parts.join(" · ")
}

/** The fold of the events up to and including `revision` (the replay scrubber). */
export const foldUntil = (events: ReadonlyArray<EventView>, revision: number): Folded =>
  fold(emptyFold, events.filter((e) => e.revision <= revision))

export const pendingApprovals = (f: Folded): ReadonlyArray<Entry> =>
  f.entries.filter((x) => x.kind === "tool_call" && x.approval?.decision === "pending")

// ---- the timeline: spans on a time axis, from the same events ----

export interface Span {
  readonly kind: "run" | "tool" | "approval" | "interrupt"
  readonly label: string
  readonly start: number
  /** Open spans (still running) end at `now`. */
  readonly end: number | null
  readonly revision: number
  readonly outcome?: string
}

export const spans = (events: ReadonlyArray<EventView>): ReadonlyArray<Span> => {
  const out: Array<Span> = []
  const open = new Map<string, number>()
  const t = (e: EventView) => Date.parse(e.created)
  const close = (key: string, e: EventView, outcome?: string) => {
    const i = open.get(key)
    if (i === undefined) return
    open.delete(key)
    out[i] = { ...out[i]!, end: t(e), ...(outcome ? { outcome } : {}) }
  }
  const start = (key: string, span: Span) => {
    open.set(key, out.length)
    out.push(span)
  }
  for (const e of events) {
    const d = obj(e.data)
    switch (e.type) {
      case "RunStarted":
        start(`run:${str(d.runId)}`, { kind: "run", label: "run", start: t(e), end: null, revision: e.revision })
        break
      case "RunCompleted":
      case "RunFailed":
      case "RunInterrupted":
      case "RunAbandoned":
        close(`run:${str(d.runId)}`, e, e.type.slice(3).toLowerCase())
        break
      case "InterruptRequested":
        out.push({ kind: "interrupt", label: "interrupt", start: t(e), end: t(e), revision: e.revision })
        break
      case "ApprovalRequested":
        start(`approval:${str(d.approvalId)}`, {
          kind: "approval",
          label: `waiting: ${str(d.toolName)}`,
          start: t(e),
          end: null,
          revision: e.revision
        })
        break
      case "ApprovalDecided":
        close(`approval:${str(d.approvalId)}`, e, str(d.decision) ?? undefined)
        break
      case "ClaudeAssistantMessage":
        for (const raw of arrayOf(obj(obj(d.message).message).content)) {
          const b = obj(raw)
          if (b.type === "tool_use")
            start(`tool:${str(b.id)}`, { kind: "tool", label: str(b.name) ?? "tool", start: t(e), end: null, revision: e.revision })
        }
        break
      case "ClaudeUserMessage":
        for (const raw of arrayOf(obj(obj(d.message).message).content)) {
          const b = obj(raw)
          if (b.type === "tool_result") close(`tool:${str(b.tool_use_id)}`, e, b.is_error === true ? "error" : "ok")
        }
        break
    }
  }
  return out
}

const arrayOf = (v: unknown): ReadonlyArray<unknown> => (Array.isArray(v) ? v : [])
