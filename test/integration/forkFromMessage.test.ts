// A fork from an earlier message, with the real `claude`: the forked run resumes the
// parent's conversation up to that message (the SDK's resumeSessionAt), so what came after
// it is not in what Claude is sent; the parent stays as it was.
import { afterEach, expect, it } from "vitest"
import { startSupervisorHarness, type SupervisorHarness } from "../support/supervisorHarness.ts"

let h: SupervisorHarness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

const ended = ["completed", "failed", "interrupted", "abandoned"] as const

it("a fork from the first answer resumes the conversation up to it, without what came later", async () => {
  h = await startSupervisorHarness([{ text: "first answer" }, { text: "second answer" }, { text: "branch answer" }])
  const { sessionId } = await h.launch("first question")
  expect((await h.waitForStatus(sessionId, ended)).status).toBe("completed")
  await h.continueSession(sessionId, "second question")
  expect((await h.waitFor(sessionId, (s) => s.runs === 2 && ended.includes(s.status as never))).status).toBe("completed")

  const firstAnswer = (await h.events(sessionId)).find(
    (e) => e.type === "ClaudeAssistantMessage" && JSON.stringify(e.data).includes("first answer")
  )!
  const uuid = (firstAnswer.data as { message: { uuid: string } }).message.uuid
  const fork = await h.fork(sessionId, "branch question", uuid)
  expect((await h.waitForStatus(fork.sessionId, ended)).status).toBe("completed")

  const forked = (await h.events(fork.sessionId))[0]!
  expect(forked.type).toBe("SessionForked")
  expect(forked.data).toMatchObject({ parentSessionId: sessionId, atMessage: uuid })
  expect(await h.state(fork.sessionId)).toMatchObject({ forkedAt: uuid, parentSessionId: sessionId, claudeSessionBound: true })

  const sent = JSON.stringify(h.fake.requests.filter((r) => r.kind === "main").at(-1)!.body.messages)
  expect(sent).toContain("first answer")
  expect(sent).toContain("branch question")
  expect(sent).not.toContain("second question")
  expect(sent).not.toContain("second answer")
})
