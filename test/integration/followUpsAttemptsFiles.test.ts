// Follow-ups, parallel attempts and files touched with the real `claude` against the fake
// Messages API, through the service's HTTP API: a continue sent while Claude is still
// answering waits and becomes the next run when that run completes; one launch with
// attempts runs its sessions side by side; a session's Read, Edit and Write calls come
// back as files with what Claude saw and each change as a diff.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, expect, it } from "vitest"
import { jsonCall } from "../support/jsonCall.ts"
import { startOfflineService, type OfflineService } from "../support/offlineService.ts"
import { waitForSessionStatus } from "../support/waitFor.ts"

let world: OfflineService | undefined
let dir: string | undefined
afterEach(async () => {
  world?.fake.release()
  await world?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
  world = dir = undefined
})

const call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
  jsonCall(world!.service.url, method, path, body, headers)

it("a continue sent while Claude answers waits, then runs as the next run when that one completes", async () => {
  world = await startOfflineService("followups")
  world.fake.setScript([{ slow: { chunks: ["still ", "working"], delayMs: 5, hold: true } }, { text: "follow-up done" }])
  const launched = await call("POST", "/v1/sessions", { query: "start something long" })
  expect(launched.status).toBe(202)
  const { sessionId } = launched.body
  await world.fake.waitForSlowChunks(1)

  const queued = await call("POST", `/v1/sessions/${sessionId}/continue`, { query: "and then summarise it" })
  expect(queued.status).toBe(202)
  expect(queued.body).toMatchObject({ status: "running", followUpId: expect.any(String) })
  const shown = await call("GET", `/v1/sessions/${sessionId}?minPosition=${encodeURIComponent(queued.body.position)}`)
  expect(shown.body.followUps).toMatchObject([{ followUpId: queued.body.followUpId, status: "queued", query: "and then summarise it" }])
  expect(world.fake.mainRequests()).toHaveLength(1)

  world.fake.release()
  const done = await waitForSessionStatus(world.service.url, sessionId, ["completed"], { runs: 2 })
  expect(done.runId).toBe(queued.body.runId)
  const second = world.fake.mainRequests()[1]!
  expect(JSON.stringify(second.body.messages)).toContain("and then summarise it")
  // Claude resumed the same conversation: the first run's answer is in what it was sent.
  expect(JSON.stringify(second.body.messages)).toContain("still working")
  const list = await call("GET", `/v1/sessions/${sessionId}/follow-ups`)
  expect(list.body.items).toMatchObject([{ followUpId: queued.body.followUpId, status: "started", runId: queued.body.runId }])
  const transcript = await call("GET", `/v1/sessions/${sessionId}/transcript`)
  const texts = transcript.body.entries.filter((e: any) => e.kind === "user_text").map((e: any) => e.text)
  expect(texts).toEqual(["start something long", "and then summarise it"])
})

it("parallel attempts run side by side and their results are compared in the group", async () => {
  world = await startOfflineService("attempts")
  world.fake.setScript([{ text: "answer one" }, { text: "answer two" }])
  const launched = await call("POST", "/v1/sessions", { query: "pick a name", attempts: 2 })
  expect(launched.status).toBe(202)
  for (const s of launched.body.sessions) await waitForSessionStatus(world.service.url, s.sessionId, ["completed"])
  const head = (await call("GET", `/v1/sessions/${launched.body.sessions[1].sessionId}`)).body.lastPosition
  const group = await call("GET", `/v1/groups/${launched.body.groupId}?minPosition=${encodeURIComponent(head)}`)
  expect(group.status).toBe(200)
  expect(group.body.items.map((s: any) => s.status)).toEqual(["completed", "completed"])
  expect(group.body.items.map((s: any) => s.result).sort()).toEqual(["answer one", "answer two"])
  for (const s of group.body.items) expect(s.costUsd).toBeGreaterThan(0)
})

it("files touched: what a Read gave Claude, an Edit as a diff with the file's line numbers, a Write's content", async () => {
  world = await startOfflineService("files")
  dir = mkdtempSync(join(tmpdir(), "agentlog-files-"))
  const a = join(dir, "notes.txt")
  const b = join(dir, "new.txt")
  writeFileSync(a, "one\ntwo\nthree\nfour\n")
  world.fake.setScript([
    { toolUse: { name: "Read", input: { file_path: a } } },
    { toolUse: { name: "Edit", input: { file_path: a, old_string: "three", new_string: "THREE" } } },
    { toolUse: { name: "Write", input: { file_path: b, content: "hello\nworld\n" } } },
    { text: "done" }
  ])
  const launched = await call("POST", "/v1/sessions", { query: "tidy the notes", cwd: dir, permissionMode: "acceptEdits" })
  expect(launched.status).toBe(202)
  const done = await waitForSessionStatus(world.service.url, launched.body.sessionId, ["completed", "failed"])
  expect(done.status).toBe("completed")
  expect(readFileSync(a, "utf8")).toBe("one\ntwo\nTHREE\nfour\n")

  const id = launched.body.sessionId
  const files = await call("GET", `/v1/sessions/${id}/files?minPosition=${encodeURIComponent(done.lastPosition)}`)
  expect(files.status).toBe(200)
  expect(files.body.items.map((f: any) => [f.path, f.reads, f.edits, f.writes, f.lastAction])).toEqual(
    [
      [b, 0, 0, 1, "write"],
      [a, 1, 1, 0, "edit"]
    ].sort((x, y) => String(x[0]).localeCompare(String(y[0])))
  )

  const history = await call("GET", `/v1/sessions/${id}/files/${encodeURIComponent(a)}/history`)
  expect(history.status).toBe(200)
  const [read, edit] = history.body.items
  expect(read).toMatchObject({ action: "read", toolName: "Read", isError: false, diff: null })
  // What Claude was given: the file's lines, numbered as the Read tool numbers them.
  expect(read.content).toMatch(/1\s*\u2192?\s*one/)
  expect(read.content).toContain("three")
  expect(edit).toMatchObject({ action: "edit", toolName: "Edit", isError: false, content: null })
  const lines = edit.diff.flatMap((hk: any) => hk.lines)
  expect(lines.filter((l: any) => l.kind !== "context")).toEqual([
    { kind: "del", text: "three" },
    { kind: "add", text: "THREE" }
  ])
  // Claude Code's own patch: numbered in the file (the change is on line 3).
  expect(edit.diff[0].oldStart).toBeGreaterThanOrEqual(1)
  expect(edit.diff[0].lines.findIndex((l: any) => l.kind === "del") + edit.diff[0].oldStart).toBe(3)

  const written = await call("GET", `/v1/sessions/${id}/files/${encodeURIComponent(b)}/history`)
  expect(written.body.items).toMatchObject([{ action: "write", content: "hello\nworld\n" }])
  expect(written.body.items[0].diff.flatMap((hk: any) => hk.lines)).toEqual([
    { kind: "add", text: "hello" },
    { kind: "add", text: "world" }
  ])
  const none = await call("GET", `/v1/sessions/${id}/files/${encodeURIComponent(join(dir, "other.txt"))}/history`)
  expect(none.status).toBe(404)
})
