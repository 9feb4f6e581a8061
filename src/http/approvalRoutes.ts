// POST /v1/approvals/:id/decision: finds the approval's session in the read model (an
// approval requested a moment ago may not be projected yet: then it waits, bounded, for
// the read models to reach the store's head and looks again), and records ApprovalDecided;
// the supervisor running the Claude process that waits on it reacts to that event.
import type { Hono } from "hono"
import { ApprovalNotFound } from "../domain/sessionErrors.ts"
import { DecisionBody } from "./bodies.ts"
import type { HttpDeps } from "./deps.ts"
import { type HttpEnv, runEffect } from "./env.ts"
import { accepted, acceptedBody, body, commandContext, on, pathId } from "./routeKit.ts"
import { routes } from "./routes.ts"

export const approvalRoutes = (app: Hono<HttpEnv>, deps: HttpDeps): void => {
  const { readModels, commands, store, projections } = deps

  const sessionOfApproval = async (approvalId: string, signal: AbortSignal): Promise<string> => {
    const row = await runEffect(readModels.approval(approvalId))
    if (row !== null) return row.sessionId
    const head = await runEffect(store.headPosition())
    if (head !== null && (await runEffect(projections.waitForPosition(head, deps.config.readWaitMs), signal))) {
      const again = await runEffect(readModels.approval(approvalId))
      if (again !== null) return again.sessionId
    }
    throw new ApprovalNotFound({ approvalId })
  }

  on(app, routes.decideApproval, async (c) => {
    const approvalId = pathId(c, "approval")
    const b = await body(c, deps, DecisionBody)
    const sessionId = await sessionOfApproval(approvalId, c.req.raw.signal)
    const outcome = await runEffect(
      commands.handle(
        {
          kind: "DecideApproval",
          sessionId,
          approvalId,
          decision: b.decision,
          ...(b.message !== undefined ? { message: b.message } : {}),
          ...(b.updatedInput !== undefined ? { updatedInput: b.updatedInput } : {}),
          decidedBy: c.get("subject")
        },
        commandContext(c)
      )
    )
    return accepted(c, acceptedBody(outcome, { approvalId, decision: b.decision }))
  })
}
