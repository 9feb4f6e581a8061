import { CliError, must } from "../client.ts"
import { command, needArg } from "../command.ts"
import { followRun } from "../follow.ts"
import { launchBody, launchOptions, launchUsage } from "../launchOptions.ts"

export const run = command({
  usage: `agentlog run "<query>" ${launchUsage} [--json]`,
  summary: "launch a session and follow it: Claude's messages and tool calls, approvals asked here, then the outcome (exit 0: completed)",
  options: launchOptions,
  run: async (context) => {
    const query = needArg(context.args, "query")
    const client = context.client()
    const a = await must(client.api.POST("/v1/sessions", { body: { query, ...launchBody(context.flags) } }))
    if (!a.runId) throw new CliError(`the service launched ${a.sessionId} without a run id`)
    if (!context.flags.json) context.out(`session ${a.sessionId}${a.queuePosition !== undefined ? ` (queued, position ${a.queuePosition})` : ""}`)
    return followRun({ client, terminal: context, sessionId: a.sessionId, runId: a.runId, after: -1, json: context.flags.json === true })
  }
})
