// Issue 18's bar: a client generated from the served document with openapi-typescript, and
// a strict program using it through openapi-fetch (test/api/clientFlow.ts) that does the
// whole flow without casts, type-checks, and runs against a real service (the real claude
// binary, the fake Messages API); every answer it gets is checked against the document.
// (The flow runs before the slow type-check: a keep-alive socket left idle past the
// server's timeout would be reset under the flow's first POST, which fetch does not retry.)
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import ts from "typescript"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { RunningService } from "../../src/service.ts"
import type { ClaudeEnv } from "../support/claudeEnv.ts"
import type { FakeAnthropic } from "../support/fakeAnthropic.ts"
import { startOfflineService, type OfflineService } from "../support/offlineService.ts"
import { checkResponse } from "../support/openApiCheck.ts"
import { runFlow } from "./clientFlow.ts"
import { generatedTypes } from "./generatedTypes.ts"

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url))
const flowFile = here("./clientFlow.ts")
const typesFile = here("../../src/http/api.generated.ts")

let world: OfflineService
let fake: FakeAnthropic
let claude: ClaudeEnv
let service: RunningService

beforeAll(async () => {
  world = await startOfflineService("client", { AGENTLOG_INTERRUPT_GRACE_MS: "3000" })
  ;({ fake, claude, service } = world)
})

afterAll(() => world?.close())

describe("a client generated from the served document", () => {
  it("is the one the project's clients import (src/http/api.generated.ts is not stale)", async () => {
    const served = (await (await fetch(`${service.url}/openapi.json`)).json()) as Record<string, unknown>
    expect(await generatedTypes(served)).toBe(readFileSync(typesFile, "utf8"))
  })

  it("runs the whole flow against the service; every answer matches the document", async () => {
    const target = join(claude.cwd, "typed.txt")
    fake.setScript([
      { text: "I'll write it.", toolUse: { name: "Write", input: { file_path: target, content: "asked" }, id: "toolu_typed" } },
      { text: "Written." },
      { text: "Once more, same conversation." },
      { text: "A forked answer." },
      { slow: { chunks: ["tick ", "tock "], delayMs: 50, hold: true } }
    ])
    const checked: Array<string> = []
    const report = await runFlow({
      baseUrl: service.url,
      cwd: claude.cwd,
      target,
      interruptible: () => fake.waitForSlowChunks(1, 30_000),
      fetch: async (request) => {
        // A GET sent on a pooled keep-alive socket the server is closing at that moment is
        // reset (a transport race, worse under load); a GET is safe to send again, once.
        const send = () => fetch(request.clone())
        const res = await send()
          .catch((e: Error & { cause?: { code?: string } }) => {
            if (request.method === "GET" && e.cause?.code === "ECONNRESET") return send()
            throw e
          })
          .catch((e) => {
            throw new Error(`${request.method} ${request.url}: ${String(e)} ${String(e.cause)}`)
          })
        await checkResponse(request.method, res)
        checked.push(`${request.method} ${new URL(request.url).pathname}`)
        return res
      }
    })
    // The decision's updatedInput reached the tool.
    expect(readFileSync(target, "utf8")).toBe("decided")
    expect(report.transcriptPages).toBeGreaterThan(1)
    expect(report.entries.map((e) => e.seq)).toEqual([...report.entries.map((e) => e.seq)].sort((a, b) => a - b))
    expect(report.entries.find((e) => e.kind === "tool_call")).toMatchObject({ toolName: "Write", approval: { decision: "allow" } })
    expect(report.events.map((e) => e.revision)).toEqual(report.events.map((_, i) => i))
    expect(report.ndjson.slice(0, report.events.length)).toEqual(report.events)
    expect(report.continued).toMatchObject({ status: "completed", runs: 2 })
    expect(report.fork).toMatchObject({ status: "completed", parentSessionId: report.sessionId })
    expect(report.interrupted.status).toBe("interrupted")
    expect(report.archived).toMatchObject({ archived: true, title: "typed flow, archived" })
    // Every operation of the flow went through the document check.
    expect(new Set(checked.map((c) => c.replace(/[0-9a-f-]{36}/g, "{id}")))).toEqual(
      new Set([
        "POST /v1/sessions",
        "GET /v1/approvals",
        "POST /v1/approvals/{id}/decision",
        "GET /v1/sessions/{id}",
        "GET /v1/sessions/{id}/transcript",
        "GET /v1/sessions/{id}/events",
        "POST /v1/sessions/{id}/continue",
        "POST /v1/sessions/{id}/fork",
        "POST /v1/sessions/{id}/interrupt",
        "POST /v1/sessions/{id}/archive",
        "PATCH /v1/sessions/{id}"
      ])
    )
  }, 240_000)

  it("type-checks the whole flow in strict TypeScript, without casts", () => {
    const code = readFileSync(flowFile, "utf8")
      .replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "")
      .replace(/"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`/g, '""')
    // No way around the generated types: no casts, no any, no suppressed errors.
    expect(code).not.toMatch(/\bas\s+(?!const\b)[A-Za-z{[(]|[=(,:]\s*<[A-Z]\w*>\s*[\w(]|\bany\b|@ts-/)
    const program = ts.createProgram([flowFile], {
      strict: true,
      noUncheckedIndexedAccess: true,
      exactOptionalPropertyTypes: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2024,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      allowImportingTsExtensions: true,
      skipLibCheck: true,
      types: ["node"]
    })
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"))
    expect(diagnostics).toEqual([])
  })
})
