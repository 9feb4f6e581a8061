// An interrupt that arrives once Claude's result is recorded: the API answers 409 "the run
// already finished", nothing is appended, and the run ends RunCompleted even when the
// supervisor (its shutdown path) reports it as interrupted.
import { randomUUID } from "node:crypto"
import { afterEach, expect, it } from "vitest"
import { resultMessage } from "../support/domainFixtures.ts"
import { problemOf, startHarness, type Harness } from "./httpHarness.ts"

let h: Harness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

it("409 'the run already finished' for an interrupt after the result; the run still ends RunCompleted", async () => {
  h = await startHarness()
  const { sessionId, runId } = await h.seedRunning()
  await h.command({ kind: "RecordClaudeMessage", sessionId, runId, message: resultMessage(randomUUID(), 0.3) })
  const before = (await h.events(sessionId)).length

  const r = await h.fetch(`/v1/sessions/${sessionId}/interrupt`, { method: "POST" })
  expect(r.status).toBe(409)
  const p = await problemOf(r)
  expect(p).toMatchObject({ type: "urn:agentlog:problem:invalid-transition", status: 409, command: "RequestInterrupt", sessionId })
  expect(p.detail).toContain("the run already finished")
  expect((await h.events(sessionId)).length).toBe(before)

  // The supervisor stopping the process at shutdown reports "interrupted"; the record says completed.
  await h.command({ kind: "FinishRun", sessionId, runId, outcome: { kind: "interrupted" } })
  const events = await h.events(sessionId)
  expect(events.slice(before).map((e) => e.type)).toEqual(["RunCompleted"])
  expect(events.map((e) => e.type)).not.toContain("InterruptRequested")
  await h.caughtUp()
  const session = (await (await h.fetch(`/v1/sessions/${sessionId}`)).json()) as { status: string }
  expect(session.status).toBe("completed")
})
