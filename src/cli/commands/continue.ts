import { must } from "../client.ts"
import { answer, command, idArg, needArg } from "../command.ts"
import { acceptedLine } from "../format.ts"

export const continueSession = command({
  usage: 'agentlog continue <session-id> "<query>" [--json]',
  summary: "a new run in an ended session, resuming its Claude conversation",
  options: {},
  run: async (context) => {
    const id = idArg(context.args, "session")
    const query = needArg(context.args.slice(1), "query")
    const a = await must(context.client().api.POST("/v1/sessions/{id}/continue", { params: { path: { id } }, body: { query } }))
    return answer(context, a, () => [acceptedLine(a)])
  }
})
