// The supervisor's bookkeeping of follow-up starts: a completed run's session is tried
// once at a time, and its position (before the RunCompleted) is held for the checkpoint
// until the attempt is over, so a crash in between replays the RunCompleted.
import { describe, expect, it } from "vitest"
import type { Position } from "../../src/eventstore/eventStore.ts"
import { FollowUpStarts } from "../../src/process/followUpStarts.ts"

const at = (n: number): Position => ({ commit: BigInt(n), prepare: BigInt(n) })

describe("FollowUpStarts", () => {
  it("holds the position before the RunCompleted until the attempt is over, and tries each session once at a time", async () => {
    const starts = new FollowUpStarts()
    starts.completed("s1", "r1", at(10))
    starts.completed("s2", "r2", "start")
    expect(starts.befores()).toEqual([at(10), "start"])
    const finish: Array<(done: boolean) => void> = []
    const calls: Array<string> = []
    const attempt = (sessionId: string, runId: string) =>
      new Promise<boolean>((resolve) => {
        calls.push(`${sessionId}:${runId}`)
        finish.push(resolve)
      })
    const first = starts.drain(attempt)
    // Pumped again while both are in flight: nothing is tried twice.
    expect(starts.drain(attempt)).toEqual([])
    expect(calls).toEqual(["s1:r1", "s2:r2"])
    // An attempt that could not finish (the store stayed unavailable) keeps its position and is tried again.
    finish[1]!(false)
    finish[0]!(true)
    await Promise.all(first)
    expect(starts.befores()).toEqual(["start"])
    starts.drain(attempt)
    expect(calls).toEqual(["s1:r1", "s2:r2", "s2:r2"])
  })

  it("a newer completion of the same session replaces the one in flight, and is kept when that one ends", async () => {
    const starts = new FollowUpStarts()
    starts.completed("s1", "r1", at(5))
    let end: (done: boolean) => void = () => {}
    const inFlight = starts.drain(() => new Promise<boolean>((resolve) => (end = resolve)))
    starts.completed("s1", "r2", at(9))
    end(true)
    await Promise.all(inFlight)
    expect(starts.befores()).toEqual([at(9)])
  })
})
