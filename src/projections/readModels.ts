// ReadModels: the queries the HTTP layer runs against read.db. Lists page with opaque
// keyset cursors (stable under inserts: a page boundary is a key, never an offset).
// Rows come back camelCased with JSON columns parsed.
import type { DatabaseSync, SQLInputValue } from "node:sqlite"
import { Context, Data, Effect, Layer } from "effect"
import type { Position } from "../eventstore/eventStore.ts"
import { decodePosition, encodePosition } from "../eventstore/position.ts"
import { isoTime } from "./projectedEvent.ts"
import { ReadDb, ReadDbError, sql } from "./readDb.ts"

/** A client-supplied filter or cursor that cannot be used (HTTP 400). */
export class InvalidQuery extends Data.TaggedError("InvalidQuery")<{ readonly field: string; readonly reason: string }> {
  override get message() {
    return `${this.field}: ${this.reason}`
  }
}

export type ReadModelError = InvalidQuery | ReadDbError

export interface Page<A> {
  readonly items: ReadonlyArray<A>
  /** Pass as `cursor` for the next page; null on the last page. */
  readonly nextCursor: string | null
}

export interface SessionRow {
  readonly sessionId: string
  readonly status: string
  readonly archived: boolean
  readonly title: string | null
  /** The first query of the session. */
  readonly query: string
  /** Model and cwd of the current run. */
  readonly model: string | null
  readonly cwd: string | null
  /** Options as launched (secrets redacted). */
  readonly options: unknown
  readonly parentSessionId: string | null
  readonly claudeSessionId: string | null
  /** The current run, or the last one once it ended. */
  readonly runId: string
  readonly runs: number
  readonly turns: number
  readonly costUsd: number
  readonly inputTokens: number
  readonly outputTokens: number
  readonly cacheReadTokens: number
  readonly cacheCreationTokens: number
  readonly pendingApprovals: number
  readonly lastError: string | null
  readonly createdAt: string
  /** Last activity: the time of the session's newest event. */
  readonly updatedAt: string
  readonly lastRevision: number
  /** Opaque position of the session's newest event. */
  readonly lastPosition: string
}

export interface TranscriptEntry {
  readonly sessionId: string
  readonly seq: number
  readonly revision: number
  readonly runId: string | null
  /** user_text | assistant_text | thinking | tool_call | tool_result | result | system | error | interrupted | abandoned | other */
  readonly kind: string
  readonly text: string | null
  readonly messageUuid: string | null
  readonly parentToolUseId: string | null
  readonly toolUseId: string | null
  readonly toolName: string | null
  readonly input: unknown
  /** tool_call / tool_result: what the tool returned (null while it has not). */
  readonly result: {
    readonly text: string | null
    readonly content: unknown
    readonly isError: boolean
    readonly revision: number | null
    readonly at: string | null
  } | null
  /** tool_call: the approval it needed, if any. */
  readonly approval: {
    readonly approvalId: string
    readonly decision: string
    readonly decidedBy: string | null
    readonly message: string | null
  } | null
  readonly isError: boolean | null
  /** Details of the kind: result figures, the system message, the unknown block, … */
  readonly data: unknown
  readonly createdAt: string
}

export interface ToolCallRow {
  readonly sessionId: string
  readonly toolUseId: string
  readonly runId: string | null
  readonly toolName: string | null
  readonly input: unknown
  readonly approvalId: string | null
  /** null when no approval was needed; else pending | allow | deny. */
  readonly decision: string | null
  readonly decidedBy: string | null
  readonly decisionMessage: string | null
  readonly decisionReason: string | null
  readonly updatedInput: unknown
  readonly resultText: string | null
  readonly result: unknown
  readonly isError: boolean | null
  readonly requestedAt: string
  readonly decidedAt: string | null
  readonly completedAt: string | null
  readonly durationMs: number | null
}

