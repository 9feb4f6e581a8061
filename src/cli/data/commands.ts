// The data commands as `agentlog` registers them. They work on stores directly, not
// through the service (backup excepted: the running service makes the copy).
import { CliError } from "../client.ts"
import { command, type Command } from "../command.ts"
import { backupCommand } from "./backup.ts"
import { exportCommand, parseSince } from "./export.ts"
import { importCommand } from "./import.ts"
import { migrateCommand } from "./migrate.ts"
import { defaultDataDir, isEsdb } from "./stores.ts"
import { verifyCommand } from "./verify.ts"

const one = (args: ReadonlyArray<string>, what: string): string => {
  if (args.length !== 1) throw new CliError(`expected one ${what}, got ${args.length}`, 2)
  return args[0]!
}

/** The embedded store's data dir, or the esdb:// store the service is configured with. */
const defaultStore = (dataDir: string | undefined): string => {
  const configured = process.env.AGENTLOG_EVENTSTORE
  return dataDir ?? (configured !== undefined && isEsdb(configured) ? configured : defaultDataDir())
}

export const dataCommands: Record<string, Command> = {
  export: command({
    usage: "agentlog export <session-id>... | --all [--since TIME] [--data-dir DIR | --from esdb://...] > file.ndjson",
    summary: "write events (ids, types, data, metadata) as NDJSON to stdout, straight from the store",
    options: { all: { type: "boolean" }, since: { type: "string" }, from: { type: "string" }, "data-dir": { type: "string" } },
    run: ({ args, flags }) =>
      exportCommand({ from: flags.from ?? defaultStore(flags["data-dir"]), sessionIds: args, all: flags.all === true, since: parseSince(flags.since) })
  }),
  import: command({
    usage: "agentlog import <file.ndjson | -> [--data-dir DIR | --to esdb://...] [--json]",
    summary: "add an export's events to a store; what it already holds is skipped, conflicting streams are refused",
    options: { to: { type: "string" }, "data-dir": { type: "string" } },
    run: ({ args, flags, out }) => importCommand(one(args, "file"), flags.to ?? defaultStore(flags["data-dir"]), out, flags.json === true)
  }),
  backup: command({
    usage: "agentlog backup <file> [--json]",
    summary: "a consistent copy of the running service's embedded store (SQLite online backup)",
    options: {},
    run: ({ args, flags, out, client }) => backupCommand(client(), one(args, "file"), out, flags.json === true)
  }),
  verify: command({
    usage: "agentlog verify [<data-dir | events.db file>] [--json]",
    summary: "check a stopped embedded store or a backup: positions, revisions, schemas, read models",
    options: {},
    run: ({ args, flags, out }) => verifyCommand(args[0] ?? defaultDataDir(), out, flags.json === true)
  }),
  migrate: command({
    usage: "agentlog migrate --to esdb://... [--data-dir DIR] [--json]",
    summary: "copy every stream of the embedded store into EventStoreDB/KurrentDB (resumable), then verify both sides",
    options: { to: { type: "string" }, "data-dir": { type: "string" } },
    run: ({ flags, out }) => {
      if (flags.to === undefined || !isEsdb(flags.to)) throw new CliError("--to esdb://... is required", 2)
      return migrateCommand(flags["data-dir"] ?? defaultDataDir(), flags.to, out, flags.json === true)
    }
  })
}
