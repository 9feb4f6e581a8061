#!/usr/bin/env node
// `agentlog`: sessions on a running agentlog service, from a terminal. Talks HTTP to
// AGENTLOG_URL (default http://127.0.0.1:7420) with AGENTLOG_API_TOKEN when set. Every
// command has --help; --json prints what the API answered, one JSON document (or one
// event per line), for scripts.
import { parseArgs } from "node:util"
import { CliError, makeClient, type Client } from "./client.ts"
import { dataCommands } from "./data/commands.ts"

type Json = Record<string, any>

interface Command {
  readonly usage: string
  readonly summary: string
  readonly options: NonNullable<Parameters<typeof parseArgs>[0]>["options"]
  readonly run: (client: Client, args: ReadonlyArray<string>, flags: Json, out: (line: string) => void) => Promise<number>
}

const common = { json: { type: "boolean" }, help: { type: "boolean", short: "h" } } as const

const pad = (s: string, n: number) => (s.length >= n ? s : s + " ".repeat(n - s.length))
const oneLine = (s: string, max = 100) => {
  const flat = s.replace(/\s+/g, " ").trim()
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat
}
const money = (usd: unknown) => (typeof usd === "number" ? `$${usd.toFixed(4)}` : "")

/** What a person wants to see of an event, on one line. */
const summary = (e: Json): string => {
  const d = e.data ?? {}
  const content: Array<Json> = Array.isArray(d.message?.message?.content) ? d.message.message.content : []
  switch (e.type) {
    case "SessionLaunched":
    case "SessionForked":
    case "ContinueRequested":
      return oneLine(String(d.query ?? ""))
    case "ClaudeAssistantMessage":
      return oneLine(
        content.map((c) => (c.type === "text" ? String(c.text) : c.type === "tool_use" ? `[${c.name}] ${JSON.stringify(c.input)}` : `[${c.type}]`)).join(" ")
      )
    case "ClaudeUserMessage":
      return oneLine(content.map((c) => (c.type === "tool_result" ? `[result] ${typeof c.content === "string" ? c.content : JSON.stringify(c.content)}` : c.type === "text" ? String(c.text) : `[${c.type}]`)).join(" "))
    case "ClaudeResult":
      return `${d.subtype}${d.isError ? " (error)" : ""}, ${d.numTurns} turns, ${money(d.runCostUsd)}`
    case "ApprovalRequested":
      return `${d.toolName} ${oneLine(JSON.stringify(d.input), 80)} (approval ${d.approvalId})`
    case "ApprovalDecided":
      return `${d.decision} by ${d.decidedBy}${d.message ? `: ${oneLine(String(d.message), 80)}` : ""}`
    case "RunFailed":
      return oneLine(String(d.error ?? ""), 300)
    case "RunCompleted":
      return `${d.numTurns} turns, ${money(d.runCostUsd)}`
    case "SessionRenamed":
      return String(d.title ?? "")
    default:
      return ""
  }
}

/** --json: what the API answered; else the lines for a person. */
const answer = (flags: Json, out: (line: string) => void, value: unknown, human: () => ReadonlyArray<string>): number => {
  for (const l of flags.json ? [JSON.stringify(value)] : human()) out(l)
  return 0
}

const eventLine = (e: Json) =>
  `${pad(String(e.revision), 5)} ${String(e.created).slice(11, 19)}  ${pad(String(e.type), 24)} ${summary(e)}`.trimEnd()

const sessionPath = (id: string) => {
  if (!/^[0-9a-f-]{36}$/i.test(id)) throw new CliError(`not a session id: ${id}`)
  return `/v1/sessions/${id}`
}

const needArg = (args: ReadonlyArray<string>, what: string): string => {
  const a = args[0]
  if (a === undefined) throw new CliError(`missing ${what}`)
  return a
}

