// The data commands as `agentlog` registers them: each a usage line, its options for
// parseArgs, and a function of the parsed arguments. They work on stores directly, not
// through the service (backup excepted: the running service makes the copy).
import type { Client } from "../client.ts"
import { CliError } from "../client.ts"
import { backupCommand } from "./backup.ts"
import { exportCommand, parseSince } from "./export.ts"
import { importCommand } from "./import.ts"
import { migrateCommand } from "./migrate.ts"
import { defaultDataDir, isEsdb, type Json } from "./stores.ts"
import { verifyCommand } from "./verify.ts"

export interface DataCommand {
  readonly usage: string
  readonly summary: string
  readonly options: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }>
  readonly run: (client: Client, args: ReadonlyArray<string>, flags: Json, out: (line: string) => void) => Promise<number>
}

const common = { json: { type: "boolean" }, help: { type: "boolean", short: "h" } } as const

const one = (args: ReadonlyArray<string>, what: string): string => {
  if (args.length !== 1) throw new CliError(`expected one ${what}, got ${args.length}`, 2)
  return args[0]!
}

/** Where the embedded store is, or the esdb:// store the service is configured with. */
const defaultStore = (flags: Json): string => {
  const configured = process.env.AGENTLOG_EVENTSTORE
  return flags["data-dir"] ?? (configured !== undefined && isEsdb(configured) ? configured : defaultDataDir())
}

export const dataCommands: Record<string, DataCommand> = {
  export: {
    usage: "agentlog export <session-id>... | --all [--since TIME] [--data-dir DIR | --from esdb://...] > file.ndjson",
    summary: "write events (ids, types, data, metadata) as NDJSON to stdout, straight from the store",
    options: { ...common, all: { type: "boolean" }, since: { type: "string" }, from: { type: "string" }, "data-dir": { type: "string" } },
    run: (_client, args, flags) =>
      exportCommand({ from: flags.from ?? defaultStore(flags), sessionIds: args, all: flags.all === true, since: parseSince(flags.since) })
  },
  import: {
    usage: "agentlog import <file.ndjson | -> [--data-dir DIR | --to esdb://...] [--json]",
    summary: "add an export's events to a store; what it already holds is skipped, conflicting streams are refused",
    options: { ...common, to: { type: "string" }, "data-dir": { type: "string" } },
    run: (_client, args, flags, out) => importCommand(one(args, "file"), flags.to ?? defaultStore(flags), out, flags.json === true)
  },
  backup: {
    usage: "agentlog backup <file> [--json]",
    summary: "a consistent copy of the running service's embedded store (SQLite online backup)",
    options: common,
    run: (client, args, flags, out) => backupCommand(client, one(args, "file"), out, flags.json === true)
  },
  verify: {
    usage: "agentlog verify [<data-dir | events.db file>] [--json]",
    summary: "check a stopped embedded store or a backup: positions, revisions, schemas, read models",
    options: common,
    run: (_client, args, flags, out) => verifyCommand(args[0] ?? defaultDataDir(), out, flags.json === true)
  },
  migrate: {
    usage: "agentlog migrate --to esdb://... [--data-dir DIR]",
    summary: "copy every stream of the embedded store into EventStoreDB/KurrentDB (resumable), then verify both sides",
    options: { ...common, to: { type: "string" }, "data-dir": { type: "string" } },
    run: (_client, _args, flags, out) => {
      if (typeof flags.to !== "string" || !isEsdb(flags.to)) throw new CliError("--to esdb://... is required", 2)
      return migrateCommand(flags["data-dir"] ?? defaultDataDir(), flags.to, out, flags.json === true)
    }
  }
}
