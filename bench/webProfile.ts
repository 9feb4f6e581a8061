// A CPU profile of the page while it opens a long transcript and scrolls it end to end
// (BENCH_SECTIONS=web with BENCH_PROFILE=1 writes it beside the figures): self time by
// function, so a slow figure points at what the page does, not only at how long it took.
import type { Page } from "playwright-core"

export interface ProfileLine {
  readonly fn: string
  readonly selfMs: number
}

interface CpuProfile {
  readonly nodes: ReadonlyArray<{ readonly id: number; readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number } }>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

/** Runs `f` under the V8 sampling profiler of the page; the functions with the most self time. */
export const profiled = async (page: Page, f: () => Promise<unknown>, top = 15): Promise<ReadonlyArray<ProfileLine>> => {
  const cdp = await page.context().newCDPSession(page)
  await cdp.send("Profiler.enable")
  await cdp.send("Profiler.setSamplingInterval", { interval: 200 })
  await cdp.send("Profiler.start")
  await f()
  const { profile } = (await cdp.send("Profiler.stop")) as unknown as { profile: CpuProfile }
  await cdp.detach()
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map<string, number>()
  profile.samples.forEach((id, i) => {
    const n = byId.get(id)
    if (!n) return
    const file = n.callFrame.url.split("/").pop() ?? ""
    const key = `${n.callFrame.functionName || "(anonymous)"} ${file}:${n.callFrame.lineNumber + 1}`
    self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000)
  })
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([fn, selfMs]) => ({ fn, selfMs }))
}

export interface TaskTimes {
  /** The longest task on the page's main thread, wall time and the CPU time it had (ms). */
  readonly longest: { readonly wallMs: number; readonly cpuMs: number }
  /** The most CPU time one task had (ms). */
  readonly mostCpuMs: number
  /** CPU time of the main thread's tasks, all together (ms). */
  readonly cpuMs: number
  readonly tasks: number
}

interface TraceEvent {
  readonly name: string
  readonly ph: string
  readonly pid: number
  readonly tid: number
  readonly dur?: number
  readonly tdur?: number
  readonly args?: { readonly name?: string }
}

/**
 * The page's main-thread tasks while `f` runs (a Chrome trace of them): each one's wall time
 * and the CPU time its thread had in it. On a shared machine a long task can be mostly
 * waiting for a CPU: the trace tells the page's work from the machine's load.
 */
export const mainThreadTasks = async (page: Page, f: () => Promise<unknown>): Promise<TaskTimes> => {
  const cdp = await page.context().newCDPSession(page)
  const events: Array<TraceEvent> = []
  cdp.on("Tracing.dataCollected", (e) => {
    // The protocol types the events as string maps; they are Chrome's trace events.
    for (const t of e.value as unknown as ReadonlyArray<TraceEvent>) if ((t.name === "RunTask" && t.ph === "X") || t.name === "thread_name") events.push(t)
  })
  const complete = new Promise((resolve) => cdp.once("Tracing.tracingComplete", resolve))
  await cdp.send("Tracing.start", { categories: "toplevel,disabled-by-default-devtools.timeline", transferMode: "ReportEvents" })
  await f()
  await cdp.send("Tracing.end")
  await complete
  await cdp.detach()
  // The renderer's main thread that ran the most (about:blank's renderer is there too).
  const mains = new Set(events.filter((e) => e.name === "thread_name" && e.args?.name === "CrRendererMain").map((e) => `${e.pid}/${e.tid}`))
  const byThread = new Map<string, Array<TraceEvent>>()
  for (const e of events) {
    const thread = `${e.pid}/${e.tid}`
    if (e.name !== "RunTask" || !mains.has(thread)) continue
    const list = byThread.get(thread)
    if (list) list.push(e)
    else byThread.set(thread, [e])
  }
  const tasks = [...byThread.values()].sort((a, b) => b.length - a.length)[0] ?? []
  const ms = (us: number | undefined) => (us ?? 0) / 1000
  const longest = tasks.reduce<TraceEvent | undefined>((m, e) => (m === undefined || (e.dur ?? 0) > (m.dur ?? 0) ? e : m), undefined)
  return {
    longest: { wallMs: ms(longest?.dur), cpuMs: ms(longest?.tdur) },
    mostCpuMs: tasks.reduce((m, e) => Math.max(m, ms(e.tdur)), 0),
    cpuMs: tasks.reduce((n, e) => n + ms(e.tdur), 0),
    tasks: tasks.length
  }
}
