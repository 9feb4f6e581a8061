// The dashboard's figures (issue 11): the JavaScript the first screen ships, the session
// list's first page with 100,000 sessions, and a long transcript opened and scrolled, in
// headless Chromium against the service on a generated dataset. Each timing has the API
// call the page makes as its baseline, measured in the same run.
import { spawnSync } from "node:child_process"
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs"
import { join, resolve } from "node:path"
import { gzipSync } from "node:zlib"
import type { Page } from "playwright-core"
import { openBrowser } from "../test/browser/support/chromium.ts"
import type { EventView } from "../web/src/api.ts"
import { emptyFold, fold } from "../web/src/fold.ts"
import { generateDataset, type Dataset } from "./generate.ts"
import { mainThreadTasks, profiled, type ProfileLine, type TaskTimes } from "./webProfile.ts"
import { startService } from "./scale.ts"
import { fmt, median, type Row } from "./table.ts"

const repo = resolve(import.meta.dirname, "..")
const item = 11

export interface WebBenchOptions {
  readonly dir: string
  readonly seed: number
  readonly sessions: number
  readonly transcriptEvents: number
  readonly rounds: number
  readonly log: (line: string) => void
  /** Log where the page spends its time (a CPU profile of the open and the scroll). */
  readonly profile?: boolean
}

/** Gzipped bytes of the scripts index.html loads before anything is clicked (entry + modulepreloads). */
export const firstScreenJs = (dist = join(repo, "web/dist")): { bytes: number; files: ReadonlyArray<string> } => {
  const html = readFileSync(join(dist, "index.html"), "utf8")
  const files = [...html.matchAll(/<(?:script[^>]*\bsrc|link[^>]*rel="modulepreload"[^>]*\bhref)="\/([^"]+\.js)"/g)].map((m) => m[1]!)
  return { bytes: files.reduce((n, f) => n + gzipSync(readFileSync(join(dist, f)), { level: 9 }).length, 0), files }
}

/** performance.now() in the page (ms since navigation) when `condition` first holds, watched by a MutationObserver. */
const drawnAt = (page: Page, condition: string): Promise<number> =>
  page.evaluate(`new Promise((resolve) => {
    const check = () => { if (${condition}) { resolve(performance.now()); return true } return false }
    if (check()) return
    const mo = new MutationObserver(() => { if (check()) mo.disconnect() })
    mo.observe(document, { subtree: true, childList: true, attributes: true })
  })`) as Promise<number>

const ms = async (f: () => Promise<unknown>): Promise<number> => {
  const t = performance.now()
  await f()
  return performance.now() - t
}

const logProfile = (o: WebBenchOptions, what: string, lines: ReadonlyArray<ProfileLine>) =>
  o.log(`web: page CPU while ${what}, self time:\n${lines.map((l) => `  ${l.selfMs.toFixed(0).padStart(6)} ms  ${l.fn}`).join("\n")}`)

/** What a trace says of a scroll's main-thread tasks: how much of the longest was work, and the most work in one. */
const cpuRow = (what: string, t: TaskTimes): Row => ({
  item,
  what: `web: ${what}, the page's main thread (trace): the longest task and its CPU time; the most CPU in one task; all of it`,
  figure: `${fmt.ms(t.longest.wallMs)} with ${fmt.ms(t.longest.cpuMs)} CPU; ${fmt.ms(t.mostCpuMs)}; ${fmt.ms(t.cpuMs)} in ${t.tasks.toLocaleString("en-US")} tasks`
})

const generate = (o: WebBenchOptions, dataDir: string): Dataset => {
  rmSync(dataDir, { recursive: true, force: true })
  mkdirSync(dataDir, { recursive: true })
  o.log(`web: generating ${o.sessions.toLocaleString("en-US")} sessions and a ${o.transcriptEvents.toLocaleString("en-US")}-event transcript`)
  const ds = generateDataset(dataDir, {
    sessions: o.sessions,
    events: o.sessions * 9 + o.transcriptEvents + 1000,
    replayEvents: 1000,
    transcriptEvents: o.transcriptEvents,
    seed: o.seed
  })
  // The read models first, as an operator would after an import (the service then starts
  // from their checkpoints): building 100,000 sessions' from zero takes longer than the
  // bench waits for the service to be ready.
  o.log("web: building the read models (npm run rebuild-projections)")
  const rebuilt = spawnSync(process.execPath, ["src/projections/rebuildCli.ts"], { cwd: repo, env: { ...process.env, AGENTLOG_DATA_DIR: dataDir }, stdio: ["ignore", "ignore", "inherit"] })
  if (rebuilt.status !== 0) throw new Error("rebuild-projections failed")
  return ds
}

