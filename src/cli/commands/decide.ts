import { must } from "../client.ts"
import { answer, type Command, command, idArg } from "../command.ts"

/** approve and deny: one decision, with an optional message (the reason, for a deny). */
const decide = (decision: "allow" | "deny"): Command =>
  command({
    usage: `agentlog ${decision === "allow" ? "approve" : "deny"} <approval-id> [-m MESSAGE] [--json]`,
    summary: decision === "allow" ? "allow a pending tool call" : "deny a pending tool call (-m: the reason Claude is told)",
    options: { message: { type: "string", short: "m" } },
    run: async (context) => {
      const id = idArg(context.args, "approval")
      const { message } = context.flags
      const a = await must(
        context.client().api.POST("/v1/approvals/{id}/decision", {
          params: { path: { id } },
          body: { decision, ...(message !== undefined ? { message } : {}) }
        })
      )
      return answer(context, a, () => [`${decision === "allow" ? "allowed" : "denied"}: session ${a.sessionId} is ${a.status}`])
    }
  })

export const approve = decide("allow")
export const deny = decide("deny")
