import { act, cleanup, render } from "@testing-library/react"
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import type { Entry } from "../fold.ts"
import { Transcript } from "./Transcript.tsx"

beforeEach(() => {
  // A view 600 px high (happy-dom lays nothing out): the virtualizer draws what is in it.
  vi.spyOn(HTMLElement.prototype, "clientHeight", "get").mockReturnValue(600)
  vi.spyOn(HTMLElement.prototype, "clientWidth", "get").mockReturnValue(1000)
  // Every entry measures what it was estimated at (a one-line text: 64 px).
  vi.spyOn(HTMLElement.prototype, "offsetHeight", "get").mockReturnValue(64)
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] })
})
afterEach(() => {
  cleanup()
  vi.useRealTimers()
  vi.restoreAllMocks()
})

const entries: ReadonlyArray<Entry> = Array.from({ length: 2000 }, (_, i) => ({
  key: `e${i}`,
  kind: "assistant_text",
  revision: i,
  at: "2026-11-30T12:00:00Z",
  runId: "r",
  text: `entry ${i}`
}))

const drawn = (el: Element) => ({
  full: [...el.querySelectorAll(".entry[data-revision]")].map((e) => Number(e.getAttribute("data-revision"))),
  sketched: el.querySelectorAll(".entry-slot.sketch").length
})

const scrollTo = (el: HTMLElement, top: number) =>
  act(() => {
    el.scrollTop = top
    el.dispatchEvent(new Event("scroll"))
  })

describe("the transcript during a fling", () => {
  it("sketches the entries entering while it scrolls a screen or more at a time, and draws them in full when it slows", () => {
    const { container } = render(<Transcript entries={entries} interactive={false} sessionId="s" />)
    const el = container.querySelector<HTMLElement>(".transcript")!
    // happy-dom does not scroll what it does not lay out: the offset is the test's.
    let top = 0
    Object.defineProperty(el, "scrollTop", { configurable: true, get: () => top, set: (v: number) => void (top = v) })
    el.scrollTo = ((o: ScrollToOptions) => void (top = o.top ?? top)) as typeof el.scrollTo
    const start = 64 * 1500
    scrollTo(el, start)
    const atEnd = drawn(el)
    expect(atEnd.full).toContain(1500)
    expect(atEnd.sketched).toBe(0)

    // A slow scroll draws in full.
    scrollTo(el, start - 100)
    scrollTo(el, start - 200)
    expect(drawn(el).sketched).toBe(0)

    // Three screens up, a screen at a time: the new entries are sketches, not entries.
    for (let i = 1; i <= 3; i++) scrollTo(el, start - 200 - 600 * i)
    const flinging = drawn(el)
    expect(flinging.sketched).toBeGreaterThan(3)
    expect(flinging.full.some((r) => atEnd.full.includes(r))).toBe(false)
    expect(container.querySelector(".entry-slot.sketch")?.textContent).toMatch(/^Claude: entry \d+$/)

    // No fast scroll for a while: the entries in view are drawn in full.
    act(() => vi.advanceTimersByTime(200))
    const settled = drawn(el)
    expect(settled.sketched).toBe(0)
    expect(settled.full.length).toBe(flinging.sketched + flinging.full.length)
  })
})
