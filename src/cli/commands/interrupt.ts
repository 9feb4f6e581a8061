import { must } from "../client.ts"
import { answer, command, idArg } from "../command.ts"
import { acceptedLine } from "../format.ts"

export const interrupt = command({
  usage: "agentlog interrupt <session-id> [--json]",
  summary: "ask the session's active run to stop",
  options: {},
  run: async (context) => {
    const id = idArg(context.args, "session")
    const a = await must(context.client().api.POST("/v1/sessions/{id}/interrupt", { params: { path: { id } } }))
    return answer(context, a, () => [acceptedLine(a)])
  }
})
