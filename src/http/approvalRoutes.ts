// POST /v1/approvals/:id/decision: finds the approval's session in the read model (an
// approval requested a moment ago may not be projected yet: then it waits, bounded, for
// the read models to reach the store's head and looks again), and records ApprovalDecided;
// the supervisor running the Claude process that waits on it reacts to that event.
import type { Hono } from "hono"
import { Effect } from "effect"
import { ApprovalNotFound } from "../domain/sessionErrors.ts"
import type { HttpDeps } from "./deps.ts"
import type { HttpEnv } from "./env.ts"
import { accepted, acceptedBody, commandContext, router } from "./routeKit.ts"
import { routes } from "./routes.ts"

export const approvalRoutes = (app: Hono<HttpEnv>, deps: HttpDeps): void => {
  const { readModels, commands, store, projections } = deps
  const handle = router(app, deps)

  const sessionOfApproval = (approvalId: string) =>
    Effect.gen(function* () {
      const row = yield* readModels.approval(approvalId)
      if (row !== null) return row.sessionId
      const head = yield* store.headPosition()
      if (head !== null && (yield* projections.waitForPosition(head, deps.config.readWaitMs))) {
        const again = yield* readModels.approval(approvalId)
        if (again !== null) return again.sessionId
      }
      return yield* Effect.fail(new ApprovalNotFound({ approvalId }))
    })

  handle(routes.decideApproval, ({ c, id: approvalId, body: b }) =>
    Effect.gen(function* () {
      const sessionId = yield* sessionOfApproval(approvalId)
      const outcome = yield* commands.handle(
        {
          kind: "DecideApproval",
          sessionId,
          approvalId,
          decision: b.decision,
          ...(b.message !== undefined ? { message: b.message } : {}),
          ...(b.updatedInput !== undefined ? { updatedInput: b.updatedInput } : {}),
          ...(b.answers !== undefined ? { answers: b.answers } : {}),
          decidedBy: c.get("principal").name
        },
        commandContext(c)
      )
      return accepted(acceptedBody(outcome, { approvalId, decision: b.decision }))
    })
  )
}
