import { must } from "../client.ts"
import { answer, type Command, command, idArg } from "../command.ts"
import { parseAnswers } from "../questions.ts"

/** approve and deny: one decision, with an optional message (the reason, for a deny). */
const decide = (decision: "allow" | "deny"): Command =>
  command({
    usage: `agentlog ${decision === "allow" ? "approve" : "deny"} <approval-id> [-m MESSAGE]${decision === "allow" ? " [--answer QUESTION=ANSWER ...]" : ""} [--json]`,
    summary:
      decision === "allow"
        ? "allow a pending tool call (a question Claude asked: --answer for each of its questions)"
        : "deny a pending tool call (-m: the reason Claude is told)",
    options: { message: { type: "string", short: "m" }, answer: { type: "string", multiple: true } },
    run: async (context) => {
      const id = idArg(context.args, "approval")
      const { message } = context.flags
      const answers = context.flags.answer === undefined ? undefined : parseAnswers(context.flags.answer)
      const a = await must(
        context.client().api.POST("/v1/approvals/{id}/decision", {
          params: { path: { id } },
          body: { decision, ...(message !== undefined ? { message } : {}), ...(answers !== undefined ? { answers } : {}) }
        })
      )
      return answer(context, a, () => [`${decision === "allow" ? "allowed" : "denied"}: session ${a.sessionId} is ${a.status}`])
    }
  })

export const approve = decide("allow")
export const deny = decide("deny")
