// The one mapping from failures to statuses (problem.ts), tag by tag.
import { describe, expect, it } from "vitest"
import {
  ApprovalAlreadyDecided,
  ApprovalNotFound,
  InvalidEvent,
  InvalidStreamName,
  InvalidTransition,
  SessionAlreadyExists,
  SessionNotFound
} from "../../src/domain/sessionErrors.ts"
import {
  EventStoreFailure,
  EventStoreUnavailable,
  StreamNotFound,
  WrongExpectedVersion
} from "../../src/eventstore/eventStore.ts"
import { toProblem } from "../../src/http/problem.ts"
import { InvalidQuery } from "../../src/projections/readModels.ts"

const status = (e: unknown, ifMatch = false) => toProblem(e, { ifMatch }).problem.status

describe("toProblem", () => {
  it("maps every tagged error to its status", () => {
    const id = "00000000-0000-4000-8000-000000000000"
    expect(status(new SessionNotFound({ sessionId: id }))).toBe(404)
    expect(status(new ApprovalNotFound({ approvalId: id }))).toBe(404)
    expect(status(new InvalidStreamName({ stream: "x" }))).toBe(404)
    expect(status(new StreamNotFound({ stream: "x" }))).toBe(404)
    expect(status(new InvalidTransition({ sessionId: id, command: "C", status: "running", reason: "r" }))).toBe(409)
    expect(status(new SessionAlreadyExists({ sessionId: id }))).toBe(409)
    expect(status(new ApprovalAlreadyDecided({ approvalId: id, decision: "allow" }))).toBe(409)
    expect(status(new InvalidEvent({ type: "T", issue: "bad" }))).toBe(400)
    expect(status(new InvalidQuery({ field: "cursor", reason: "bad" }))).toBe(400)
    const wev = new WrongExpectedVersion({ stream: "s", expected: 1n, actual: 2n })
    expect(status(wev, true)).toBe(412)
    expect(status(wev, false)).toBe(409)
    expect(toProblem(wev, { ifMatch: true }).problem.currentRevision).toBe("2")
  })

  it("503 with Retry-After for an unavailable store", () => {
    const p = toProblem(new EventStoreUnavailable({ reason: "secret host" }), { ifMatch: false })
    expect(p.problem.status).toBe(503)
    expect(p.headers["Retry-After"]).toBe("1")
    expect(JSON.stringify(p.problem)).not.toContain("secret host")
  })

  it("anything else is a generic 500, flagged internal", () => {
    for (const e of [new Error("secret"), new EventStoreFailure({ reason: "/var/db corrupt" }), "a string", null, { _tag: "Weird" }]) {
      const p = toProblem(e, { ifMatch: false })
      expect(p.problem.status).toBe(500)
      expect(p.internal).toBe(true)
      expect(JSON.stringify(p.problem)).not.toMatch(/secret|corrupt|Weird/)
    }
  })
})
