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
