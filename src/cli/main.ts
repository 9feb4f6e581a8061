#!/usr/bin/env node
// `agentlog`: sessions on a running agentlog service, from a terminal. Talks HTTP to
// AGENTLOG_URL (default http://127.0.0.1:7420) with AGENTLOG_API_TOKEN when set. Every
// command has --help; --json prints what the API answered, one JSON document (or one
// event per line), for scripts. One file per command under commands/; a new command is
// its file and one line in the table below.
import { enableCompileCache } from "node:module"
import { CliError, type Client, makeClient } from "./client.ts"
import type { Command, Terminal } from "./command.ts"
import { pad } from "./format.ts"

// The commands below load on use; compiled once, each starts from Node's compile cache (see src/main.ts).
enableCompileCache()

// Loaded on use, so a command starts without loading what the others need.
const commands: Record<string, () => Promise<Command>> = {
  serve: async () => (await import("./commands/serve.ts")).serve,
  run: async () => (await import("./commands/run.ts")).run,
  attach: async () => (await import("./commands/attach.ts")).attach,
  ls: async () => (await import("./commands/ls.ts")).ls,
  show: async () => (await import("./commands/show.ts")).show,
  log: async () => (await import("./commands/log.ts")).log,
  approvals: async () => (await import("./commands/approvals.ts")).approvals,
  approve: async () => (await import("./commands/decide.ts")).approve,
  deny: async () => (await import("./commands/decide.ts")).deny,
  continue: async () => (await import("./commands/continue.ts")).continueSession,
  fork: async () => (await import("./commands/fork.ts")).fork,
  interrupt: async () => (await import("./commands/interrupt.ts")).interrupt,
  // The record's own commands (src/cli/data), loaded together on use.
  ...Object.fromEntries(
    ["export", "import", "backup", "verify", "migrate"].map((name) => [
      name,
      async () => (await import("./data/commands.ts")).dataCommands[name]!
    ])
  )
}

const usage = async () =>
  [
    "usage: agentlog <command> [options]",
    "",
    ...(await Promise.all(Object.entries(commands).map(async ([name, load]) => `  ${pad(name, 10)} ${(await load()).summary}`))),
    "",
    "agentlog <command> --help for its options. AGENTLOG_URL: the service (default http://127.0.0.1:7420);",
    "AGENTLOG_API_TOKEN: its token. --json: the API's answers as JSON, for scripts."
  ].join("\n")

export const main = async (argv: ReadonlyArray<string>, out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<number> => {
  const [name, ...rest] = argv
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    out(await usage())
    return name === undefined ? 2 : 0
  }
  const load = Object.hasOwn(commands, name) ? commands[name] : undefined
  if (!load) throw new CliError(`unknown command: ${name}\n\n${await usage()}`, 2)
  const command = await load()
  let client: Client | undefined
  const terminal: Terminal = { out, client: () => (client ??= makeClient()), stdin: process.stdin, stdout: process.stdout }
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
