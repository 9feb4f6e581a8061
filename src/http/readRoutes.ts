// Reads from the read models: sessions, a session (with its ETag), its transcript, tool
// calls and approvals. Every read accepts minPosition (read-your-writes, bounded wait).
import type { Hono } from "hono"
import { Effect } from "effect"
import { ApprovalNotFound, SessionNotFound } from "../domain/sessionErrors.ts"
import { etagOf } from "./conditions.ts"
import type { HttpDeps } from "./deps.ts"
import type { HttpEnv } from "./env.ts"
import { waitingFollowUpsOf } from "./followUpRoutes.ts"
import { awaitMinPosition, jsonText, router } from "./routeKit.ts"
import { routes } from "./routes.ts"

const csv = (s: string | undefined): ReadonlyArray<string> | undefined =>
  s === undefined ? undefined : s.split(",").map((x) => x.trim()).filter((x) => x.length > 0)

/** The read models compare ISO times as text: one spelling (UTC, milliseconds) for every offset. */
const utc = (t: string | undefined): string | undefined => (t === undefined ? undefined : new Date(t).toISOString())

/** The fields of `o` that are not undefined (the read models' queries take absent, not undefined). */
const defined = <A extends object>(o: A): { [K in keyof A]?: Exclude<A[K], undefined> } =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof A]?: Exclude<A[K], undefined> }

export const readRoutes = (app: Hono<HttpEnv>, deps: HttpDeps): void => {
  const { readModels, supervisor } = deps
  const handle = router(app, deps)

  handle(routes.listSessions, ({ c, query: q }) =>
    Effect.gen(function* () {
      yield* awaitMinPosition(deps, q.minPosition)
      const page = yield* readModels.listSessionsJson({
        ...defined({ status: q.status, archived: q.archived, q: q.q, cursor: q.cursor, leaves: q.leaves }),
        limit: q.limit ?? 50
      })
      return jsonText(c, `{"items":${page.json},"nextCursor":${JSON.stringify(page.nextCursor)}}`)
    })
  )

  handle(routes.search, ({ query: q }) =>
    Effect.gen(function* () {
      yield* awaitMinPosition(deps, q.minPosition)
      const items = yield* readModels.search({ q: q.q, ...defined({ sessionId: q.session, limit: q.limit, offset: q.offset }) })
      return { status: 200, body: { items } } as const
    })
  )

  handle(routes.recentDirectories, ({ query: q }) =>
    Effect.gen(function* () {
      yield* awaitMinPosition(deps, q.minPosition)
      const items = yield* readModels.recentDirectories(q.limit ?? 20)
      return { status: 200, body: { items } } as const
    })
  )

  handle(routes.getSession, ({ id: sessionId, query: q }) =>
    Effect.gen(function* () {
      yield* awaitMinPosition(deps, q.minPosition)
      const row = yield* readModels.getSession(sessionId)
      if (row === null) return yield* Effect.fail(new SessionNotFound({ sessionId }))
      const queuePosition = row.status === "queued" ? supervisor.queuePosition(sessionId) : undefined
      const children = yield* readModels.children(sessionId)
      const folded = (yield* readModels.sessionSnapshot(sessionId))?.state
      const controls = defined({ permissionMode: folded?.options.permissionMode, bypassExpiresAt: folded?.bypassExpiresAt })
      const followUps = yield* waitingFollowUpsOf(readModels, sessionId)
      return {
        status: 200,
        body: { ...row, revision: row.lastRevision, children, ...defined({ queuePosition, followUps }), ...controls },
        headers: { ETag: etagOf(row.lastRevision) }
      } as const
    })
  )

  handle(routes.getTranscript, ({ c, id: sessionId, query: q }) =>
    Effect.gen(function* () {
      yield* awaitMinPosition(deps, q.minPosition)
      const row = yield* readModels.getSession(sessionId)
      if (row === null) return yield* Effect.fail(new SessionNotFound({ sessionId }))
      const entries = yield* readModels.transcriptJson(sessionId, defined({ afterSeq: q.afterSeq, limit: q.limit }))
      const nextAfterSeq = q.limit !== undefined && entries.count === q.limit ? entries.lastSeq : null
      // The Transcript schema's fields in its order, the entries as the read model wrote them.
      return jsonText(
        c,
        `{"sessionId":"${sessionId}","revision":${row.lastRevision},"entries":${entries.json},"nextAfterSeq":${nextAfterSeq}}`
      )
    })
  )

  handle(routes.listToolCalls, ({ query: q }) =>
    Effect.gen(function* () {
      yield* awaitMinPosition(deps, q.minPosition)
      const page = yield* readModels.toolCalls({
        ...defined({
          tool: csv(q.tool),
          session: q.session,
          decision: q.decision,
          decidedBy: q.decidedBy,
          after: utc(q.after),
          before: utc(q.before),
          cursor: q.cursor
        }),
        limit: q.limit ?? 50
      })
      return { status: 200, body: page } as const
    })
  )

  handle(routes.listApprovals, ({ query: q }) =>
    Effect.gen(function* () {
      yield* awaitMinPosition(deps, q.minPosition)
      const page = yield* readModels.approvals({
        ...defined({ status: q.status, session: q.session, decidedBy: q.decidedBy, cursor: q.cursor }),
        limit: q.limit ?? 50
      })
      return { status: 200, body: page } as const
    })
  )

  handle(routes.getApproval, ({ id: approvalId, query: q }) =>
    Effect.gen(function* () {
      yield* awaitMinPosition(deps, q.minPosition)
      const row = yield* readModels.approval(approvalId)
      if (row === null) return yield* Effect.fail(new ApprovalNotFound({ approvalId }))
      return { status: 200, body: row } as const
    })
  )
}