export interface ApprovalRow {
  readonly approvalId: string
  readonly sessionId: string
  readonly runId: string | null
  readonly toolUseId: string | null
  readonly toolName: string | null
  readonly input: unknown
  readonly suggestions: unknown
  readonly status: "pending" | "allowed" | "denied"
  readonly decidedBy: string | null
  readonly message: string | null
  readonly reason: string | null
  readonly updatedInput: unknown
  readonly requestedAt: string
  readonly decidedAt: string | null
  readonly expiresAt: string | null
}

export interface EventIndexRow {
  /** Opaque position (encodePosition); also the cursor form. */
  readonly position: string
  readonly stream: string
  readonly sessionId: string | null
  readonly revision: number
  readonly eventId: string
  readonly type: string
  readonly runId: string | null
  readonly source: string | null
  readonly correlationId: string | null
  readonly causationId: string | null
  readonly recordedAt: string
  readonly createdAt: string | null
}

type OneOrMany = string | ReadonlyArray<string>

export interface ListSessionsQuery {
  readonly status?: OneOrMany
  /** undefined: archived and not archived alike. */
  readonly archived?: boolean
  /** Substring of the first query or the title (case-insensitive for ASCII). */
  readonly q?: string
  readonly limit?: number
  readonly cursor?: string
}

export interface ToolCallsQuery {
  readonly tool?: OneOrMany
  readonly session?: string
  /** allow | deny | pending | none (no approval needed). */
  readonly decision?: OneOrMany
  /** requested_at >= after (ISO 8601). */
  readonly after?: string
  /** requested_at < before (ISO 8601). */
  readonly before?: string
  readonly limit?: number
  readonly cursor?: string
}

export interface ApprovalsQuery {
  /** pending | allowed | denied */
  readonly status?: OneOrMany
  readonly session?: string
  readonly limit?: number
  readonly cursor?: string
}

export interface EventsQuery {
  readonly type?: OneOrMany
  readonly session?: string
  /** recordedAt >= after (ISO 8601). */
  readonly after?: string
  /** recordedAt < before (ISO 8601). */
  readonly before?: string
  /** asc (default): oldest first, the store's order; desc: newest first. */
  readonly order?: "asc" | "desc"
  readonly limit?: number
  readonly cursor?: string
}

export interface TranscriptQuery {
  /** Only entries with seq > afterSeq. */
  readonly afterSeq?: number
  readonly limit?: number
}

export interface ReadModelsShape {
  /** Newest activity first. */
  readonly listSessions: (query?: ListSessionsQuery) => Effect.Effect<Page<SessionRow>, ReadModelError>
  readonly getSession: (sessionId: string) => Effect.Effect<SessionRow | null, ReadModelError>
  /** Entries in seq order; an unknown session has none. */
  readonly transcript: (
    sessionId: string,
    query?: TranscriptQuery
  ) => Effect.Effect<ReadonlyArray<TranscriptEntry>, ReadModelError>
  /** Newest first (requested_at, then session and tool use id). */
  readonly toolCalls: (query?: ToolCallsQuery) => Effect.Effect<Page<ToolCallRow>, ReadModelError>
  /** Newest first (requested_at, then approval id). */
  readonly approvals: (query?: ApprovalsQuery) => Effect.Effect<Page<ApprovalRow>, ReadModelError>
  readonly approval: (approvalId: string) => Effect.Effect<ApprovalRow | null, ReadModelError>
  /** The audit index over every session stream, in position order. */
  readonly events: (query?: EventsQuery) => Effect.Effect<Page<EventIndexRow>, ReadModelError>
}

export class ReadModels extends Context.Service<ReadModels, ReadModelsShape>()("agentlog/ReadModels") {}

// ---- helpers ----

export const defaultLimit = 50
export const maxLimit = 500

const limitOf = (limit: number | undefined): number => {
  if (limit === undefined) return defaultLimit
  if (!Number.isInteger(limit) || limit < 1) throw new InvalidQuery({ field: "limit", reason: "must be a positive integer" })
  return Math.min(limit, maxLimit)
}

