// The page's live lag (issue 11): from a Claude message reaching agentlog to its entry being
// on screen in a session page, with 20 sessions streaming at once (baseline: one session
// streaming, same run).
//
// The service runs in this process, as `npm start` wires it (store, write side, read side,
// HTTP, the page), but with a supervisor that starts nothing: the bench plays Claude and
// records each message through the service's own SessionCommands, as the supervisor does
// when Claude's process sends one. The clock starts just before that call (the message has
// reached agentlog) and stops in the page, at the first animation frame after the entry's
// element appeared (a MutationObserver per page). Both ends read performance.timeOrigin +
// performance.now(), the same machine's wall clock. Two of the streaming sessions are
// watched, each in a page of its own browser.
import { mkdirSync, rmSync } from "node:fs"
import { join } from "node:path"
import { Effect, Layer, ManagedRuntime } from "effect"
import type { Page } from "playwright-core"
import { SessionCommands } from "../src/commands/sessionCommands.ts"
import { loadConfig } from "../src/config.ts"
import { silentLogger } from "../src/log.ts"
import { Supervisor } from "../src/process/supervisor.ts"
import { App, appLayer, Http } from "../src/service.ts"
import { openBrowser, type Browser } from "../test/browser/support/chromium.ts"
import type { EventView } from "../web/src/api.ts"
import { emptyFold, fold } from "../web/src/fold.ts"
import { streamMessages, type MessageContext } from "./messages.ts"
import { Rng } from "./rng.ts"
import { fmt, percentile, type Row } from "./table.ts"

export interface WebLiveOptions {
  readonly dir: string
  readonly seed: number
  readonly sessions: number
  readonly watched: number
  readonly durationMs: number
  /** Mean time between two messages of one session. */
  readonly intervalMs: number
  readonly log: (line: string) => void
}

interface LiveResult {
  readonly lags: Array<number>
  readonly missing: number
  readonly messages: number
  readonly ms: number
}

const now = () => performance.timeOrigin + performance.now()

/** A supervisor that starts no process: the bench records Claude's messages itself. */
const idleSupervisor = Layer.succeed(Supervisor)({
  start: Effect.succeed({ abandoned: 0, requeued: 0 }),
  shutdown: Effect.void,
  queuePosition: () => undefined,
  runningCount: () => 0,
  queueFull: () => false,
  seen: () => Effect.succeed(true)
})

// In the page: when each entry (its data-revision) first appeared, at the next frame.
const watchEntries = `(() => {
  window.__shown = new Map()
  const mark = (el) => {
    const rev = Number(el.getAttribute("data-revision"))
    if (window.__shown.has(rev)) return
    window.__shown.set(rev, 0)
    requestAnimationFrame(() => window.__shown.set(rev, performance.timeOrigin + performance.now()))
  }
  new MutationObserver((records) => {
    for (const r of records)
      for (const n of r.addedNodes) {
        if (n.nodeType !== 1) continue
        if (n.hasAttribute("data-revision")) mark(n)
        for (const el of n.querySelectorAll("[data-revision]")) mark(el)
      }
  }).observe(document.body, { subtree: true, childList: true })
})()`

