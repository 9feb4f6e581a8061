/**
 * A scripted fake of the Anthropic Messages API, good enough for the real `claude`
 * binary to run against offline (ANTHROPIC_BASE_URL=<fake.url>).
 *
 * The test gives a list of turns; every "main" request (the agent loop) consumes the
 * next turn, in order. Side requests that claude makes on its own never consume
 * turns: they are answered with `defaultText` and recorded with `kind: "side"`.
 * Which is which is decided by `classifyMessagesRequest` (override with
 * `options.classify`). See CLAUDE_PROTOCOL_NOTES.md for what claude sends.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo, Socket } from "node:net"
import { randomUUID } from "node:crypto"

export type Usage = {
  input_tokens: number
  output_tokens: number
  cache_creation_input_tokens?: number
  cache_read_input_tokens?: number
}

export type ToolUseSpec = {
  name: string
  input: Record<string, unknown>
  /** defaults to a generated `toolu_…` id */
  id?: string
}

/** A normal model response: thinking?, text?, tool uses?, in that order. */
export type ReplyTurn = {
  thinking?: string
  text?: string
  toolUse?: ToolUseSpec | ToolUseSpec[]
  /** defaults: "tool_use" when there are tool uses, else "end_turn" */
  stopReason?: string
  usage?: Partial<Usage>
  /** model name echoed in the response; defaults to the request's model */
  model?: string
}

/**
 * An HTTP error answer, e.g. { status: 529, type: "overloaded_error", message: "Overloaded" }.
 * `times` (default 1) answers that many consecutive main requests with the error before
 * the script moves on: claude retries 5xx/529 (CLAUDE_CODE_MAX_RETRIES) and silently
 * re-sends a 400 up to 5 more times with fewer betas, so a "permanent" error needs
 * `times: Infinity`.
 */
export type ErrorTurn = {
  error: { status: number; type: string; message: string; headers?: Record<string, string> }
  times?: number
}

/**
 * A text answer streamed in chunks with a delay between them. With `hold: true` the
 * stream stops after the last chunk (no content_block_stop/message_stop) until
 * `fake.release()` finishes it or `fake.abortStreams()` cuts the connection.
 */
export type SlowTurn = {
  slow: { chunks: string[]; delayMs: number; hold?: boolean }
  usage?: Partial<Usage>
}

export type Turn = ReplyTurn | ErrorTurn | SlowTurn

export type RequestKind = "main" | "side" | "count_tokens" | "other"

export type RecordedRequest = {
  /** order of arrival, 0-based, over all requests */
  seq: number
  method: string
  /** path without the query string */
  path: string
  /** full url incl. query string */
  url: string
  headers: Record<string, string | string[] | undefined>
  /** parsed JSON body (undefined when empty or not JSON) */
  body: any
  kind: RequestKind
  /** index of the scripted turn that answered this request (main requests only) */
  turnIndex?: number
  /** true when a main request arrived after the script was exhausted */
  unscripted?: boolean
  /** true once the connection closed before the response was complete (claude aborted the request, or abortStreams()/close()) */
  aborted?: boolean
  at: number
}

export type FakeAnthropicOptions = {
  /** text for side requests and for main requests after the script ran out */
  defaultText?: string
  /** log every request to stderr */
  verbose?: boolean
  /** decide main vs side for a POST /v1/messages body; return undefined for the default */
  classify?: (body: any) => "main" | "side" | undefined
}