/** Frames of a text/event-stream body, as they arrive. */
async function* sseFrames(body: ReadableStream<Uint8Array>): AsyncGenerator<{ id?: string; data: string }> {
  const decoder = new TextDecoder()
  let buffer = ""
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true })
    let end: number
    while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const block = buffer.slice(0, end)
      buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, "")
      let id: string | undefined
      const data: Array<string> = []
      for (const l of block.split(/\r?\n/)) {
        if (l.startsWith("id:")) id = l.slice(3).trim()
        else if (l.startsWith("data:")) data.push(l.slice(5).replace(/^ /, ""))
      }
      if (data.length > 0) yield { ...(id !== undefined ? { id } : {}), data: data.join("\n") }
    }
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

const approvalPath = (id: string) => {
  if (!/^[0-9a-f-]{36}$/i.test(id)) throw new CliError(`not an approval id: ${id}`)
  return `/v1/approvals/${id}`
}

/** approve and deny: one decision, with an optional message (the reason, for a deny). */
const decide = (decision: "allow" | "deny"): Command => ({
  usage: `agentlog ${decision === "allow" ? "approve" : "deny"} <approval-id> [-m MESSAGE] [--json]`,
  summary: decision === "allow" ? "allow a pending tool call" : "deny a pending tool call (-m: the reason Claude is told)",
  options: { ...common, message: { type: "string", short: "m" } },
  run: async (client, args, flags, out) => {
    const path = `${approvalPath(needArg(args, "approval id"))}/decision`
    const a = (await client.postJson(path, { decision, ...(flags.message !== undefined ? { message: flags.message } : {}) })) as Json
    return answer(flags, out, a, () => [`${decision === "allow" ? "allowed" : "denied"}: session ${a.sessionId} is ${a.status}`])
  }
})

/** The 202 of a command, for a person: the session and the status it left. */
const acceptedLine = (a: Json) => `${a.sessionId}  ${a.status}${a.queuePosition !== undefined ? ` (queue position ${a.queuePosition})` : ""}`