const measure = async (dir: string, seed: number, sessions: number, watched: number, durationMs: number, intervalMs: number): Promise<LiveResult> => {
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const config = loadConfig({ AGENTLOG_PORT: "0", AGENTLOG_HOST: "127.0.0.1", AGENTLOG_DATA_DIR: dir })
  const runtime = ManagedRuntime.make(appLayer({ supervisor: idleSupervisor }).pipe(Layer.provide(Layer.succeed(App)({ config, logger: silentLogger }))))
  // Each watched page in a browser of its own: a person watching two sessions has two
  // windows in view, while a second tab of one headless browser is a background tab that
  // gets no animation frames (so it draws nothing until it is brought to the front).
  const browsers: Array<Browser> = []
  try {
    const { url, commands } = await runtime.runPromise(
      Effect.gen(function* () {
        return { url: (yield* Http).url, commands: yield* SessionCommands }
      })
    )
    const rng = new Rng(seed)
    const ids = Array.from({ length: sessions }, () => ({ sessionId: rng.uuid(), runId: rng.uuid(), claude: { claudeSessionId: rng.uuid() } as MessageContext }))
    for (const s of ids) {
      await runtime.runPromise(commands.handle({ kind: "LaunchSession", sessionId: s.sessionId, runId: s.runId, query: "Stream to the page", options: {} }, { correlationId: s.runId, source: "api" }))
      await runtime.runPromise(commands.handle({ kind: "StartRun", sessionId: s.sessionId, runId: s.runId, supervisorId: "bench" }, { correlationId: s.runId, source: "supervisor" }))
    }
    const pages: Array<Page> = []
    for (const s of ids.slice(0, watched)) {
      const browser = await openBrowser()
      browsers.push(browser)
      const page = await browser.context.newPage()
      await page.goto(`${url}/sessions/${s.sessionId}`)
      await page.locator(".session-head .connection", { hasText: "live" }).waitFor({ timeout: 60_000 })
      await page.locator(".transcript .entry").first().waitFor({ timeout: 60_000 })
      await page.evaluate(watchEntries)
      pages.push(page)
    }

    // When each message reached agentlog, by session and revision.
    const sent = ids.map(() => new Map<number, number>())
    let messages = 0
    const started = performance.now()
    const deadline = started + durationMs
    await streamMessages(ids, seed, started, deadline, intervalMs, async (s, i, message) => {
      const t0 = now()
      const outcome = await runtime.runPromise(
        commands.handle({ kind: "RecordClaudeMessage", sessionId: s.sessionId, runId: s.runId, message }, { correlationId: s.runId, source: "claude" })
      )
      sent[i]!.set(Number(outcome.revision), t0)
      messages++
    })
    const ms = performance.now() - started

    const lags: Array<number> = []
    let missing = 0
    for (const [i, page] of pages.entries()) {
      // What the page must show: the entries the page's own fold makes of the recorded events.
      const text = await (await fetch(`${url}/v1/sessions/${ids[i]!.sessionId}/events`, { headers: { accept: "application/x-ndjson" } })).text()
      const events = text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as EventView)
      const expected = [...new Set(fold(emptyFold, events).entries.map((e) => e.revision))].filter((rev) => sent[i]!.has(rev))
      // Barrier: the last expected entry drawn (or 30 s), then read every time at once.
      const last = Math.max(...expected)
      await page
        .waitForFunction(`window.__shown.get(${last}) > 0`, undefined, { timeout: 30_000 })
        .catch(() => undefined)
      const shown = new Map((await page.evaluate(`[...window.__shown.entries()]`)) as Array<[number, number]>)
      for (const rev of expected) {
        const at = shown.get(rev)
        if (at === undefined || at === 0) missing++
        else lags.push(at - sent[i]!.get(rev)!)
      }
    }
    return { lags, missing, messages, ms }
  } finally {
    for (const b of browsers) await b.close()
    await runtime.dispose()
    rmSync(dir, { recursive: true, force: true })
  }
}

export const runWebLive = async (o: WebLiveOptions): Promise<Array<Row>> => {
  const one = await measure(join(o.dir, "web-live-1"), o.seed, 1, 1, o.durationMs, o.intervalMs)
  o.log(`web live: 1 session, ${one.lags.length} entries on screen: p50 ${fmt.ms(percentile(one.lags, 50))} p99 ${fmt.ms(percentile(one.lags, 99))}`)
  const many = await measure(join(o.dir, "web-live-n"), o.seed + 1, o.sessions, o.watched, o.durationMs, o.intervalMs)
  const rate = (many.messages / many.ms) * 1000
  o.log(
    `web live: ${o.sessions} sessions (${fmt.rate(rate, "messages/s")}), ${o.watched} watched, ${many.lags.length} entries on screen, ${many.missing} missing: ` +
      `p50 ${fmt.ms(percentile(many.lags, 50))} p99 ${fmt.ms(percentile(many.lags, 99))} max ${fmt.ms(Math.max(...many.lags))}`
  )
  const p99 = percentile(many.lags, 99)
  return [
    {
      item: 11,
      what: `web: live lag, message recorded -> on screen, p50, ${o.sessions} sessions streaming (${fmt.rate(rate, "msg/s")})`,
      figure: fmt.ms(percentile(many.lags, 50)),
      baseline: `1 session ${fmt.ms(percentile(one.lags, 50))}`,
      ratio: fmt.ratio(percentile(many.lags, 50) / percentile(one.lags, 50))
    },
    {
      item: 11,
      what: `web: live lag, p99, ${o.sessions} sessions streaming, ${o.watched} watched (${many.missing + one.missing} entries never shown)`,
      figure: fmt.ms(p99),
      baseline: `1 session ${fmt.ms(percentile(one.lags, 99))}`,
      ratio: fmt.ratio(p99 / percentile(one.lags, 99)),
      goal: "< 100 ms",
      pass: p99 < 100 && many.missing + one.missing === 0
    }
  ]
}
