#!/usr/bin/env node
// `agentlog`: sessions on a running agentlog service, from a terminal. Talks HTTP to
// AGENTLOG_URL (default http://127.0.0.1:7420) with AGENTLOG_API_TOKEN when set. Every
// command has --help; --json prints what the API answered, one JSON document (or one
// event per line), for scripts. One file per command under commands/; a new command is
// one line in the table below.
import { CliError, type Client, makeClient } from "./client.ts"
import type { Command, Terminal } from "./command.ts"
import { approvals } from "./commands/approvals.ts"
import { continueSession } from "./commands/continue.ts"
import { approve, deny } from "./commands/decide.ts"
import { interrupt } from "./commands/interrupt.ts"
import { log } from "./commands/log.ts"
import { ls } from "./commands/ls.ts"
import { show } from "./commands/show.ts"
import { dataCommands } from "./data/commands.ts"
import { pad } from "./format.ts"

const commands: Record<string, Command> = {
  ls,
  show,
  log,
  approvals,
  approve,
  deny,
  continue: continueSession,
  interrupt,
  ...dataCommands
}

const usage = () =>
  [
    "usage: agentlog <command> [options]",
    "",
    ...Object.entries(commands).map(([name, c]) => `  ${pad(name, 10)} ${c.summary}`),
    "",
    "agentlog <command> --help for its options. AGENTLOG_URL: the service (default http://127.0.0.1:7420);",
    "AGENTLOG_API_TOKEN: its token. --json: the API's answers as JSON, for scripts."
  ].join("\n")

export const main = async (argv: ReadonlyArray<string>, out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<number> => {
  const [name, ...rest] = argv
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    out(usage())
    return name === undefined ? 2 : 0
  }
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined
  if (!command) throw new CliError(`unknown command: ${name}\n\n${usage()}`, 2)
  let client: Client | undefined
  const terminal: Terminal = { out, client: () => (client ??= makeClient()) }
  return command.invoke(rest, terminal)
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`agentlog: ${e instanceof Error ? e.message : String(e)}\n`)
      process.exit(e instanceof CliError ? e.exitCode : 1)
    }
  )
}
