// Parallel attempts over HTTP: one launch with `attempts: N` starts N sessions of the same
// query and options, each with its own SessionLaunched naming the group; the group lists
// them side by side. N appends to N streams are not atomic: a keyed retry after a crash
// mid-launch completes the group without launching any attempt twice.
import { Effect } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { derivedUuid } from "../../src/http/idempotency.ts"
import { attemptIds } from "../../src/http/groupAndFileRoutes.ts"
import { expectProblem } from "./expectProblem.ts"
import { startHarness, type Harness } from "./httpHarness.ts"

let h: Harness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

type Json = Record<string, any>
const json = async (r: Response): Promise<Json> => (await r.json()) as Json

const launch = (harness: Harness, body: Json, headers: Record<string, string> = {}) =>
  harness.fetch("/v1/sessions", { method: "POST", json: body, headers })

describe("parallel attempts", () => {
  it("starts N sessions of one query, each naming the group, listed side by side", async () => {
    h = await startHarness()
    const r = await launch(h, { query: "fix the bug", model: "sonnet", maxTurns: 3, attempts: 3 })
    expect(r.status).toBe(202)
    const a = await json(r)
    expect(a.sessions).toHaveLength(3)
    expect(a.sessions.map((s: Json) => s.attempt)).toEqual([1, 2, 3])
    expect(new Set(a.sessions.map((s: Json) => s.sessionId)).size).toBe(3)
    expect(a.sessionId).toBe(a.sessions[0].sessionId)
    for (const [i, s] of a.sessions.entries()) {
      const events = await h.events(s.sessionId)
      expect(events[0]!.type).toBe("SessionLaunched")
      expect(events[0]!.data).toEqual({
        sessionId: s.sessionId,
        runId: s.runId,
        query: "fix the bug",
        options: { model: "sonnet", maxTurns: 3 },
        group: { groupId: a.groupId, attempt: i + 1, of: 3 }
      })
    }
    const last = a.sessions.at(-1).position
    const group = await json(await h.fetch(`/v1/groups/${a.groupId}?minPosition=${encodeURIComponent(last)}`))
    expect(group).toMatchObject({ groupId: a.groupId, attempts: 3, query: "fix the bug" })
    expect(group.items.map((s: Json) => [s.attempt, s.sessionId])).toEqual(a.sessions.map((s: Json) => [s.attempt, s.sessionId]))
    for (const s of group.items) expect(s).toMatchObject({ costUsd: 0, result: null, status: expect.any(String) })
  })

  it("a keyed retry after a crash mid-launch completes the group and launches nothing twice", async () => {
    h = await startHarness()
    const key = "attempts-crash-1"
    const body = { query: "try it", attempts: 3 }
    // The first request died after its first append: attempt 1 exists, 2 and 3 do not.
    const ids = attemptIds(key, 3)
    const first = (await launch(h, body, { "Idempotency-Key": key }).then(json)) as Json
    expect(first.groupId).toBe(ids.groupId)
    expect(first.sessions.map((s: Json) => s.sessionId)).toEqual(ids.sessions.map((s) => s.sessionId))
    expect(ids.groupId).toBe(derivedUuid("launch", "group", key))

    const other = "attempts-crash-2"
    const partial = attemptIds(other, 3)
    await h.command({
      kind: "LaunchSession",
      sessionId: partial.sessions[0]!.sessionId,
      runId: partial.sessions[0]!.runId,
      query: "try it",
      options: {},
      group: { groupId: partial.groupId, attempt: 1, of: 3 }
    })
    const retried = await launch(h, body, { "Idempotency-Key": other })
    expect(retried.status).toBe(202)
    const rb = await json(retried)
    expect(rb.sessions.map((s: Json) => s.sessionId)).toEqual(partial.sessions.map((s) => s.sessionId))
    for (const s of partial.sessions) expect((await h.events(s.sessionId)).filter((e) => e.type === "SessionLaunched")).toHaveLength(1)

    // The whole request again: every attempt answered from its event.
    const again = await launch(h, body, { "Idempotency-Key": key })
    expect(again.status).toBe(202)
    expect(again.headers.get("idempotent-replayed")).toBe("true")
    expect((await json(again)).sessions.map((s: Json) => [s.sessionId, s.revision])).toEqual(
      first.sessions.map((s: Json) => [s.sessionId, s.revision])
    )
    await h.caughtUp()
    const group = await json(await h.fetch(`/v1/groups/${partial.groupId}`))
    expect(group.items.map((s: Json) => s.attempt)).toEqual([1, 2, 3])
    // The same key with another request is refused.
    const head = await Effect.runPromise(h.store.headPosition())
    await expectProblem(await launch(h, { query: "try it", attempts: 2 }, { "Idempotency-Key": key }), 422, "idempotency-key-reused")
    // A launch without attempts under the same key meets attempt 1 (it has that launch's ids).
    await expectProblem(await launch(h, { query: "try it" }, { "Idempotency-Key": key }), 422, "idempotency-key-reused")
    expect(await Effect.runPromise(h.store.headPosition())).toEqual(head)
  })

  it("refuses attempts outside 2..8 and an unknown group", async () => {
    h = await startHarness()
    const before = await Effect.runPromise(h.store.headPosition())
    for (const attempts of [0, 1, 9, 2.5, "3"])
      await expectProblem(await launch(h, { query: "q", attempts }), 400, "validation-failed", ["/attempts"])
    expect(await Effect.runPromise(h.store.headPosition())).toEqual(before)
    await expectProblem(await h.fetch(`/v1/groups/${crypto.randomUUID()}`), 404, "not-found")
    await expectProblem(await h.fetch(`/v1/groups/nope`), 404, "not-found")
  })
})
