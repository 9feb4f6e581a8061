// What a command is: its usage, a one-line summary, its options (parsed strictly by
// node:util's parseArgs, so the values are typed per command) and what it does. Every
// command gets --help and --json.
import { parseArgs, type ParseArgsOptionsConfig } from "node:util"
import { CliError, type Client } from "./client.ts"

const common = { json: { type: "boolean" }, help: { type: "boolean", short: "h" } } as const

type Config<O extends ParseArgsOptionsConfig> = { args: Array<string>; options: typeof common & O; allowPositionals: true; strict: true }
export type Flags<O extends ParseArgsOptionsConfig> = ReturnType<typeof parseArgs<Config<O>>>["values"]

/** Where a command talks to: the service, and the person (or script) at the terminal. */
export interface Terminal {
  /** One line on stdout. */
  readonly out: (line: string) => void
  /** The service's client (made on first use: `serve` needs none). */
  readonly client: () => Client
  /** For the commands that ask questions and draw a spinner (on a TTY only). */
  readonly stdin: NodeJS.ReadStream
  readonly stdout: NodeJS.WriteStream
}

export interface Context<O extends ParseArgsOptionsConfig> extends Terminal {
  readonly args: ReadonlyArray<string>
  readonly flags: Flags<O>
}

export interface Command {
  readonly usage: string
  readonly summary: string
  readonly invoke: (argv: ReadonlyArray<string>, terminal: Terminal) => Promise<number>
}

export const command = <const O extends ParseArgsOptionsConfig>(spec: {
  readonly usage: string
  readonly summary: string
  readonly options: O
  readonly run: (context: Context<O>) => Promise<number>
}): Command => ({
  usage: spec.usage,
  summary: spec.summary,
  invoke: async (argv, terminal) => {
    let parsed: ReturnType<typeof parseArgs<Config<O>>>
    try {
      parsed = parseArgs<Config<O>>({ args: [...argv], options: { ...common, ...spec.options }, allowPositionals: true, strict: true })
    } catch (e) {
      throw new CliError(`${(e as Error).message}\nusage: ${spec.usage}`, 2)
    }
    if ("help" in parsed.values && parsed.values.help === true) {
      terminal.out(`usage: ${spec.usage}\n\n${spec.summary}`)
      return 0
    }
    return spec.run({ ...terminal, args: parsed.positionals, flags: parsed.values })
  }
})

/** --json: what the API answered, one JSON document; else the lines for a person. */
export const answer = (context: Context<ParseArgsOptionsConfig>, value: unknown, human: () => ReadonlyArray<string>): number => {
  for (const l of context.flags.json ? [JSON.stringify(value)] : human()) context.out(l)
  return 0
}

export const needArg = (args: ReadonlyArray<string>, what: string): string => {
  const a = args[0]
  if (a === undefined) throw new CliError(`missing ${what}`)
  return a
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** A session or approval id given on the command line, refused here when it cannot be one. */
export const idArg = (args: ReadonlyArray<string>, what: "session" | "approval"): string => {
  const id = needArg(args, `${what} id`)
  if (!uuid.test(id)) throw new CliError(`not ${what === "approval" ? "an" : "a"} ${what} id: ${id}`)
  return id
}

/** An option's value, which must be one of `allowed`; a usage error (exit 2) otherwise. */
export const oneOf = <const A extends string>(flag: string, allowed: ReadonlyArray<A>, value: string): A => {
  const found = allowed.find((a) => a === value)
  if (found === undefined) throw new CliError(`--${flag} must be one of ${allowed.join(", ")}; got ${value}`, 2)
  return found
}

/**
 * The values of a union type the document declares (an enum), listed here and checked
 * complete by the compiler: a value the document adds and this list lacks fails typecheck.
 */
export const allOf =
  <U extends string>() =>
  <const L extends ReadonlyArray<U>>(list: L & ([U] extends [L[number]] ? unknown : { missing: Exclude<U, L[number]> })): L =>
    list
