// The "workspace changed" notice: changes of the worktree while a run is active become at
// most one notice per interval (timed on a TestClock), the watch follows the run's start and
// end, the worktree's making and discarding, and stops with the stream; and, over real HTTP,
// a file written in a running session's worktree reaches its live stream as a notice.
import { randomUUID } from "node:crypto"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Fiber, Layer, Stream } from "effect"
import { TestClock } from "effect/testing"
import { afterEach, describe, expect, it } from "vitest"
import { makeWorkspaceWatch, type Watcher } from "../../src/workspaces/workspaceWatch.ts"
import { startHarness, type Harness } from "../http/httpHarness.ts"
import { openSse } from "../http/sseClient.ts"

/** A watcher whose changes the test makes: what is watched now, and a change in it. */
const fakeWatcher = () => {
  const watched: Array<string> = []
  const live = new Map<string, () => void>()
  const watcher: Watcher = (path, onChange) => {
    watched.push(path)
    live.set(path, onChange)
    return () => void live.delete(path)
  }
  return { watcher, watched, live, change: (path: string) => live.get(path)?.() }
}

/** Lets forked fibers run until they wait (for a queue or the clock). */
const yieldAll = Effect.repeat(Effect.yieldNow, { times: 20 })

const onTestClock = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(Effect.provide(e, Layer.fresh(TestClock.layer())))

describe("the workspace-changed notice", () => {
  it("sends one notice per interval for any number of changes within it, and none without a change", () =>
    onTestClock(
      Effect.gen(function* () {
        const fake = fakeWatcher()
        const watch = yield* makeWorkspaceWatch({ path: "/w", active: true, revision: 5n }, 1_000, fake.watcher)
        let notices = 0
        const fiber = yield* Effect.forkChild(Stream.runForEach(watch.notices, () => Effect.sync(() => void notices++)))
        yield* yieldAll
        expect([...fake.live.keys()]).toEqual(["/w"])
        for (let i = 0; i < 100; i++) fake.change("/w")
        yield* yieldAll
        yield* TestClock.adjust(999)
        expect(notices).toBe(0)
        yield* TestClock.adjust(1)
        expect(notices).toBe(1)
        // Quiet: the clock moves on, no notice.
        yield* TestClock.adjust(10_000)
        expect(notices).toBe(1)
        fake.change("/w")
        yield* yieldAll
        yield* TestClock.adjust(500)
        fake.change("/w")
        fake.change("/w")
        yield* TestClock.adjust(500)
        expect(notices).toBe(2)
        yield* TestClock.adjust(5_000)
        expect(notices).toBe(2)
        yield* Fiber.interrupt(fiber)
        // The stream's end stops the watch.
        expect(fake.live.size).toBe(0)
      })
    ))

  it("watches only while a run is active in a worktree, following the events after the loaded revision", () =>
    onTestClock(
      Effect.gen(function* () {
        const fake = fakeWatcher()
        const watch = yield* makeWorkspaceWatch({ path: undefined, active: false, revision: 3n }, 1_000, fake.watcher)
        const fiber = yield* Effect.forkChild(Stream.runDrain(watch.notices))
        yield* yieldAll
        const e = (revision: bigint, type: string, data: unknown = {}) => watch.observe({ revision, type, data })
        e(2n, "RunStarted") // already in the loaded session: ignored
        e(3n, "WorkspaceCreated", { path: "/old" })
        expect(fake.watched).toEqual([])
        e(4n, "RunStarted")
        expect(fake.watched).toEqual([]) // no worktree yet
        e(5n, "WorkspaceCreated", { path: "/w" })
        expect([...fake.live.keys()]).toEqual(["/w"])
        e(6n, "RunCompleted")
        expect(fake.live.size).toBe(0)
        e(7n, "RunStarted")
        expect([...fake.live.keys()]).toEqual(["/w"])
        e(8n, "WorkspaceDiscarded")
        expect(fake.live.size).toBe(0)
        expect(fake.watched).toEqual(["/w", "/w"])
        yield* Fiber.interrupt(fiber)
      })
    ))
})

describe("the workspace-changed notice over HTTP", () => {
  let h: Harness | undefined
  let dir: string | undefined
  afterEach(async () => {
    await h?.close()
    h = undefined
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it("reaches a running session's live stream when a file deep in its worktree changes, without an id", async () => {
    h = await startHarness({ config: { heartbeatMs: 100 } })
    dir = mkdtempSync(join(tmpdir(), "agentlog-wswatch-"))
    mkdirSync(join(dir, "src", "lib"), { recursive: true })
    const { sessionId, runId } = await h.seedRunning({ workspace: { kind: "worktree" } })
    await h.command({
      kind: "RecordWorkspaceCreated",
      sessionId,
      data: { runId, repo: dir, baseRef: "main", baseSha: "a".repeat(40), branch: "agentlog/x", path: dir, cwd: dir }
    })
    const sse = await openSse(`${h.url}/v1/sessions/${sessionId}/events/live`)
    try {
      const replayed = (await h.events(sessionId)).length
      await sse.waitForFrames(replayed)
      const arrived = sse.waitForFrames(replayed + 1, 30_000)
      let done = false
      void arrived.then(() => (done = true), () => (done = true))
      // The watch is set up as the stream starts, without a signal of its own: a file is
      // written at each heartbeat until the notice comes.
      const heartbeats = () => sse.comments.filter((c) => c === "heartbeat").length
      while (!done) {
        // Deep in the worktree: every directory is watched, not only its top.
        writeFileSync(join(dir, "src", "lib", `${randomUUID()}.txt`), "changed\n")
        const seen = heartbeats()
        await sse.waitForComment(() => heartbeats() > seen).catch(() => undefined)
      }
      const [notice] = (await arrived).slice(replayed)
      expect(notice).toEqual({ event: "workspace-changed", data: JSON.stringify({ sessionId }) })
    } finally {
      sse.close()
    }
  }, 60_000)
})
