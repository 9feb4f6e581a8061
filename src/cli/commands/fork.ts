import { CliError, must } from "../client.ts"
import { answer, command, idArg, needArg } from "../command.ts"
import { followRun } from "../follow.ts"
import { acceptedLine } from "../format.ts"
import { launchBody, launchOptions, launchUsage } from "../launchOptions.ts"

export const fork = command({
  usage: `agentlog fork <session-id> "<query>" ${launchUsage} [--follow] [--json]`,
  summary: "a new session that starts from this one's conversation (--follow: follow it as run does)",
  options: { ...launchOptions, follow: { type: "boolean", short: "f" } },
  run: async (context) => {
    const id = idArg(context.args, "session")
    const query = needArg(context.args.slice(1), "query")
    const client = context.client()
    const a = await must(client.api.POST("/v1/sessions/{id}/fork", { params: { path: { id } }, body: { query, ...launchBody(context.flags) } }))
    if (!context.flags.follow) return answer(context, a, () => [acceptedLine(a)])
    if (!a.runId) throw new CliError(`the service forked ${a.sessionId} without a run id`)
    if (!context.flags.json) context.out(`session ${a.sessionId} (fork of ${id})`)
    return followRun({ client, terminal: context, sessionId: a.sessionId, runId: a.runId, after: -1, json: context.flags.json === true })
  }
})
