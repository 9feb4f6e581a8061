import { must } from "../client.ts"
import { answer, command, idArg } from "../command.ts"
import { money, pad } from "../format.ts"

export const show = command({
  usage: "agentlog show <session-id> [--json]",
  summary: "a session: status, totals, the last error",
  options: {},
  run: async (context) => {
    const id = idArg(context.args, "session")
    const s = await must(context.client().api.GET("/v1/sessions/{id}", { params: { path: { id } } }))
    const rows: Array<[string, unknown]> = [
      ["session", s.sessionId],
      ["title", s.title],
      ["status", s.status + (s.archived ? " (archived)" : "")],
      ["query", s.query],
      ["model", s.model],
      ["cwd", s.cwd],
      ["parent", s.parentSessionId],
      ["runs", s.runs],
      ["turns", s.turns],
      ["cost", money(s.costUsd)],
      ["tokens", `${s.inputTokens} in, ${s.outputTokens} out`],
      ["pending approvals", s.pendingApprovals],
      ["last error", s.lastError],
      ["created", s.createdAt],
      ["updated", s.updatedAt],
      ["revision", s.lastRevision]
    ]
    return answer(context, s, () => rows.filter(([, v]) => v !== null && v !== undefined && v !== "").map(([k, v]) => `${pad(k, 18)} ${String(v)}`))
  }
})
