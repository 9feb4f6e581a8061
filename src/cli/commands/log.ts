import { CliError, type Schemas } from "../client.ts"
import { command, idArg } from "../command.ts"
import { liveEvents, recordedEvents } from "../events.ts"
import { eventLine } from "../format.ts"

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

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
    // Follow: SSE from the last revision seen; a dropped connection (a restart of the
    // service) is resumed with Last-Event-ID, so nothing is missed or printed twice.
    let last = Number(from) - 1
    let waited = 0
    for (;;) {
      try {
        for await (const e of liveEvents(client, id, last)) {
          waited = 0
          last = e.revision
          print(e)
        }
      } catch (e) {
        // A refusal (404, 409, …) will not change by retrying; an unreachable service might.
        if (e instanceof CliError && !e.message.startsWith("cannot reach")) throw e
      }
      waited = Math.min(5_000, waited * 2 || 100)
      await sleep(waited)
    }
  }
})