const commands: Record<string, Command> = {
  ls: {
    usage: "agentlog ls [--status STATUS] [--search TEXT] [--limit N] [--json]",
    summary: "list sessions, most recently active first",
    options: { ...common, status: { type: "string" }, search: { type: "string" }, limit: { type: "string" } },
    run: async (client, _args, flags, out) => {
      const q = new URLSearchParams()
      if (flags.status) q.set("status", flags.status)
      if (flags.search) q.set("q", flags.search)
      q.set("limit", flags.limit ?? "50")
      const page = (await client.getJson(`/v1/sessions?${q}`)) as { items: Array<Json>; nextCursor: string | null }
      return answer(flags, out, page, () =>
        page.items.length === 0
          ? ["no sessions"]
          : page.items.map(
              (s) => `${s.sessionId}  ${pad(String(s.status), 16)} ${pad(money(s.costUsd), 9)} ${String(s.updatedAt).slice(0, 19)}  ${oneLine(String(s.title ?? s.query), 60)}`
            )
      )
    }
  },
  show: {
    usage: "agentlog show <session-id> [--json]",
    summary: "a session: status, totals, the last error",
    options: common,
    run: async (client, args, flags, out) => {
      const s = (await client.getJson(sessionPath(needArg(args, "session id")))) as Json
      const rows: Array<[string, unknown]> = [
        ["session", s.sessionId],
        ["title", s.title],
        ["status", s.status + (s.archived ? " (archived)" : "")],
        ["query", s.query],
        ["model", s.model],
        ["cwd", s.cwd],
        ["parent", s.parentSessionId],
        ["runs", s.runs],
        ["turns", s.turns],
        ["cost", money(s.costUsd)],
        ["tokens", `${s.inputTokens} in, ${s.outputTokens} out`],
        ["pending approvals", s.pendingApprovals],
        ["last error", s.lastError],
        ["created", s.createdAt],
        ["updated", s.updatedAt],
        ["revision", s.lastRevision]
      ]
      return answer(flags, out, s, () => rows.filter(([, v]) => v !== null && v !== undefined && v !== "").map(([k, v]) => `${pad(k, 18)} ${String(v)}`))
    }
  },
  log: {
    usage: "agentlog log <session-id> [--from REV] [--follow] [--json]",
    summary: "the session's events as recorded; --follow keeps following (and resumes after a dropped connection)",
    options: { ...common, from: { type: "string" }, follow: { type: "boolean", short: "f" } },
    run: async (client, args, flags, out) => {
      const path = sessionPath(needArg(args, "session id"))
      const from = flags.from ?? "0"
      if (!/^(?:0|[1-9][0-9]{0,15})$/.test(from)) throw new CliError(`--from must be a revision (a non-negative integer), got ${from}`)
      const print = (e: Json) => out(flags.json ? JSON.stringify(e) : eventLine(e))
      if (!flags.follow) {
        const r = await client.open(`${path}/events?fromRevision=${from}`, { accept: "application/x-ndjson" })
        const text = await r.text()
        for (const l of text.split("\n")) if (l.trim() !== "") print(JSON.parse(l) as Json)
        return 0
      }
      // Follow: SSE from the last revision seen; a dropped connection (a restart of the
      // service) is resumed with Last-Event-ID, so nothing is missed or printed twice.
      let last = BigInt(from) - 1n
      let waited = 0
      for (;;) {
        try {
          const headers: Record<string, string> = { accept: "text/event-stream", ...(last >= 0n ? { "last-event-id": String(last) } : {}) }
          const r = await client.open(`${path}/events/live`, headers)
          waited = 0
          for await (const f of sseFrames(r.body!)) {
            const e = JSON.parse(f.data) as Json
            last = BigInt(e.revision)
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
  },
  approvals: {
    usage: "agentlog approvals [--session ID] [--status pending|allowed|denied] [--json]",
    summary: "approvals waiting for an answer (or decided ones, with --status)",
    options: { ...common, session: { type: "string" }, status: { type: "string" } },
    run: async (client, _args, flags, out) => {
      const q = new URLSearchParams({ status: flags.status ?? "pending", limit: "200" })
      if (flags.session) q.set("session", flags.session)
      const page = (await client.getJson(`/v1/approvals?${q}`)) as { items: Array<Json> }
      return answer(flags, out, page, () =>
        page.items.length === 0
          ? [`no ${flags.status ?? "pending"} approvals`]
          : page.items.map((a) => `${a.approvalId}  ${pad(String(a.status), 8)} ${a.sessionId}  ${a.toolName} ${oneLine(JSON.stringify(a.input), 80)}`)
      )
    }
  },
  approve: decide("allow"),
  deny: decide("deny"),
  continue: {
    usage: 'agentlog continue <session-id> "<query>" [--json]',
    summary: "a new run in an ended session, resuming its Claude conversation",
    options: common,
    run: async (client, args, flags, out) => {
      const path = `${sessionPath(needArg(args, "session id"))}/continue`
      const query = needArg(args.slice(1), "query")
      const a = (await client.postJson(path, { query })) as Json
      return answer(flags, out, a, () => [acceptedLine(a)])
    }
  },
  interrupt: {
    usage: "agentlog interrupt <session-id> [--json]",
    summary: "ask the session's active run to stop",
    options: common,
    run: async (client, args, flags, out) => {
      const a = (await client.postJson(`${sessionPath(needArg(args, "session id"))}/interrupt`, {})) as Json
      return answer(flags, out, a, () => [acceptedLine(a)])
    }
  },
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
  const command = commands[name]
  if (!command) throw new CliError(`unknown command: ${name}\n\n${usage()}`, 2)
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({ args: [...rest], options: command.options, allowPositionals: true, strict: true })
  } catch (e) {
    throw new CliError(`${(e as Error).message}\nusage: ${command.usage}`, 2)
  }
  if (parsed.values.help) {
    out(`usage: ${command.usage}\n\n${command.summary}`)
    return 0
  }
  return command.run(makeClient(), parsed.positionals, parsed.values as Json, out)
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`agentlog: ${e instanceof CliError ? e.message : e instanceof Error ? e.message : String(e)}\n`)
      process.exit(e instanceof CliError ? e.exitCode : 1)
    }
  )
}
