import { CliError, type Schemas } from "../client.ts"
import { command, idArg } from "../command.ts"
import { followEvents, recordedEvents } from "../events.ts"
import { eventLine } from "../format.ts"

export const log = command({
  usage: "agentlog log <session-id> [--from REV] [--follow] [--json]",
  summary: "the session's events as recorded; --follow keeps following (and resumes after a dropped connection)",
  options: { from: { type: "string" }, follow: { type: "boolean", short: "f" } },
  run: async (context) => {
    const id = idArg(context.args, "session")
    const from = context.flags.from ?? "0"
    if (!/^(?:0|[1-9][0-9]{0,14})$/.test(from)) throw new CliError(`--from must be a revision (a non-negative integer), got ${from}`)
    const client = context.client()
    const print = (e: Schemas["Event"]) => context.out(context.flags.json ? JSON.stringify(e) : eventLine(e))
    if (!context.flags.follow) {
      for await (const e of recordedEvents(client, id, Number(from))) print(e)
      return 0
    }
    for await (const e of followEvents(client, id, Number(from) - 1)) print(e)
    return 0
  }
})
