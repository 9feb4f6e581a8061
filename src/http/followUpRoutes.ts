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
import { conflict, notFound, validationFailed } from "./problem.ts"
import { missingSecrets } from "../process/runSecrets.ts"
import { accepted, acceptedBody, awaitMinPosition, checkDirectories, commandContext, type Ctx, type Input, router } from "./routeKit.ts"
import { routes } from "./routes.ts"
import { bypassGrant } from "./sessionControlRoutes.ts"

/**
 * The follow-up id a continue offers, so that while a run is active it is queued rather
 * than refused. A continue carrying MCP secret values is queued too: the secrets wait in
 * memory under the run id the follow-up becomes (see `followUpSecrets`), never in the store.
 */
export const followUpIdFor = (sessionId: string, key: string | undefined): { followUpId: string } => ({
  followUpId: key === undefined ? randomUUID() : derivedUuid("follow-up", sessionId, key)
})

/**
 * What a queued follow-up leaves in memory for its run: only its MCP servers, whose secret
 * values the record holds as placeholders; its other options are recorded (and may be edited).
 * Nothing when it holds no secret.
 */
export const followUpSecrets = (overrides: SessionOptions): SessionOptions | undefined =>
  holdsSecrets(overrides) && overrides.mcpServers !== undefined ? { mcpServers: overrides.mcpServers } : undefined

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
  /**
   * A follow-up queued with MCP secrets starts only with them: gone (the service restarted
   * since, or another instance holds them), the send is refused saying which to send again,
   * and the follow-up keeps waiting.
   */
  const secretsStillHeld = (sessionId: string, followUpId: string) =>
    Effect.gen(function* () {
      const f = (yield* commands.load(sessionId)).state?.followUps?.find((x) => x.followUpId === followUpId)
      const missing = f === undefined || deps.runSecrets.has(f.runId) ? [] : missingSecrets(f.overrides)
      if (missing.length === 0) return
      const which = missing.map((m) => `MCP secret for ${m}`).join(", ")
      return yield* Effect.fail(
        conflict(
          "follow-up-secrets-gone",
          "The follow-up's MCP secrets are gone",
          `${which} ${missing.length === 1 ? "is" : "are"} no longer held (agentlog keeps secrets in memory only, and it restarted): cancel this follow-up and continue again with ${missing.length === 1 ? "it" : "them"}`,
          { followUpId, missing }
        )
      )
    })

  const dropHeldSecrets = (outcome: CommandOutcome, followUpId: string) => {
    const f = outcome.state.followUps?.find((x) => x.followUpId === followUpId)
    if (f !== undefined) deps.runSecrets.drop(f.runId)
  }
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
      const { query, bypassExpiresInMs, ...overrides } = b
      const grant = yield* bypassGrant(c, deps, overrides.permissionMode, bypassExpiresInMs)
      if (holdsSecrets(overrides))
        return yield* Effect.fail(
          validationFailed("/mcpServers: a follow-up is recorded as it is; give MCP secrets as ${VAR} references", [
            { path: "/mcpServers", message: "holds a secret value (use a ${VAR} reference)" }
          ])
        )
      const outcome = yield* commands.handle(
        { kind: "EditFollowUp", sessionId, followUpId, ...(query === undefined ? {} : { query }), overrides, ...grant },
        commandContext(c),
        ifMatched(ifMatch)
      )
      // New MCP servers replace the ones whose secrets were held: those are not used any more.
      if (overrides.mcpServers !== undefined) dropHeldSecrets(outcome, followUpId)
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
        if (kind === "SendFollowUp") yield* secretsStillHeld(sessionId, followUpId)
        const command =
          kind === "CancelFollowUp"
            ? { kind, sessionId, followUpId, cancelledBy: who }
            : { kind, sessionId, followUpId, startedBy: who }
        const outcome = yield* commands.handle(command, commandContext(c), ifMatched(ifMatch))
        if (kind === "CancelFollowUp") dropHeldSecrets(outcome, followUpId)
        return answer(outcome, followUpId)
      })
  handle(routes.cancelFollowUp, byPrincipal("CancelFollowUp"))
  handle(routes.sendFollowUp, byPrincipal("SendFollowUp"))
}
