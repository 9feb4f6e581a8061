import { CliError, must } from "../client.ts"
import { answer, command } from "../command.ts"
import { oneLine, pad } from "../format.ts"

const statuses = ["pending", "allowed", "denied"] as const
type Status = (typeof statuses)[number]
const isStatus = (s: string): s is Status => statuses.some((x) => x === s)

export const approvals = command({
  usage: "agentlog approvals [--session ID] [--status pending|allowed|denied] [--json]",
  summary: "approvals waiting for an answer (or decided ones, with --status)",
  options: { session: { type: "string" }, status: { type: "string" } },
  run: async (context) => {
    const { session, status = "pending" } = context.flags
    if (!isStatus(status)) throw new CliError(`--status must be one of ${statuses.join(", ")}; got ${status}`, 2)
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
