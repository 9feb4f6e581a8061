// Drafts on the session decider: written down, edited, discarded and restored without a
// run, then launched as recorded.
import { describe, expect, it } from "vitest"
import { redacted } from "../../src/domain/sessionOptions.ts"
import { Harness, newId, types } from "../support/domainFixtures.ts"

const drafted = (query = "", options = {}) => {
  const h = new Harness()
  h.run({ kind: "CreateDraft", query, options })
  return h
}

describe("drafts", () => {
  it("a draft has status draft, no run and no totals", () => {
    const h = drafted("", { cwd: "/srv", title: "later" })
    expect(types(h.events)).toEqual(["DraftCreated"])
    expect(h.session).toMatchObject({ status: "draft", runs: 0, runId: "", title: "later", options: { cwd: "/srv", title: "later" } })
    expect(h.session.totals.costUsd).toBe(0)
  })

  it("an edit replaces the options it gives and keeps the rest, a rename included", () => {
    const h = drafted("first", { cwd: "/srv", model: "a" })
    h.run({ kind: "RenameSession", title: "named" })
    h.run({ kind: "EditDraft", options: { model: "b" } })
    expect(h.session).toMatchObject({ query: "first", title: "named", options: { cwd: "/srv", model: "b", title: "named" } })
    h.run({ kind: "EditDraft", query: "second", options: { title: "renamed" } })
    expect(h.session).toMatchObject({ query: "second", title: "renamed" })
    expect(types(h.events)).toEqual(["DraftCreated", "SessionRenamed", "DraftEdited", "DraftEdited"])
  })

  it("launching appends SessionLaunched with the draft's query and options: the run is queued", () => {
    const h = drafted("do it", { cwd: "/srv", title: "t", maxTurns: 2 })
    h.run({ kind: "ArchiveSession" })
    const runId = newId()
    const events = h.run({ kind: "LaunchDraft", runId })
    expect(events).toEqual([
      { type: "SessionLaunched", data: { sessionId: h.sessionId, runId, query: "do it", options: { cwd: "/srv", title: "t", maxTurns: 2 } } }
    ])
    expect(h.session).toMatchObject({ status: "queued", runs: 1, runId, title: "t", archived: true })
  })

  it("an empty draft cannot be launched; a launched one cannot be launched, edited or discarded again", () => {
    const h = drafted()
    expect(h.refuse({ kind: "LaunchDraft", runId: newId() }).message).toMatch(/the draft has no query yet/)
    h.run({ kind: "EditDraft", query: "now", options: {} })
    h.run({ kind: "LaunchDraft", runId: newId() })
    expect(h.refuse({ kind: "LaunchDraft", runId: newId() }).message).toMatch(/only a draft can be launched/)
    expect(h.refuse({ kind: "EditDraft", options: {} }).message).toMatch(/only a draft can be edited/)
    expect(h.refuse({ kind: "DiscardDraft" }).message).toMatch(/only a draft can be discarded/)
  })

  it("a draft cannot be continued, interrupted or started", () => {
    const h = drafted("q")
    for (const c of [
      { kind: "ContinueSession", runId: newId(), query: "more", overrides: {} },
      { kind: "RequestInterrupt", requestedBy: "someone" },
      { kind: "StartRun", runId: newId() }
    ] as const) {
      expect(h.refuse(c).message).toMatch(/the session is a draft: launch it first/)
    }
  })

  it("a discarded draft takes nothing but a restore, and comes back as it was", () => {
    const h = drafted("q", { model: "m" })
    h.run({ kind: "DiscardDraft" })
    expect(h.session.status).toBe("discarded")
    for (const c of [{ kind: "LaunchDraft", runId: newId() }, { kind: "EditDraft", options: {} }, { kind: "ArchiveSession" }, { kind: "DiscardDraft" }] as const)
      expect(h.refuse(c).message).toMatch(/the draft is discarded: restore it first/)
    h.run({ kind: "RestoreDraft" })
    expect(h.session).toMatchObject({ status: "draft", query: "q", options: { model: "m" } })
    expect(h.refuse({ kind: "RestoreDraft" }).message).toMatch(/only a discarded draft can be restored/)
  })

  it("creating a draft over an existing session is SessionAlreadyExists", () => {
    const h = drafted("q")
    expect(h.refuse({ kind: "CreateDraft", query: "again", options: {} })._tag).toBe("SessionAlreadyExists")
    expect(h.refuse({ kind: "LaunchSession", runId: newId(), query: "x", options: {} })._tag).toBe("SessionAlreadyExists")
  })

  it("redacts MCP secrets in drafts like in launches", () => {
    const h = drafted("q", { mcpServers: { s: { command: "x", env: { KEY: "secret", REF: "${HOME}" } } } })
    expect(h.session.options.mcpServers).toEqual({ s: { command: "x", env: { KEY: redacted, REF: "${HOME}" } } })
  })
})
