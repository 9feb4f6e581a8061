// Reads from the read models: sessions, a session (with its ETag), its transcript, tool
// calls and approvals. Every read accepts minPosition (read-your-writes, bounded wait).
import type { Hono } from "hono"
import { SessionNotFound, ApprovalNotFound } from "../domain/sessionErrors.ts"
import { ApprovalsQuery, decodeQuery, ListSessionsQuery, ReadQuery, ToolCallsQuery, TranscriptQuery } from "./bodies.ts"
import { etagOf } from "./conditions.ts"
import type { HttpDeps } from "./deps.ts"
import { type HttpEnv, runEffect } from "./env.ts"
import { awaitMinPosition, type Ctx, on, pathId } from "./routeKit.ts"
import { routes } from "./routes.ts"

const url = (c: Ctx) => new URL(c.req.url)
const int = (s: string | undefined): number | undefined => (s === undefined ? undefined : Number(s))
const csv = (s: string | undefined): ReadonlyArray<string> | undefined =>
  s === undefined ? undefined : s.split(",").map((x) => x.trim()).filter((x) => x.length > 0)

export const readRoutes = (app: Hono<HttpEnv>, deps: HttpDeps): void => {
  const { readModels, supervisor } = deps

  on(app, routes.listSessions, async (c) => {
    const q = decodeQuery(ListSessionsQuery, url(c))
    await awaitMinPosition(deps, q.minPosition, c.req.raw.signal)
    const page = await runEffect(
      readModels.listSessions({
        ...(q.status !== undefined ? { status: q.status } : {}),
        ...(q.archived !== undefined ? { archived: q.archived === "true" } : {}),
        ...(q.q !== undefined ? { q: q.q } : {}),
        ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
        limit: int(q.limit) ?? 50
      })
    )
    return c.json(page)
  })

  on(app, routes.getSession, async (c) => {
    const sessionId = pathId(c)
    const q = decodeQuery(ReadQuery, url(c))
    await awaitMinPosition(deps, q.minPosition, c.req.raw.signal)
    const row = await runEffect(readModels.getSession(sessionId))
    if (row === null) throw new SessionNotFound({ sessionId })
    const queuePosition = row.status === "queued" ? supervisor.queuePosition(sessionId) : undefined
    c.header("ETag", etagOf(row.lastRevision))
    return c.json({ ...row, revision: row.lastRevision, ...(queuePosition !== undefined ? { queuePosition } : {}) })
  })

  on(app, routes.getTranscript, async (c) => {
    const sessionId = pathId(c)
    const q = decodeQuery(TranscriptQuery, url(c))
    await awaitMinPosition(deps, q.minPosition, c.req.raw.signal)
    const row = await runEffect(readModels.getSession(sessionId))
    if (row === null) throw new SessionNotFound({ sessionId })
    const limit = int(q.limit)
    const entries = await runEffect(
      readModels.transcript(sessionId, {
        ...(q.afterSeq !== undefined ? { afterSeq: Number(q.afterSeq) } : {}),
        ...(limit !== undefined ? { limit } : {})
      })
    )
    const last = entries[entries.length - 1]
    return c.json({
      sessionId,
      revision: row.lastRevision,
      entries,
      nextAfterSeq: limit !== undefined && entries.length === limit && last ? last.seq : null
    })
  })

  on(app, routes.listToolCalls, async (c) => {
    const q = decodeQuery(ToolCallsQuery, url(c))
    await awaitMinPosition(deps, q.minPosition, c.req.raw.signal)
    const tool = csv(q.tool)
    const page = await runEffect(
      readModels.toolCalls({
        ...(tool !== undefined ? { tool } : {}),
        ...(q.session !== undefined ? { session: q.session } : {}),
        ...(q.decision !== undefined ? { decision: q.decision } : {}),
        ...(q.after !== undefined ? { after: q.after } : {}),
        ...(q.before !== undefined ? { before: q.before } : {}),
        ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
        limit: int(q.limit) ?? 50
      })
    )
    return c.json(page)
  })

  on(app, routes.listApprovals, async (c) => {
    const q = decodeQuery(ApprovalsQuery, url(c))
    await awaitMinPosition(deps, q.minPosition, c.req.raw.signal)
    const page = await runEffect(
      readModels.approvals({
        ...(q.status !== undefined ? { status: q.status } : {}),
        ...(q.session !== undefined ? { session: q.session } : {}),
        ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
        limit: int(q.limit) ?? 50
      })
    )
    return c.json(page)
  })

  on(app, routes.getApproval, async (c) => {
    const approvalId = pathId(c, "approval")
    const q = decodeQuery(ReadQuery, url(c))
    await awaitMinPosition(deps, q.minPosition, c.req.raw.signal)
    const row = await runEffect(readModels.approval(approvalId))
    if (row === null) throw new ApprovalNotFound({ approvalId })
    return c.json(row)
  })
}
