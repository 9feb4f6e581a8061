// agentlog export: events of some sessions (or of the whole store) as NDJSON on stdout, in
// the store's global order, for `agentlog import` to put into another store.
import { Effect, Stream } from "effect"
import type { AllFilter } from "../../eventstore/eventStore.ts"
import { CliError } from "../client.ts"
import { eventLine } from "./ndjson.ts"
import { run, stdoutWriter, withStore } from "./stores.ts"

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export interface ExportArgs {
  readonly from: string
  readonly sessionIds: ReadonlyArray<string>
  readonly all: boolean
  /** Only events the store recorded at or after this time. */
  readonly since?: Date | undefined
}

export const parseSince = (s: string | undefined): Date | undefined => {
  if (s === undefined) return undefined
  const d = new Date(s)
  if (!/^\d{4}-\d{2}-\d{2}/.test(s) || Number.isNaN(d.getTime())) throw new CliError(`--since must be an ISO date or time (2026-01-31, 2026-01-31T12:00:00Z), got ${s}`, 2)
  return d
}

export const exportEvents = async (args: ExportArgs, write: (text: string) => Promise<void>): Promise<number> => {
  if (args.all === (args.sessionIds.length > 0)) throw new CliError("name the sessions to export, or --all (not both)", 2)
  for (const id of args.sessionIds) if (!uuid.test(id)) throw new CliError(`not a session id: ${id}`, 2)
  const filter: AllFilter | undefined = args.all ? undefined : { streamPrefix: args.sessionIds.map((id) => `session-${id.toLowerCase()}`) }
  const since = args.since?.getTime()
  return withStore(args.from, true, async ({ store }) => {
    let count = 0
    await run(
      Stream.runForEachArray(store.readAll(filter ? { filter } : {}), (events) =>
        Effect.promise(async () => {
          let text = ""
          for (const e of events) {
            if (since !== undefined && e.created.getTime() < since) continue
            // The text readStreamJson would give: the stores keep JSON.stringify's output.
            text += eventLine({ ...e, _tag: "RecordedEventJson", dataJson: JSON.stringify(e.data), metadataJson: JSON.stringify(e.metadata) })
            count++
          }
          await write(text)
        })
      )
    )
    return count
  })
}

export const exportCommand = async (args: ExportArgs): Promise<number> => {
  const out = stdoutWriter()
  const count = await exportEvents(args, out.write)
  await out.flush()
  process.stderr.write(`exported ${count} events\n`)
  return 0
}
