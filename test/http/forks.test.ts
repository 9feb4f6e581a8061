// Forks over HTTP: from a message (validated against the parent's record), the parent's
// children, and the sessions that are leaves.
import { afterEach, expect, it } from "vitest"
import { assistantText, newId } from "../support/domainFixtures.ts"
import { expectProblem } from "./expectProblem.ts"
import { startHarness, type Harness } from "./httpHarness.ts"

let h: Harness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

type Json = Record<string, any>

it("forks from a message of the parent, lists children with their fork point, and leaves", async () => {
  h = await startHarness()
  const parent = await h.seedCompleted()
  // Another Claude message of the parent's, in another Claude session (as after a resume that forked).
  const message = { ...assistantText("claude-other", "an earlier answer"), uuid: newId() }
  await h.command({ kind: "ContinueSession", sessionId: parent.sessionId, runId: newId(), query: "more", overrides: {} })
  const s = await h.command({ kind: "StartRun", sessionId: parent.sessionId, runId: ((await h.events(parent.sessionId)).at(-1)!.data as { runId: string }).runId })
  await h.command({ kind: "RecordClaudeMessage", sessionId: parent.sessionId, runId: s.state.runId, message })

  await expectProblem(
    await h.fetch(`/v1/sessions/${parent.sessionId}/fork`, { method: "POST", json: { query: "q", atMessage: newId() } }),
    400,
    "validation-failed",
    ["/atMessage"]
  )
  const fromMessage = await h.fetch(`/v1/sessions/${parent.sessionId}/fork`, { method: "POST", json: { query: "again", atMessage: message.uuid } })
  expect(fromMessage.status, await fromMessage.clone().text()).toBe(202)
  const child = (await fromMessage.json()) as Json
  const forked = (await h.events(child.sessionId))[0]!
  // The Claude session resumed is the message's own.
  expect(forked.data).toMatchObject({ parentSessionId: parent.sessionId, atMessage: message.uuid, parentClaudeSessionId: "claude-other" })
  await h.caughtUp()

  const leaves = async () => ((await (await h!.fetch("/v1/sessions?leaves=true")).json()) as Json).items.map((x: Json) => x.sessionId).sort()
  // A fork from an earlier message leaves its parent a leaf.
  expect(await leaves()).toEqual([parent.sessionId, child.sessionId].sort())

  const other = await h.seedCompleted()
  const fromEnd = (await (await h.fetch(`/v1/sessions/${other.sessionId}/fork`, { method: "POST", json: { query: "on" } })).json()) as Json
  await h.caughtUp()
  expect(await leaves()).toEqual([parent.sessionId, child.sessionId, fromEnd.sessionId].sort())

  const p = (await (await h.fetch(`/v1/sessions/${parent.sessionId}`)).json()) as Json
  expect(p.children.map((c: Json) => [c.sessionId, c.forkedAt])).toEqual([[child.sessionId, message.uuid]])
  const o = (await (await h.fetch(`/v1/sessions/${other.sessionId}`)).json()) as Json
  expect(o.children.map((c: Json) => [c.sessionId, c.forkedAt])).toEqual([[fromEnd.sessionId, null]])
  const c = (await (await h.fetch(`/v1/sessions/${child.sessionId}`)).json()) as Json
  expect(c).toMatchObject({ parentSessionId: parent.sessionId, forkedAt: message.uuid, children: [] })
})
