// Text from outside must not steer a terminal or a reader of the log: C1 controls (a C1 CSI
// starts an escape sequence), U+2028/U+2029 (line breaks to a JS reader) and bidi controls
// are escaped in every log line, the request log's decoded path included, and refused in
// titles and names.
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeLogger } from "../../src/log.ts"
import { startHarness, type Harness } from "../http/httpHarness.ts"

const hostile = ["\u2028", "\u2029", "\u009b", "\u0085", "\u0080", "\u009f", "\u202e", "\u2066", "\u200f", "\u061c", "\u007f"]
const raw = new RegExp(`[${hostile.join("")}]`, "u")

const lines: Array<string> = []
let h: Harness
beforeAll(async () => {
  const logger = makeLogger("info", (l) => lines.push(l))
  h = await startHarness({ wrap: (deps) => ({ ...deps, logger }) })
})
afterAll(() => h.close())

describe("log lines", () => {
  it("escape C1, line-separator and bidi controls, and still parse to the same text", () => {
    const out: Array<string> = []
    const text = `a${hostile.join("b")}z`
    makeLogger("info", (l) => out.push(l)).log("info", text, { title: text })
    expect(out[0]).not.toMatch(raw)
    expect(JSON.parse(out[0]!)).toMatchObject({ msg: text, title: text })
  })

  it("the request log writes a hostile path without a token escaped", async () => {
    const r = await h.fetch("/x%E2%80%A8%C2%9B31mFAKE%E2%80%AE", { token: null })
    expect(r.status).toBe(404)
    const line = lines.find((l) => l.includes("31mFAKE"))!
    expect(line).toBeDefined()
    expect(line).not.toMatch(raw)
    expect(JSON.parse(line).path).toBe("/x\u2028\u009b31mFAKE\u202e")
  })
})

describe("titles and names", () => {
  for (const c of hostile) {
    const name = `U+${c.charCodeAt(0).toString(16).padStart(4, "0")}`
    it(`refuse ${name} in a launch title, a rename and a tool name`, async () => {
      const launch = await h.fetch("/v1/sessions", { method: "POST", json: { query: "q", title: `evil${c}txt` } })
      expect(launch.status).toBe(400)
      expect(launch.headers.get("content-type")).toMatch(/problem\+json/)
      const tool = await h.fetch("/v1/sessions", { method: "POST", json: { query: "q", allowedTools: [`Bash${c}`] } })
      expect(tool.status).toBe(400)
      const { sessionId } = await h.seedSession()
      const rename = await h.fetch(`/v1/sessions/${sessionId}`, { method: "PATCH", json: { title: `x${c}` } })
      expect(rename.status).toBe(400)
    })
  }
  it("still accept ordinary non-ASCII titles", async () => {
    const r = await h.fetch("/v1/sessions", { method: "POST", json: { query: "q", title: "Überblick — 概要 ✓" } })
    expect(r.status).toBe(202)
  })
})
