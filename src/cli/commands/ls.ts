import { CliError, must, type Schemas } from "../client.ts"
import { allOf, answer, command, oneOf } from "../command.ts"
import { money, oneLine, pad } from "../format.ts"

const statuses = allOf<Schemas["Session"]["status"]>()(["queued", "running", "waiting_approval", "completed", "failed", "interrupted", "abandoned", "draft", "discarded"])

export const ls = command({
  usage: "agentlog ls [--status STATUS] [--search TEXT] [--limit N] [--json]",
  summary: "list sessions, most recently active first",
  options: { status: { type: "string" }, search: { type: "string" }, limit: { type: "string" } },
  run: async (context) => {
    const { search, limit = "50" } = context.flags
    const status = context.flags.status === undefined ? undefined : oneOf("status", statuses, context.flags.status)
    if (!/^[1-9][0-9]{0,2}$/.test(limit)) throw new CliError(`--limit must be a number from 1 to 999, got ${limit}`, 2)
    const page = await must(
      context.client().api.GET("/v1/sessions", {
        params: { query: { limit: Number(limit), ...(status ? { status } : {}), ...(search ? { q: search } : {}) } }
      })
    )
    return answer(context, page, () =>
      page.items.length === 0
        ? ["no sessions"]
        : page.items.map(
            (s) => `${s.sessionId}  ${pad(s.status, 16)} ${pad(money(s.costUsd), 9)} ${s.updatedAt.slice(0, 19)}  ${oneLine(s.title ?? s.query, 60)}`
          )
    )
  }
})
