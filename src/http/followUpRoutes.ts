// Follow-ups (issue 12, item 6): a continue sent while a run is active is queued as a
// follow-up (the decider's FollowUpQueued) instead of refused; these routes list, edit,
// cancel and send the ones that wait. The process manager starts a queued follow-up when
// the run it waits for completes (src/process/followUpStarts.ts); HTTP never starts one
// but by an explicit send.
import { randomUUID } from "node:crypto"
import type { Hono } from "hono"
import { Effect } from "effect"
import type { CommandOutcome } from "../commands/sessionCommands.ts"
import { SessionNotFound } from "../domain/sessionErrors.ts"
import { holdsSecrets, type SessionOptions } from "../domain/sessionOptions.ts"
import { type FollowUp, waitingFollowUps } from "../domain/sessionState.ts"
import type { RecordedEvent } from "../eventstore/eventStore.ts"
import type { ReadModelsShape } from "../projections/readModels.ts"
import type { HttpDeps } from "./deps.ts"
import type { HttpEnv } from "./env.ts"
import { derivedUuid } from "./idempotency.ts"
import { notFound, validationFailed } from "./problem.ts"
import { accepted, acceptedBody, awaitMinPosition, checkDirectories, commandContext, type Ctx, type Input, router } from "./routeKit.ts"
import { routes } from "./routes.ts"

/**
 * The follow-up id a continue offers, so that while a run is active it is queued rather
 * than refused. A continue carrying MCP secret values is not queued (409 while a run is
 * active, as before): agentlog holds secrets in memory only for a run about to start.
 */
export const followUpIdFor = (sessionId: string, overrides: SessionOptions, key: string | undefined): { followUpId?: string } =>
  holdsSecrets(overrides) ? {} : { followUpId: key === undefined ? randomUUID() : derivedUuid("follow-up", sessionId, key) }

/** A continue's outcome that queued a follow-up: its id and the run it will become, for the answer. */
export const queuedFollowUp = (outcome: CommandOutcome): { followUpId: string; runId: string } | undefined => {
  const e = outcome.events.find((x) => x.type === "FollowUpQueued")
  return e?.type === "FollowUpQueued" ? { followUpId: e.data.followUpId, runId: e.data.runId } : undefined
}

/** The replayed answer of a keyed continue that was queued: its follow-up id. */
export const followUpOf = (e: RecordedEvent): { followUpId?: string } => {
  const id = e.type === "FollowUpQueued" ? (e.data as { followUpId?: unknown }).followUpId : undefined
  return typeof id === "string" ? { followUpId: id } : {}
}

const view = (f: FollowUp) => ({ ...f, reason: f.reason ?? null })

/** The follow-ups still waiting, for the session's own answer (absent when none). */
export const waitingFollowUpsOf = (readModels: ReadModelsShape, sessionId: string) =>
  Effect.map(readModels.sessionSnapshot(sessionId), (snapshot) => {
    const waiting = snapshot === null ? [] : waitingFollowUps(snapshot.state)
    return waiting.length === 0 ? undefined : waiting.map(view)
  })

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

const followUpIdParam = (c: Ctx): string => {
  const raw = c.req.param("followUpId") ?? ""
  if (!uuid.test(raw)) throw notFound(`no follow-up ${JSON.stringify(raw.slice(0, 100))}`)
  return raw.toLowerCase()
}

export const followUpRoutes = (app: Hono<HttpEnv>, deps: HttpDeps): void => {
  const { commands, readModels } = deps
  const handle = router(app, deps)
  const ifMatched = (expectedRevision: bigint | undefined) => (expectedRevision === undefined ? undefined : { expectedRevision })
  const answer = (outcome: CommandOutcome, followUpId: string) => {
    const f = outcome.state.followUps?.find((x) => x.followUpId === followUpId)
    return accepted(acceptedBody(outcome, { followUpId, ...(f === undefined ? {} : { runId: f.runId }) }))
  }

  handle(routes.listFollowUps, ({ id: sessionId, query: q }) =>
    Effect.gen(function* () {
      yield* awaitMinPosition(deps, q.minPosition)
      const snapshot = yield* readModels.sessionSnapshot(sessionId)
      if (snapshot === null) return yield* Effect.fail(new SessionNotFound({ sessionId }))
      const items = (snapshot.state.followUps ?? []).map(view)
      return { status: 200, body: { sessionId, items } } as const
    })
  )

  handle(routes.editFollowUp, ({ c, id: sessionId, body: b, ifMatch }) =>
    Effect.gen(function* () {
      const followUpId = followUpIdParam(c)
      yield* checkDirectories(b)
      const { query, ...overrides } = b
      if (holdsSecrets(overrides))
        return yield* Effect.fail(
          validationFailed("/mcpServers: a follow-up is recorded as it is; give MCP secrets as ${VAR} references", [
            { path: "/mcpServers", message: "holds a secret value (use a ${VAR} reference)" }
          ])
        )
      const outcome = yield* commands.handle(
        { kind: "EditFollowUp", sessionId, followUpId, ...(query === undefined ? {} : { query }), overrides },
        commandContext(c),
        ifMatched(ifMatch)
      )
      return answer(outcome, followUpId)
    })
  )

  /** Cancel and send: the follow-up and who asked, nothing else. */
  const byPrincipal =
    (kind: "CancelFollowUp" | "SendFollowUp") =>
    ({ c, id: sessionId, ifMatch }: Input<typeof routes.cancelFollowUp | typeof routes.sendFollowUp>) =>
      Effect.gen(function* () {
        const followUpId = followUpIdParam(c)
        const who = c.get("principal").name
        const command =
          kind === "CancelFollowUp"
            ? { kind, sessionId, followUpId, cancelledBy: who }
            : { kind, sessionId, followUpId, startedBy: who }
        return answer(yield* commands.handle(command, commandContext(c), ifMatched(ifMatch)), followUpId)
      })
  handle(routes.cancelFollowUp, byPrincipal("CancelFollowUp"))
  handle(routes.sendFollowUp, byPrincipal("SendFollowUp"))
}