export type FakeAnthropic = {
  /** base url, e.g. http://127.0.0.1:41234 (no trailing slash) */
  readonly url: string
  /** every request received, in order */
  readonly requests: RecordedRequest[]
  /** requests that consumed (or tried to consume) a scripted turn */
  mainRequests(): RecordedRequest[]
  /** "METHOD url" of requests the fake did not know (answered 404, always logged to stderr) */
  readonly unknownPaths: string[]
  /** replace the script; the cursor starts again at its first turn */
  setScript(turns: Turn[]): void
  /** append turns to the current script */
  push(...turns: Turn[]): void
  /** how many scripted turns are not yet consumed */
  remaining(): number
  /** resolves with the count-th main request (1-based) once it has arrived */
  waitForMainRequests(count: number, timeoutMs?: number): Promise<RecordedRequest>
  /** resolves once `count` slow turns (default 1, counted since start) have written all their chunks */
  waitForSlowChunks(count?: number, timeoutMs?: number): Promise<void>
  /** let held slow streams finish normally */
  release(): void
  /** destroy the sockets of streams still open (held or slow) */
  abortStreams(): void
  /** stop listening and destroy every open socket */
  close(): Promise<void>
}

const DEFAULT_USAGE: Usage = {
  input_tokens: 10,
  output_tokens: 5,
  cache_creation_input_tokens: 0,
  cache_read_input_tokens: 0
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

let idCounter = 0
const newId = (prefix: string) =>
  `${prefix}_fake${(++idCounter).toString().padStart(4, "0")}${randomUUID().replace(/-/g, "").slice(0, 16)}`

type Block =
  | { type: "text"; text: string }
  | { type: "thinking"; thinking: string; signature: string }
  | { type: "tool_use"; id: string; name: string; input: Record<string, unknown> }

function replyBlocks(turn: ReplyTurn): Block[] {
  const blocks: Block[] = []
  if (turn.thinking !== undefined)
    blocks.push({ type: "thinking", thinking: turn.thinking, signature: "fakesig" + Buffer.from(turn.thinking).toString("base64") })
  if (turn.text !== undefined) blocks.push({ type: "text", text: turn.text })
  const uses = turn.toolUse === undefined ? [] : Array.isArray(turn.toolUse) ? turn.toolUse : [turn.toolUse]
  for (const u of uses) blocks.push({ type: "tool_use", id: u.id ?? newId("toolu"), name: u.name, input: u.input })
  if (blocks.length === 0) blocks.push({ type: "text", text: "" })
  return blocks
}

/** Final-user-message prefixes of claude's own forked side queries (same model, tools and system as the main loop). */
export const SIDE_QUERY_MARKERS: readonly string[] = ["[SUGGESTION MODE:"]

/** System prompt fragments that identify the main agent loop (SDK default and claude_code preset). */
export const MAIN_SYSTEM_MARKERS: readonly string[] = ["You are a Claude agent, built on Anthropic's Claude Agent SDK", "You are Claude Code"]

/** Text of the last user message of a Messages request body ("" when none). */
export function lastUserText(body: any): string {
  const msgs: any[] = Array.isArray(body?.messages) ? body.messages : []
  for (let i = msgs.length - 1; i >= 0; i--) {
    const m = msgs[i]
    if (m?.role !== "user") continue
    if (typeof m.content === "string") return m.content
    if (Array.isArray(m.content)) return m.content.filter((b: any) => b?.type === "text").map((b: any) => b.text).join("\n")
    return ""
  }
  return ""
}

/** The tool_result blocks of the last user message of a Messages request body. */
export function toolResultsOf(body: any): Array<{ type: "tool_result"; tool_use_id: string; content: unknown; is_error?: boolean }> {
  const msgs: any[] = Array.isArray(body?.messages) ? body.messages : []
  const last = [...msgs].reverse().find((m) => m?.role === "user")
  return Array.isArray(last?.content) ? last.content.filter((b: any) => b?.type === "tool_result") : []
}

function systemText(body: any): string {
  const sys = body?.system
  if (typeof sys === "string") return sys
  if (Array.isArray(sys)) return sys.map((b: any) => (typeof b?.text === "string" ? b.text : "")).join("\n")
  return ""
}

/**
 * Default main/side split for POST /v1/messages:
 * - side when the last user message starts with a known side-query marker (prompt suggestions);
 * - main when the request carries tools;
 * - main when it has no tools but the system prompt is the agent's (e.g. Options.tools = []);
 * - side otherwise (tool-less helper calls with their own system prompt).
 * A test that uses a custom systemPrompt together with `tools: []` should pass `classify`.
 */
/**
 * The check claude makes of a model it is switched to (the SDK's setModel, `/model`): one
 * user message "Hi", no tools, under the claude_code preset's system prompt.
 */
export function isModelCheck(body: any): boolean {
  const msgs: any[] = Array.isArray(body?.messages) ? body.messages : []
  return !(Array.isArray(body?.tools) && body.tools.length > 0) && msgs.length === 1 && lastUserText(body).trim() === "Hi"
}

export function classifyMessagesRequest(body: any): "main" | "side" {
  const text = lastUserText(body).trimStart()
  if (SIDE_QUERY_MARKERS.some((m) => text.startsWith(m))) return "side"
  if (isModelCheck(body)) return "side"
  if (Array.isArray(body?.tools) && body.tools.length > 0) return "main"
  const sys = systemText(body)
  if (MAIN_SYSTEM_MARKERS.some((m) => sys.includes(m))) return "main"
  return "side"
}

function isErrorTurn(t: Turn): t is ErrorTurn {
  return "error" in t && t.error !== undefined
}
function isSlowTurn(t: Turn): t is SlowTurn {
  return "slow" in t && t.slow !== undefined
}

/** Splits a string into a few pieces so deltas look like real streaming. */
function pieces(s: string, n = 3): string[] {
  if (s.length <= n) return [s]
  const size = Math.ceil(s.length / n)
  const out: string[] = []
  for (let i = 0; i < s.length; i += size) out.push(s.slice(i, i + size))
  return out
}

export async function startFakeAnthropic(script: Turn[] = [], options: FakeAnthropicOptions = {}): Promise<FakeAnthropic> {
  const defaultText = options.defaultText ?? "OK"
  let turns: Turn[] = [...script]
  let cursor = 0
  let errorHits = 0
  const requests: RecordedRequest[] = []
  const unknownPaths: string[] = []
  const sockets = new Set<Socket>()
  const openStreams = new Set<ServerResponse>()
  let releaseHeld: Array<() => void> = []
  let mainWaiters: Array<() => void> = []
  let slowWaiters: Array<() => void> = []
  let slowDone = 0
  let seq = 0

  const notify = (list: Array<() => void>) => {
    for (const w of list.splice(0)) w()
  }

  const log = (...args: unknown[]) => {
    if (options.verbose) console.error("[fakeAnthropic]", ...args)
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      log("handler error", err)
      if (!res.headersSent) {
        res.writeHead(500, { "content-type": "application/json" })
        res.end(JSON.stringify({ type: "error", error: { type: "api_error", message: String(err) } }))
      } else res.destroy()
    })
  })
  server.on("connection", (s) => {
    sockets.add(s)
    s.on("close", () => sockets.delete(s))
  })

  async function readBody(req: IncomingMessage): Promise<any> {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const raw = Buffer.concat(chunks).toString("utf8")
    if (raw === "") return undefined
    try {
      return JSON.parse(raw)
    } catch {
      return raw
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = req.url ?? "/"
    const path = url.split("?")[0] ?? "/"
    const method = req.method ?? "GET"
    const body = await readBody(req)
    const rec: RecordedRequest = {
      seq: seq++,
      method,
      path,
      url,
      headers: req.headers,
      body,
      kind: "other",
      at: Date.now()
    }
    requests.push(rec)
    res.on("close", () => {
      if (!res.writableFinished) rec.aborted = true
    })

    if ((method === "HEAD" || method === "GET") && path === "/api/hello") {
      // connectivity probe claude makes when nonessential traffic is allowed
      res.writeHead(200, { "content-type": "application/json" })
      return res.end(method === "HEAD" ? undefined : JSON.stringify({ message: "hello" }))
    }

    if (method === "POST" && path === "/v1/messages/count_tokens") {
      rec.kind = "count_tokens"
      log("count_tokens")
      return json(res, 200, { input_tokens: estimateTokens(body) })
    }

    if (method === "POST" && path === "/v1/messages") {
      const isMain = (options.classify?.(body) ?? classifyMessagesRequest(body)) === "main"
      const model: string = body?.model ?? "claude-fake"
      const stream = body?.stream === true
      if (!isMain) {
        rec.kind = "side"
        log("side request", model, summarize(body))
        return reply(res, stream, { text: defaultText }, model)
      }
      rec.kind = "main"
      const turn = turns[cursor]
      if (turn === undefined) {
        rec.unscripted = true
        log("main request after the script ran out", summarize(body))
        notify(mainWaiters)
        return reply(res, stream, { text: defaultText }, model)
      }
      rec.turnIndex = cursor
      if (isErrorTurn(turn)) {
        errorHits++
        if (errorHits >= (turn.times ?? 1)) {
          cursor++
          errorHits = 0
        }
      } else cursor++
      log(`main request -> turn ${rec.turnIndex}`, JSON.stringify(turn).slice(0, 200))
      notify(mainWaiters)
      if (isErrorTurn(turn)) {
        const { status, type, message, headers } = turn.error
        res.writeHead(status, { "content-type": "application/json", "request-id": newId("req"), ...headers })
        res.end(JSON.stringify({ type: "error", error: { type, message } }))
        return
      }
      if (isSlowTurn(turn)) return slow(res, turn, model)
      return reply(res, stream, turn, model)
    }

    // Anything else: log it so we can see what claude probes.
    unknownPaths.push(`${method} ${url}`)
    console.warn(`[fakeAnthropic] unknown path: ${method} ${url}`)
    json(res, 404, { type: "error", error: { type: "not_found_error", message: `fake: no route for ${method} ${path}` } })
  }

  function json(res: ServerResponse, status: number, data: unknown) {
    res.writeHead(status, { "content-type": "application/json", "request-id": newId("req") })
    res.end(JSON.stringify(data))
  }

  function usageOf(u?: Partial<Usage>): Usage {
    return { ...DEFAULT_USAGE, ...u }
  }

  function messageStart(model: string, usage: Usage) {
    return {
      type: "message_start",
      message: {
        id: newId("msg"),
        type: "message",
        role: "assistant",
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { ...usage, output_tokens: 1 }
      }
    }
  }

  function sseHead(res: ServerResponse) {
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
      "request-id": newId("req")
    })
    openStreams.add(res)
    res.on("close", () => openStreams.delete(res))
  }

  function send(res: ServerResponse, event: { type: string }) {
    if (res.destroyed || res.writableEnded) return
    res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`)
  }

  function reply(res: ServerResponse, stream: boolean, turn: ReplyTurn, requestModel: string) {
    const model = turn.model ?? requestModel
    const blocks = replyBlocks(turn)
    const hasTool = blocks.some((b) => b.type === "tool_use")
    const stopReason = turn.stopReason ?? (hasTool ? "tool_use" : "end_turn")
    const usage = usageOf(turn.usage)
    if (!stream) {
      return json(res, 200, {
        id: newId("msg"),
        type: "message",
        role: "assistant",
        model,
        content: blocks,
        stop_reason: stopReason,
        stop_sequence: null,
        usage
      })
    }
    sseHead(res)
    send(res, messageStart(model, usage))
    send(res, { type: "ping" })
    blocks.forEach((b, index) => {
      if (b.type === "text") {
        send(res, { type: "content_block_start", index, content_block: { type: "text", text: "" } } as any)
        for (const p of pieces(b.text)) send(res, { type: "content_block_delta", index, delta: { type: "text_delta", text: p } } as any)
      } else if (b.type === "thinking") {
        send(res, { type: "content_block_start", index, content_block: { type: "thinking", thinking: "", signature: "" } } as any)
        for (const p of pieces(b.thinking))
          send(res, { type: "content_block_delta", index, delta: { type: "thinking_delta", thinking: p } } as any)
        send(res, { type: "content_block_delta", index, delta: { type: "signature_delta", signature: b.signature } } as any)
      } else {
        send(res, { type: "content_block_start", index, content_block: { type: "tool_use", id: b.id, name: b.name, input: {} } } as any)
        for (const p of pieces(JSON.stringify(b.input)))
          send(res, { type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: p } } as any)
      }
      send(res, { type: "content_block_stop", index } as any)
    })
    send(res, { type: "message_delta", delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: usage.output_tokens } } as any)
    send(res, { type: "message_stop" })
    res.end()
  }

  async function slow(res: ServerResponse, turn: SlowTurn, model: string) {
    const usage = usageOf(turn.usage)
    const { chunks, delayMs, hold } = turn.slow
    sseHead(res)
    send(res, messageStart(model, usage))
    send(res, { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } } as any)
    for (const c of chunks) {
      if (res.destroyed) return
      send(res, { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: c } } as any)
      await sleep(delayMs)
    }
    if (hold && !res.destroyed) {
      slowDone++
      notify(slowWaiters)
      await new Promise<void>((resolve) => {
        releaseHeld.push(resolve)
        res.on("close", resolve)
      })
    } else {
      slowDone++
      notify(slowWaiters)
    }
    if (res.destroyed) return
    send(res, { type: "content_block_stop", index: 0 } as any)
    send(res, { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: usage.output_tokens } } as any)
    send(res, { type: "message_stop" })
    res.end()
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => resolve())
  })
  const { port } = server.address() as AddressInfo

  const waitUntil = (check: () => boolean, list: Array<() => void>, timeoutMs: number, what: string) =>
    new Promise<void>((resolve, reject) => {
      if (check()) return resolve()
      const timer = setTimeout(() => reject(new Error(`fakeAnthropic: timed out waiting for ${what}`)), timeoutMs)
      const waiter = () => {
        if (check()) {
          clearTimeout(timer)
          resolve()
        } else list.push(waiter)
      }
      list.push(waiter)
    })

  const mainRequests = () => requests.filter((r) => r.kind === "main")

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    unknownPaths,
    mainRequests,
    setScript(next) {
      turns = [...next]
      cursor = 0
      errorHits = 0
    },
    push(...more) {
      turns.push(...more)
    },
    remaining: () => turns.length - cursor,
    async waitForMainRequests(count, timeoutMs = 30_000) {
      await waitUntil(() => mainRequests().length >= count, mainWaiters, timeoutMs, `${count} main requests`)
      return mainRequests()[count - 1]!
    },
    async waitForSlowChunks(count = 1, timeoutMs = 30_000) {
      await waitUntil(() => slowDone >= count, slowWaiters, timeoutMs, `${count} slow streams`)
    },
    release() {
      notify(releaseHeld)
    },
    abortStreams() {
      for (const r of openStreams) r.destroy()
      openStreams.clear()
    },
    async close() {
      notify(releaseHeld)
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      for (const s of sockets) s.destroy()
      server.closeAllConnections()
      await closed
    }
  }
}

function estimateTokens(body: any): number {
  return Math.max(1, Math.ceil(JSON.stringify(body ?? "").length / 4))
}

function summarize(body: any): string {
  if (body === undefined) return "(no body)"
  const msgs = Array.isArray(body.messages) ? body.messages : []
  const last = msgs[msgs.length - 1]
  const content = typeof last?.content === "string" ? last.content : JSON.stringify(last?.content ?? "")
  return `model=${body.model} stream=${body.stream} tools=${Array.isArray(body.tools) ? body.tools.length : 0} max_tokens=${body.max_tokens} messages=${msgs.length} last=${content.slice(0, 160)}`
}
