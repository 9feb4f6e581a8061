// Parallel attempts (issue 12, item 7) and files touched (item 10): the group of sessions
// one launch with `attempts` started, and what a session did to files, both from their
// read models. The launch itself is sessionRoutes.ts's (it appends through queueRun).
import { randomUUID } from "node:crypto"
import type { Hono } from "hono"
import { Effect } from "effect"
import { SessionNotFound } from "../domain/sessionErrors.ts"
import type { HttpDeps } from "./deps.ts"
import type { HttpEnv } from "./env.ts"
import { derivedUuid } from "./idempotency.ts"
import { notFound } from "./problem.ts"
import { awaitMinPosition, router } from "./routeKit.ts"
import { routes } from "./routes.ts"

/**
 * The ids of a launch with attempts: derived from the Idempotency-Key (so a retry completes
 * the same group), else new. Attempt 1 has the ids a launch without attempts derives from
 * the same key, and is launched first: the key reused across the two kinds of launch meets
 * the other's session and is refused (422) before anything else is launched.
 */
export const attemptIds = (key: string | undefined, of: number) => ({
  groupId: key === undefined ? randomUUID() : derivedUuid("launch", "group", key),
  sessions: Array.from({ length: of }, (_, i) => {
    const part = i === 0 ? [] : ["attempt", String(i + 1)]
    return {
      sessionId: key === undefined ? randomUUID() : derivedUuid("launch", ...part, "session", key),
      runId: key === undefined ? randomUUID() : derivedUuid("launch", ...part, "run", key)
    }
  })
})

export const groupAndFileRoutes = (app: Hono<HttpEnv>, deps: HttpDeps): void => {
  const { readModels } = deps
  const handle = router(app, deps)

  handle(routes.getGroup, ({ id: groupId, query: q }) =>
    Effect.gen(function* () {
      yield* awaitMinPosition(deps, q.minPosition)
      const group = yield* readModels.attemptGroup(groupId)
      if (group === null) return yield* Effect.fail(notFound(`no group ${groupId}`, { groupId }))
      return { status: 200, body: group } as const
    })
  )

  /** The session must exist: an unknown one is 404, not an empty list. */
  const existing = (sessionId: string) =>
    Effect.flatMap(readModels.getSession(sessionId), (row) => (row === null ? Effect.fail(new SessionNotFound({ sessionId })) : Effect.void))

  handle(routes.listFiles, ({ id: sessionId, query: q }) =>
    Effect.gen(function* () {
      yield* awaitMinPosition(deps, q.minPosition)
      yield* existing(sessionId)
      return { status: 200, body: { sessionId, items: yield* readModels.filesTouched(sessionId) } } as const
    })
  )

  handle(routes.getFileHistory, ({ c, id: sessionId, query: q }) =>
    Effect.gen(function* () {
      yield* awaitMinPosition(deps, q.minPosition)
      yield* existing(sessionId)
      // Hono hands the segment over decoded: "src%2Fa.ts" is "src/a.ts".
      const path = c.req.param("path") ?? ""
      const items = yield* readModels.fileHistory(sessionId, path)
      if (items.length === 0) return yield* Effect.fail(notFound(`session ${sessionId} did not touch ${JSON.stringify(path.slice(0, 500))}`, { path }))
      return { status: 200, body: { sessionId, path, items } } as const
    })
  )
}