const many = (v: OneOrMany | undefined): ReadonlyArray<string> =>
  v === undefined ? [] : typeof v === "string" ? [v] : v

const encodeCursor = (key: ReadonlyArray<string>): string => Buffer.from(JSON.stringify(key)).toString("base64url")

const decodeCursor = (cursor: string, arity: number): ReadonlyArray<string> => {
  const invalid = () => new InvalidQuery({ field: "cursor", reason: "not a cursor this list issued" })
  let key: unknown
  try {
    key = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"))
  } catch {
    throw invalid()
  }
  if (!Array.isArray(key) || key.length !== arity || !key.every((k) => typeof k === "string")) throw invalid()
  return key as ReadonlyArray<string>
}

const timeOf = (field: string, v: string | undefined): string | null => {
  if (v === undefined) return null
  const t = isoTime(v)
  if (t === null) throw new InvalidQuery({ field, reason: "not an ISO 8601 time" })
  return t
}

const parse = (text: unknown): unknown => {
  if (typeof text !== "string") return null
  try {
    return JSON.parse(text)
  } catch {
    return null
  }
}

const flag = (v: unknown): boolean | null => (v === null || v === undefined ? null : Number(v) !== 0)

/** WHERE clause builder: conditions joined with AND, parameters in order. */
class Where {
  readonly parts: Array<string> = []
  readonly params: Array<SQLInputValue> = []
  add(condition: string, ...params: Array<SQLInputValue>): this {
    this.parts.push(condition)
    this.params.push(...params)
    return this
  }
  in(column: string, values: ReadonlyArray<SQLInputValue>): this {
    if (values.length > 0) this.add(`${column} IN (${values.map(() => "?").join(", ")})`, ...values)
    return this
  }
  get sql(): string {
    return this.parts.length === 0 ? "" : `WHERE ${this.parts.join(" AND ")}`
  }
}

type Row = Record<string, unknown>

const page = <A>(rows: ReadonlyArray<Row>, limit: number, toItem: (r: Row) => A, key: (r: Row) => ReadonlyArray<string>): Page<A> => {
  const more = rows.length > limit
  const kept = more ? rows.slice(0, limit) : rows
  return { items: kept.map(toItem), nextCursor: more ? encodeCursor(key(kept[kept.length - 1]!)) : null }
}

const likePattern = (q: string): string => `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`

// ---- row mappers ----

const toSession = (r: Row): SessionRow => ({
  sessionId: r.session_id as string,
  status: r.status as string,
  archived: Number(r.archived) !== 0,
  title: r.title as string | null,
  query: r.query as string,
  model: r.model as string | null,
  cwd: r.cwd as string | null,
  options: parse(r.options),
  parentSessionId: r.parent_session_id as string | null,
  claudeSessionId: r.claude_session_id as string | null,
  runId: r.run_id as string,
  runs: Number(r.runs),
  turns: Number(r.turns),
  costUsd: Number(r.cost_usd),
  inputTokens: Number(r.input_tokens),
  outputTokens: Number(r.output_tokens),
  cacheReadTokens: Number(r.cache_read_tokens),
  cacheCreationTokens: Number(r.cache_creation_tokens),
  pendingApprovals: Number(r.pending_approvals),
  lastError: r.last_error as string | null,
  createdAt: r.created_at as string,
  updatedAt: r.updated_at as string,
  lastRevision: Number(r.last_revision),
  lastPosition: r.last_position as string
})

/**
 * The transcript's columns in the order its query reads them. The query returns arrays
 * (setReturnArrays): for 22 columns, an object with named keys per row cost a third of a
 * 10,000-event transcript's read.
 */
const transcriptColumns = [
  "session_id", "seq", "revision", "run_id", "kind", "text", "message_uuid", "parent_tool_use_id", "tool_use_id",
  "tool_name", "input", "result_text", "result", "is_error", "result_revision", "result_at", "approval_id", "decision",
  "decided_by", "decision_message", "data", "created_at"
].join(", ")

