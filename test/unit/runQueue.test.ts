// The run queue on its own: oldest first, one entry per session, runs accepted by another
// instance held back until they are ready here.
import { describe, expect, it } from "vitest"
import { RunQueue } from "../../src/process/runQueue.ts"

const run = (sessionId: string, readyAt = 0) => ({ sessionId, runId: `run-${sessionId}`, readyAt, acceptedBy: undefined })

describe("RunQueue", () => {
  it("hands out runs first in, first out, and says where each one waits", () => {
    const q = new RunQueue()
    for (const s of ["a", "b", "c"]) q.add(run(s))
    expect(["a", "b", "c"].map((s) => q.position(s))).toEqual([1, 2, 3])
    expect(q.take(0)?.sessionId).toBe("a")
    expect(q.position("b")).toBe(1)
    expect(q.take(0)?.sessionId).toBe("b")
    expect(q.take(0)?.sessionId).toBe("c")
    expect(q.take(0)).toBeUndefined()
    expect(q.size).toBe(0)
  })

  it("keeps one run per session: a newer run of the same session goes to the back", () => {
    const q = new RunQueue()
    q.add(run("a"))
    q.add(run("b"))
    q.add({ ...run("a"), runId: "second" })
    expect(q.size).toBe(2)
    expect(q.take(0)?.sessionId).toBe("b")
    expect(q.take(0)).toMatchObject({ sessionId: "a", runId: "second" })
  })

  it("drops a run started elsewhere or interrupted, and nothing else", () => {
    const q = new RunQueue()
    for (const s of ["a", "b", "c"]) q.add(run(s))
    expect(q.remove("b")).toBe(true)
    expect(q.remove("b")).toBe(false)
    expect(q.position("c")).toBe(2)
    expect([q.take(0)?.sessionId, q.take(0)?.sessionId]).toEqual(["a", "c"])
  })

  it("skips runs that are not ready yet without losing their place", () => {
    const q = new RunQueue()
    q.add(run("later", 1_000))
    q.add(run("now"))
    expect(q.take(500)?.sessionId).toBe("now")
    expect(q.take(500)).toBeUndefined()
    expect(q.nextReadyAt(500)).toBe(1_000)
    expect(q.take(1_000)?.sessionId).toBe("later")
    expect(q.nextReadyAt(1_000)).toBeUndefined()
  })
})