export const runWebBench = async (o: WebBenchOptions): Promise<Array<Row>> => {
  const rows: Array<Row> = []
  const built = spawnSync(process.execPath, ["web/build.ts", "--if-stale"], { cwd: repo, stdio: "inherit" })
  if (built.status !== 0) throw new Error("the dashboard did not build")
  const js = firstScreenJs()
  rows.push({
    item,
    what: "web: JavaScript of the first screen, gzipped",
    figure: `${(js.bytes / 1024).toFixed(0)} KB (${js.files.length} file${js.files.length === 1 ? "" : "s"})`,
    goal: "<= 200 KB",
    pass: js.bytes <= 200 * 1024
  })

  // BENCH_WEB_REUSE=1 keeps the dataset (BENCH_DIR/web-<sessions>) between runs: generating
  // and rebuilding 100,000 sessions takes minutes, a change to the page needs only the browser part.
  const reuse = process.env.BENCH_WEB_REUSE === "1"
  const dataDir = join(o.dir, reuse ? `web-${o.sessions}-${o.transcriptEvents}` : "web")
  const kept = reuse && existsSync(join(dataDir, "read.db")) && existsSync(join(dataDir, "dataset.json"))
  const ds: Pick<Dataset, "transcriptSessionId"> = kept ? JSON.parse(readFileSync(join(dataDir, "dataset.json"), "utf8")) : generate(o, dataDir)
  if (kept) o.log(`web: reusing the dataset in ${dataDir}`)
  o.log("web: starting the service")
  const service = await startService(dataDir, join(o.dir, "web-service.log"), undefined)
  const browser = await openBrowser()
  try {
    // ---- the list ----
    const apiList = median(await Promise.all([0, 1, 2].map(() => ms(() => fetch(`${service.url}/v1/sessions?archived=false&limit=100`).then((r) => r.json())))))
    const listTimes: Array<number> = []
    for (let i = 0; i < o.rounds; i++) {
      const page = await browser.context.newPage()
      await page.goto(`${service.url}/`, { waitUntil: "commit" })
      listTimes.push(await drawnAt(page, `document.querySelector("table.sessions tbody tr[data-session]") !== null`))
      await page.close()
    }
    const list = median(listTimes)
    rows.push({
      item,
      what: `web: session list, navigation to the first page drawn (${o.sessions.toLocaleString("en-US")} sessions)`,
      figure: `${fmt.ms(list)} (${listTimes.map((t) => t.toFixed(0)).join(", ")})`,
      baseline: `${fmt.ms(apiList)} (its API call)`,
      ratio: fmt.ratio(list / apiList),
      goal: "< 500 ms",
      pass: list < 500
    })

    // ---- the transcript ----
    const events: Array<EventView> = []
    const ndjsonMs = await ms(async () => {
      const r = await fetch(`${service.url}/v1/sessions/${ds.transcriptSessionId}/events`, { headers: { accept: "application/x-ndjson" } })
      for (const line of (await r.text()).split("\n")) if (line !== "") events.push(JSON.parse(line) as EventView)
    })
    const folded = fold(emptyFold, events).entries
    const entries = folded.length
    const newest = folded[entries - 1]?.revision ?? -1
    const openTimes: Array<number> = []
    const filledTimes: Array<number> = []
    const fillTasks: Array<number> = []
    let longest = 0
    let scrollTasks: TaskTimes | undefined
    let readingLongest = 0
    let readingTasks: TaskTimes | undefined
    for (let i = 0; i < o.rounds; i++) {
      const page = await browser.context.newPage()
      // The longest task from the page's start until every entry is in (the fill-in behind the first draw).
      await page.addInitScript(`window.__longest = 0; new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__longest = Math.max(window.__longest, e.duration) }).observe({ type: "longtask" })`)
      const drawn = async () => {
        await page.goto(`${service.url}/sessions/${ds.transcriptSessionId}`, { waitUntil: "commit" })
        // Drawn: the newest entry is on screen (the page shows a session's end first).
        openTimes.push(await drawnAt(page, `document.querySelector('.transcript .entry[data-revision="${newest}"]') !== null`))
        filledTimes.push(await drawnAt(page, `document.querySelector(".transcript")?.getAttribute("data-count") === "${entries}" && document.querySelector("main[data-history=complete]") !== null`))
        fillTasks.push((await page.evaluate("window.__longest")) as number)
      }
      if (o.profile && i === 0) logProfile(o, "opening the transcript", await profiled(page, drawn))
      else await drawn()
      if (i === 0) {
        // Scroll from the end to the top and back, a screen per frame, watching for long tasks.
        const scroll = async () => (longest = (await page.evaluate(`new Promise((done) => {
          let max = 0
          new PerformanceObserver((l) => { for (const e of l.getEntries()) max = Math.max(max, e.duration) }).observe({ type: "longtask" })
          const el = document.querySelector(".transcript")
          let dir = -1
          const step = () => {
            el.scrollTop += dir * el.clientHeight
            if (dir < 0 && el.scrollTop <= 0) dir = 1
            else if (dir > 0 && el.scrollTop + el.clientHeight >= el.scrollHeight - 2) return setTimeout(() => done(max), 200)
            requestAnimationFrame(step)
          }
          requestAnimationFrame(step)
        })`)) as number)
        if (o.profile) logProfile(o, "scrolling the transcript", await profiled(page, scroll))
        else scrollTasks = await mainThreadTasks(page, scroll)
        // At reading speed (a quarter of a screen a frame, up from the end for 400 frames), where
        // every entry is drawn in full.
        const reading = async () => (readingLongest = (await page.evaluate(`new Promise((done) => {
          let max = 0
          new PerformanceObserver((l) => { for (const e of l.getEntries()) max = Math.max(max, e.duration) }).observe({ type: "longtask" })
          const el = document.querySelector(".transcript")
          el.scrollTop = el.scrollHeight
          let frames = 0
          const step = () => {
            el.scrollTop -= el.clientHeight / 4
            if (++frames >= 400 || el.scrollTop <= 0) return setTimeout(() => done(max), 200)
            requestAnimationFrame(step)
          }
          setTimeout(() => requestAnimationFrame(step), 300)
        })`)) as number)
        readingTasks = await mainThreadTasks(page, reading)
      }
      await page.close()
    }
    const open = median(openTimes)
    rows.push({
      item,
      what: `web: transcript of ${entries.toLocaleString("en-US")} entries (${events.length.toLocaleString("en-US")} events), navigation to drawn`,
      figure: fmt.ms(open),
      baseline: `${fmt.ms(ndjsonMs)} (NDJSON of its events)`,
      ratio: fmt.ratio(open / ndjsonMs),
      goal: "< 1 s",
      pass: open < 1000
    })
    rows.push({
      item,
      what: "web: that transcript, navigation to every entry in (the fill-in behind the first draw)",
      figure: `${fmt.ms(median(filledTimes))}, longest task ${fmt.ms(Math.max(...fillTasks))}`,
      baseline: `${fmt.ms(ndjsonMs)} (NDJSON of its events)`,
      ratio: fmt.ratio(median(filledTimes) / ndjsonMs)
    })
    rows.push({
      item,
      what: "web: that transcript scrolled end to end and back, longest task",
      figure: fmt.ms(longest),
      goal: "<= 100 ms",
      pass: longest <= 100
    })
    if (scrollTasks) rows.push(cpuRow("that scroll", scrollTasks))
    rows.push({
      item,
      what: "web: that transcript scrolled at a quarter screen a frame (400 frames up from the end), longest task",
      figure: fmt.ms(readingLongest),
      goal: "<= 100 ms",
      pass: readingLongest <= 100
    })
    if (readingTasks) rows.push(cpuRow("the scroll at a quarter screen", readingTasks))
  } finally {
    await browser.close()
    await service.stop()
    if (!reuse) rmSync(dataDir, { recursive: true, force: true })
  }
  return rows
}