const toEntry = (row: ReadonlyArray<unknown>): TranscriptEntry => {
  const [
    session_id, seq, revision, run_id, kind, text, message_uuid, parent_tool_use_id, tool_use_id, tool_name, input,
    result_text, result, is_error, result_revision, result_at, approval_id, decision, decided_by, decision_message,
    data, created_at
  ] = row
  const hasResult = result_at !== null || result !== null || result_text !== null
  return {
    sessionId: session_id as string,
    seq: Number(seq),
    revision: Number(revision),
    runId: run_id as string | null,
    kind: kind as string,
    text: text as string | null,
    messageUuid: message_uuid as string | null,
    parentToolUseId: parent_tool_use_id as string | null,
    toolUseId: tool_use_id as string | null,
    toolName: tool_name as string | null,
    input: parse(input),
    result: hasResult
      ? {
          text: result_text as string | null,
          content: parse(result),
          isError: flag(is_error) ?? false,
          revision: result_revision === null ? null : Number(result_revision),
          at: result_at as string | null
        }
      : null,
    approval:
      approval_id === null
        ? null
        : {
            approvalId: approval_id as string,
            decision: decision as string,
            decidedBy: decided_by as string | null,
            message: decision_message as string | null
          },
    isError: flag(is_error),
    data: parse(data),
    createdAt: created_at as string
  }
}

const toToolCall = (r: Row): ToolCallRow => ({
  sessionId: r.session_id as string,
  toolUseId: r.tool_use_id as string,
  runId: r.run_id as string | null,
  toolName: r.tool_name as string | null,
  input: parse(r.input),
  approvalId: r.approval_id as string | null,
  decision: r.decision as string | null,
  decidedBy: r.decided_by as string | null,
  decisionMessage: r.decision_message as string | null,
  decisionReason: r.decision_reason as string | null,
  updatedInput: parse(r.updated_input),
  resultText: r.result_text as string | null,
  result: parse(r.result),
  isError: flag(r.is_error),
  requestedAt: r.requested_at as string,
  decidedAt: r.decided_at as string | null,
  completedAt: r.completed_at as string | null,
  durationMs: r.duration_ms === null ? null : Number(r.duration_ms)
})

const toApproval = (r: Row): ApprovalRow => ({
  approvalId: r.approval_id as string,
  sessionId: r.session_id as string,
  runId: r.run_id as string | null,
  toolUseId: r.tool_use_id as string | null,
  toolName: r.tool_name as string | null,
  input: parse(r.input),
  suggestions: parse(r.suggestions),
  status: r.status as ApprovalRow["status"],
  decidedBy: r.decided_by as string | null,
  message: r.message as string | null,
  reason: r.reason as string | null,
  updatedInput: parse(r.updated_input),
  requestedAt: r.requested_at as string,
  decidedAt: r.decided_at as string | null,
  expiresAt: r.expires_at as string | null
})

const positionText = (r: Row): string =>
  encodePosition({ commit: BigInt(r.commit_position as bigint), prepare: BigInt(r.prepare_position as bigint) })

const toEventRow = (r: Row): EventIndexRow => ({
  position: positionText(r),
  stream: r.stream as string,
  sessionId: r.session_id as string | null,
  revision: Number(r.revision),
  eventId: r.event_id as string,
  type: r.type as string,
  runId: r.run_id as string | null,
  source: r.source as string | null,
  correlationId: r.correlation_id as string | null,
  causationId: r.causation_id as string | null,
  recordedAt: r.recorded_at as string,
  createdAt: r.created_at as string | null
})

// ---- queries (synchronous; they throw InvalidQuery or SQLite errors) ----

