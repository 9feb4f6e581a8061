import { must, type Schemas } from "../client.ts"
import { allOf, answer, command, oneOf } from "../command.ts"
import { oneLine, pad } from "../format.ts"

const statuses = allOf<Schemas["Approval"]["status"]>()(["pending", "allowed", "denied"])

export const approvals = command({
  usage: "agentlog approvals [--session ID] [--status pending|allowed|denied] [--json]",
  summary: "approvals waiting for an answer (or decided ones, with --status)",
  options: { session: { type: "string" }, status: { type: "string" } },
  run: async (context) => {
    const { session } = context.flags
    const status = oneOf("status", statuses, context.flags.status ?? "pending")
    const page = await must(
      context.client().api.GET("/v1/approvals", { params: { query: { status, limit: 200, ...(session ? { session } : {}) } } })
    )
    return answer(context, page, () =>
      page.items.length === 0
        ? [`no ${status} approvals`]
        : page.items.map((a) => `${a.approvalId}  ${pad(a.status, 8)} ${a.sessionId}  ${a.toolName} ${oneLine(JSON.stringify(a.input), 80)}`)
    )
  }
})
