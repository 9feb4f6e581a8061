// ReadModels: the queries the HTTP layer runs against read.db, one read model per folder
// (src/projections/<model>/: its table, its event handler, its queries), put together
// here as one service. Rows come back camelCased with JSON columns parsed.
import type { DatabaseSync } from "node:sqlite"
import { Context, Effect, Layer } from "effect"
import type { Session } from "../domain/sessionState.ts"
import { approvalQueries, type ApprovalRow, type ApprovalsQuery } from "./approvals/queries.ts"
import { eventsIndexQueries, type EventIndexRow, type EventsQuery } from "./eventsIndex/queries.ts"
import { fileQueries, type FileHistoryRow, type FileTouchedRow } from "./files/queries.ts"
import { type AttemptGroupRow, groupQueries } from "./groups/queries.ts"
import { InvalidQuery, type Page, type ReadModelError } from "./paging.ts"
import { ReadDb, ReadDbError } from "./readDb.ts"
import { type ListSessionsQuery, sessionQueries, type SessionRow, type SessionsJsonPage } from "./sessions/queries.ts"
import { toolCallQueries, type ToolCallRow, type ToolCallsQuery } from "./toolCalls/queries.ts"
import {
  type SearchHit,
  type SearchQuery,
  transcriptQueries,
  type TranscriptEntry,
  type TranscriptJson,
  type TranscriptQuery
} from "./transcript/queries.ts"

export type {
  ApprovalRow,
  ApprovalsQuery,
  EventIndexRow,
  EventsQuery,
  ListSessionsQuery,
  Page,
  ReadModelError,
  SearchHit,
  SearchQuery,
  SessionRow,
  ToolCallRow,
  ToolCallsQuery,
  TranscriptEntry,
  TranscriptQuery
}
export { InvalidQuery }
export { defaultLimit, maxLimit } from "./paging.ts"

export interface ReadModelsShape {
  /** Newest session first (by creation: a stable order for paging), as the API's JSON text. */
  readonly listSessionsJson: (query?: ListSessionsQuery) => Effect.Effect<SessionsJsonPage, ReadModelError>
  readonly getSession: (sessionId: string) => Effect.Effect<SessionRow | null, ReadModelError>
  /** Sessions forked from this one, oldest first. */
  readonly children: (
    sessionId: string
  ) => Effect.Effect<
    ReadonlyArray<{ readonly sessionId: string; readonly forkedAt: string | null; readonly status: string; readonly title: string | null }>,
    ReadModelError
  >
  readonly recentDirectories: (
    limit?: number
  ) => Effect.Effect<ReadonlyArray<{ readonly path: string; readonly lastUsedAt: string; readonly sessions: number }>, ReadModelError>
  /**
   * Entries in seq order, as the API's JSON text (the transcript route writes it out as
   * it is); an unknown session has none.
   */
  readonly transcriptJson: (sessionId: string, query?: TranscriptQuery) => Effect.Effect<TranscriptJson, ReadModelError>
  /** Transcript entries that contain every word, best match first. */
  readonly search: (query: SearchQuery) => Effect.Effect<ReadonlyArray<SearchHit>, ReadModelError>
  /** Newest first (requested_at, then session and tool use id). */
  readonly toolCalls: (query?: ToolCallsQuery) => Effect.Effect<Page<ToolCallRow>, ReadModelError>
  /** Newest first (requested_at, then approval id). */
  readonly approvals: (query?: ApprovalsQuery) => Effect.Effect<Page<ApprovalRow>, ReadModelError>
  readonly approval: (approvalId: string) => Effect.Effect<ApprovalRow | null, ReadModelError>
  /** The audit report's page: requested in [from, to), oldest first, after a row's key. */
  readonly approvalsInRange: (query: Parameters<ReturnType<typeof approvalQueries>["approvalsInRange"]>[0]) => Effect.Effect<ReadonlyArray<ApprovalRow>, ReadModelError>
  /** The sessions model's fold of a session and the revision it is at (see sessionSnapshot). */
  readonly sessionSnapshot: (sessionId: string) => Effect.Effect<{ readonly state: Session; readonly revision: number } | null, ReadModelError>
  /** The audit index over every session stream, in position order. */
  readonly events: (query?: EventsQuery) => Effect.Effect<Page<EventIndexRow>, ReadModelError>
  /** Parallel attempts: one launch's sessions by attempt (null: no such group). */
  readonly attemptGroup: (groupId: string) => Effect.Effect<AttemptGroupRow | null, ReadModelError>
  /** Files a session read, edited or wrote, by path. */
  readonly filesTouched: (sessionId: string) => Effect.Effect<ReadonlyArray<FileTouchedRow>, ReadModelError>
  /** One file's reads, edits and writes by a session, in order. */
  readonly fileHistory: (sessionId: string, path: string) => Effect.Effect<ReadonlyArray<FileHistoryRow>, ReadModelError>
}

export class ReadModels extends Context.Service<ReadModels, ReadModelsShape>()("agentlog/ReadModels") {}

/** Every read model's queries, synchronous (they throw InvalidQuery or SQLite errors). */
export const makeReadModelQueries = (db: DatabaseSync) => ({
  ...sessionQueries(db),
  ...transcriptQueries(db),
  ...toolCallQueries(db),
  ...approvalQueries(db),
  ...eventsIndexQueries(db),
  ...groupQueries(db),
  ...fileQueries(db)
})

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
    listSessionsJson: lift(q.listSessionsJson),
    getSession: lift(q.getSession),
    recentDirectories: lift(q.recentDirectories),
    children: lift(q.children),
    transcriptJson: lift(q.transcriptJson),
    search: lift(q.search),
    toolCalls: lift(q.toolCalls),
    approvals: lift(q.approvals),
    approval: lift(q.approval),
    approvalsInRange: lift(q.approvalsInRange),
    sessionSnapshot: lift(q.sessionSnapshot),
    events: lift(q.events),
    attemptGroup: lift(q.attemptGroup),
    filesTouched: lift(q.filesTouched),
    fileHistory: lift(q.fileHistory)
  }
}

export const ReadModelsLive: Layer.Layer<ReadModels, never, ReadDb> = Layer.effect(
  ReadModels,
  Effect.gen(function* () {
    const { db } = yield* ReadDb
    return makeReadModels(db)
  })
)
