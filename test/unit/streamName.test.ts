import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { isSessionId, sessionIdOf, streamOf, streamPrefix } from "../../src/domain/streamName.ts"
import { newId } from "../support/domainFixtures.ts"

describe("session stream names", () => {
  it("are session-<uuid>", () => {
    const id = newId()
    const r = streamOf(id)
    expect(Result.isSuccess(r) && r.success).toBe(`session-${id}`)
    expect(streamPrefix).toBe("session-")
  })

  it("round-trip: the session id of a session's stream is the session id", () => {
    for (let i = 0; i < 20; i++) {
      const id = newId()
      const r = streamOf(id)
      if (Result.isFailure(r)) throw r.failure
      expect(sessionIdOf(r.success)).toBe(id)
    }
  })

  it.each([
    ["empty", ""],
    ["not a uuid", "abc"],
    ["upper case", "6B1C0E0A-8A0C-4C0F-9A8E-2B7F5D1E3C4A"],
    ["without dashes", "6b1c0e0a8a0c4c0f9a8e2b7f5d1e3c4a"],
    ["with a prefix", "session-6b1c0e0a-8a0c-4c0f-9a8e-2b7f5d1e3c4a"],
    ["with a suffix", "6b1c0e0a-8a0c-4c0f-9a8e-2b7f5d1e3c4a-x"],
    ["with a newline", "6b1c0e0a-8a0c-4c0f-9a8e-2b7f5d1e3c4a\n"],
    ["a wildcard", "*"],
    ["a path", "../6b1c0e0a-8a0c-4c0f-9a8e-2b7f5d1e3c4a"],
    ["with spaces", " 6b1c0e0a-8a0c-4c0f-9a8e-2b7f5d1e3c4a"]
  ])("refuse a session id that is %s, with InvalidStreamName", (_, id) => {
    expect(isSessionId(id)).toBe(false)
    const r = streamOf(id)
    expect(Result.isFailure(r)).toBe(true)
    if (Result.isFailure(r)) {
      expect(r.failure._tag).toBe("InvalidStreamName")
      expect(r.failure.stream).toBe(`session-${id}`)
      expect(r.failure.message).toContain("session-<lowercase uuid>")
    }
  })

  it.each([
    ["another category", `run-${"6b1c0e0a-8a0c-4c0f-9a8e-2b7f5d1e3c4a"}`],
    ["no prefix", "6b1c0e0a-8a0c-4c0f-9a8e-2b7f5d1e3c4a"],
    ["a bad id", "session-nope"],
    ["just the prefix", "session-"],
    ["a system stream", "$all"],
    ["a doubled prefix", "session-session-6b1c0e0a-8a0c-4c0f-9a8e-2b7f5d1e3c4a"]
  ])("sessionIdOf is null for %s", (_, stream) => {
    expect(sessionIdOf(stream)).toBeNull()
  })
})