export const makeReadModelQueries = (db: DatabaseSync) => {
  const all = (text: string, params: ReadonlyArray<SQLInputValue>, bigInts = false): Array<Row> => {
    const s = sql(db, text)
    s.setReadBigInts(bigInts)
    return s.all(...params) as Array<Row>
  }

  const listSessions = (q: ListSessionsQuery = {}): Page<SessionRow> => {
    const limit = limitOf(q.limit)
    const w = new Where().in("status", many(q.status))
    if (q.archived !== undefined) w.add("archived = ?", q.archived ? 1 : 0)
    if (q.q !== undefined && q.q.length > 0) {
      const p = likePattern(q.q)
      w.add("(query LIKE ? ESCAPE '\\' OR title LIKE ? ESCAPE '\\')", p, p)
    }
    if (q.cursor !== undefined) {
      const [at, id] = decodeCursor(q.cursor, 2)
      w.add("(updated_at < ? OR (updated_at = ? AND session_id < ?))", at!, at!, id!)
    }
    const rows = all(`SELECT * FROM sessions ${w.sql} ORDER BY updated_at DESC, session_id DESC LIMIT ?`, [...w.params, limit + 1])
    return page(rows, limit, toSession, (r) => [r.updated_at as string, r.session_id as string])
  }

  const getSession = (sessionId: string): SessionRow | null => {
    const r = sql(db, "SELECT * FROM sessions WHERE session_id = ?").get(sessionId) as Row | undefined
    return r === undefined ? null : toSession(r)
  }

  const transcript = (sessionId: string, q: TranscriptQuery = {}): ReadonlyArray<TranscriptEntry> => {
    if (q.afterSeq !== undefined && !Number.isInteger(q.afterSeq))
      throw new InvalidQuery({ field: "afterSeq", reason: "must be an integer" })
    const limit = q.limit === undefined ? -1 : limitOf(q.limit)
    // Its own statement (no other query has this text), so returning arrays affects no one else.
    const s = sql(db, `SELECT ${transcriptColumns} FROM transcript WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?`)
    s.setReadBigInts(false)
    s.setReturnArrays(true)
    return (s.all(sessionId, q.afterSeq ?? 0, limit) as unknown as Array<ReadonlyArray<unknown>>).map(toEntry)
  }

  const toolCalls = (q: ToolCallsQuery = {}): Page<ToolCallRow> => {
    const limit = limitOf(q.limit)
    const w = new Where().in("tool_name", many(q.tool))
    if (q.session !== undefined) w.add("session_id = ?", q.session)
    const decisions = many(q.decision)
    for (const d of decisions)
      if (!["allow", "deny", "pending", "none"].includes(d))
        throw new InvalidQuery({ field: "decision", reason: "one of allow, deny, pending, none" })
    if (decisions.length > 0) {
      const named = decisions.filter((d) => d !== "none")
      const conditions = [
        ...(named.length > 0 ? [`decision IN (${named.map(() => "?").join(", ")})`] : []),
        ...(decisions.includes("none") ? ["decision IS NULL"] : [])
      ]
      w.add(`(${conditions.join(" OR ")})`, ...named)
    }
    const afterT = timeOf("after", q.after)
    const beforeT = timeOf("before", q.before)
    if (afterT !== null) w.add("requested_at >= ?", afterT)
    if (beforeT !== null) w.add("requested_at < ?", beforeT)
    if (q.cursor !== undefined) {
      const [at, s, t] = decodeCursor(q.cursor, 3)
      w.add(
        "(requested_at < ? OR (requested_at = ? AND (session_id < ? OR (session_id = ? AND tool_use_id < ?))))",
        at!,
        at!,
        s!,
        s!,
        t!
      )
    }
    const rows = all(
      `SELECT * FROM tool_calls ${w.sql} ORDER BY requested_at DESC, session_id DESC, tool_use_id DESC LIMIT ?`,
      [...w.params, limit + 1]
    )
    return page(rows, limit, toToolCall, (r) => [r.requested_at as string, r.session_id as string, r.tool_use_id as string])
  }

  const approvals = (q: ApprovalsQuery = {}): Page<ApprovalRow> => {
    const limit = limitOf(q.limit)
    const statuses = many(q.status)
    for (const s of statuses)
      if (!["pending", "allowed", "denied"].includes(s))
        throw new InvalidQuery({ field: "status", reason: "one of pending, allowed, denied" })
    const w = new Where().in("status", statuses)
    if (q.session !== undefined) w.add("session_id = ?", q.session)
    if (q.cursor !== undefined) {
      const [at, id] = decodeCursor(q.cursor, 2)
      w.add("(requested_at < ? OR (requested_at = ? AND approval_id < ?))", at!, at!, id!)
    }
    const rows = all(`SELECT * FROM approvals ${w.sql} ORDER BY requested_at DESC, approval_id DESC LIMIT ?`, [
      ...w.params,
      limit + 1
    ])
    return page(rows, limit, toApproval, (r) => [r.requested_at as string, r.approval_id as string])
  }

  const approval = (approvalId: string): ApprovalRow | null => {
    const r = sql(db, "SELECT * FROM approvals WHERE approval_id = ?").get(approvalId) as Row | undefined
    return r === undefined ? null : toApproval(r)
  }

  const events = (q: EventsQuery = {}): Page<EventIndexRow> => {
    const limit = limitOf(q.limit)
    const desc = q.order === "desc"
    const w = new Where().in("type", many(q.type))
    if (q.session !== undefined) w.add("session_id = ?", q.session)
    const afterT = timeOf("after", q.after)
    const beforeT = timeOf("before", q.before)
    if (afterT !== null) w.add("recorded_at >= ?", afterT)
    if (beforeT !== null) w.add("recorded_at < ?", beforeT)
    if (q.cursor !== undefined) {
      const p: Position | null = decodePosition(q.cursor)
      if (p === null) throw new InvalidQuery({ field: "cursor", reason: "not a cursor this list issued" })
      const op = desc ? "<" : ">"
      w.add(
        `(commit_position ${op} ? OR (commit_position = ? AND prepare_position ${op} ?))`,
        p.commit,
        p.commit,
        p.prepare
      )
    }
    const dir = desc ? "DESC" : "ASC"
    const rows = all(
      `SELECT * FROM events_index ${w.sql} ORDER BY commit_position ${dir}, prepare_position ${dir} LIMIT ?`,
      [...w.params, limit + 1],
      true
    )
    const more = rows.length > limit
    const kept = more ? rows.slice(0, limit) : rows
    return { items: kept.map(toEventRow), nextCursor: more ? positionText(kept[kept.length - 1]!) : null }
  }

  return { listSessions, getSession, transcript, toolCalls, approvals, approval, events }
}

/** The queries as Effects: InvalidQuery for bad input, ReadDbError when SQLite fails. */
export const makeReadModels = (db: DatabaseSync): ReadModelsShape => {
  const q = makeReadModelQueries(db)
  const lift =
    <Args extends ReadonlyArray<unknown>, A>(f: (...args: Args) => A) =>
    (...args: Args): Effect.Effect<A, ReadModelError> =>
      Effect.try({
        try: () => f(...args),
        catch: (e) =>
          e instanceof InvalidQuery
            ? e
            : new ReadDbError({ reason: `reading read models: ${e instanceof Error ? e.message : String(e)}` })
      })
  return {
    listSessions: lift(q.listSessions),
    getSession: lift(q.getSession),
    transcript: lift(q.transcript),
    toolCalls: lift(q.toolCalls),
    approvals: lift(q.approvals),
    approval: lift(q.approval),
    events: lift(q.events)
  }
}

export const ReadModelsLive: Layer.Layer<ReadModels, never, ReadDb> = Layer.effect(
  ReadModels,
  Effect.gen(function* () {
    const { db } = yield* ReadDb
    return makeReadModels(db)
  })
)
