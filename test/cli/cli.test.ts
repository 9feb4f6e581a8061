// The `agentlog` command as a process against the real service (the real `claude`, the fake
// Messages API): ls, show, log, approvals, approve/deny, continue and interrupt, their
// --json, --help and exit codes, and log --follow across a restart of the service (run as
// `agentlog serve`), with every event printed once and none missed.
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { accepted, waitForStatus } from "../crash/crashHarness.ts"
import { openOfflineWorld } from "../support/offlineWorld.ts"
import { startServiceProcess } from "../support/serviceProcess.ts"
import { cli, cliTs, finished, freePort, perTest } from "./cliProcess.ts"

const opened = perTest()

// Each test starts the service and real claude runs: generous under a loaded machine.
describe("agentlog (the CLI) against the service", { timeout: 180_000 }, () => {
  it("ls, show and log: text and --json, --help, exit codes and errors", async () => {
    const world = (opened.world = await openOfflineWorld("cli"))
    const service = (opened.service = await startServiceProcess({ dataDir: world.dataDir, claude: world.claude }))
    const url = service.url
    world.fake.setScript([{ text: "The answer is 42." }])
    const { sessionId } = (await accepted(url, "POST", "/v1/sessions", { query: "what is the answer?", cwd: world.claude.cwd, title: "cli test" })) as {
      sessionId: string
    }
    const session = await waitForStatus(url, sessionId, ["completed"], 45_000)

    const ls = await finished(url, ["ls"])
    expect(ls.code).toBe(0)
    expect(ls.out).toMatch(new RegExp(`^${sessionId}\\s+completed\\s+\\$\\d+\\.\\d{4}\\s+\\S+\\s+cli test$`, "m"))
    const lsJson = JSON.parse((await finished(url, ["ls", "--json", "--status", "completed"])).out)
    expect(lsJson.items.map((s: { sessionId: string }) => s.sessionId)).toEqual([sessionId])
    expect(JSON.parse((await finished(url, ["ls", "--json", "--status", "running"])).out).items).toEqual([])
    const badStatus = await finished(url, ["ls", "--status", "done"])
    expect(badStatus.code).toBe(2)
    expect(badStatus.stderr).toContain("--status must be one of queued, running, waiting_approval, completed, failed, interrupted, abandoned, draft, discarded")

    const show = await finished(url, ["show", sessionId])
    expect(show.code).toBe(0)
    expect(show.out).toMatch(/^status\s+completed$/m)
    expect(show.out).toMatch(/^title\s+cli test$/m)
    expect(show.out).toMatch(new RegExp(`^revision\\s+${session.lastRevision}$`, "m"))
    expect(JSON.parse((await finished(url, ["show", sessionId, "--json"])).out)).toMatchObject({ sessionId, status: "completed", title: "cli test" })

    const log = await finished(url, ["log", sessionId])
    expect(log.code).toBe(0)
    const rows = log.out.split("\n")
    expect(rows).toHaveLength(session.lastRevision + 1)
    expect(rows[0]).toMatch(/^0\s+\d\d:\d\d:\d\d\s+SessionLaunched\s+what is the answer\?$/)
    expect(log.out).toMatch(/ClaudeAssistantMessage\s+The answer is 42\./)
    expect(rows.at(-1)).toMatch(/RunCompleted\s+\d+ turns, \$/)
    const json = (await finished(url, ["log", sessionId, "--json", "--from", "2"])).out.split("\n").map((l) => JSON.parse(l))
    expect(json.map((e) => e.revision)).toEqual(Array.from({ length: session.lastRevision - 1 }, (_, i) => i + 2))

    const help = await finished(url, ["log", "--help"])
    expect(help.code).toBe(0)
    expect(help.out).toContain("usage: agentlog log <session-id>")
    expect((await finished(url, ["--help"])).out).toMatch(/^\s+ls\s/m)

    const missing = await finished(url, ["show", "00000000-0000-4000-8000-000000000000"])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/^agentlog: 404: /)
    expect((await finished(url, ["nope"])).code).toBe(2)
    expect((await finished(url, ["log", sessionId, "--from", "x"])).code).toBe(1)
    const down = await finished("http://127.0.0.1:9", ["ls"])
    expect(down.code).toBe(1)
    expect(down.stderr).toContain("cannot reach agentlog at http://127.0.0.1:9")
  })

  it("approvals, deny with a reason, approve, continue and interrupt: what they print and their exit codes", async () => {
    const world = (opened.world = await openOfflineWorld("cli-commands"))
    const service = (opened.service = await startServiceProcess({ dataDir: world.dataDir, claude: world.claude }))
    const url = service.url
    const write = (name: string) => ({ name: "Write", input: { file_path: join(world.claude.cwd, name), content: name }, id: `toolu_${name}` })
    world.fake.setScript([{ toolUse: write("one") }, { toolUse: write("two") }, { text: "done" }, { text: "continued" }, { toolUse: write("three") }])
    const { sessionId } = (await accepted(url, "POST", "/v1/sessions", { query: "run two commands", cwd: world.claude.cwd })) as { sessionId: string }
    const pending = async () => {
      await waitForStatus(url, sessionId, ["waiting_approval"], 45_000)
      const list = await finished(url, ["approvals", "--session", sessionId, "--json"])
      return (JSON.parse(list.out) as { items: Array<{ approvalId: string; toolName: string; input: { file_path: string } }> }).items
    }
    const [first] = await pending()
    expect(first).toMatchObject({ toolName: "Write", input: { file_path: join(world.claude.cwd, "one") } })
    const listed = await finished(url, ["approvals"])
    expect(listed.out).toMatch(new RegExp(`^${first!.approvalId}\\s+pending\\s+${sessionId}\\s+Write \\{"file_path":".*/one"`, "m"))
    const denied = await finished(url, ["deny", first!.approvalId, "-m", "not that one"])
    expect(denied).toMatchObject({ code: 0 })
    expect(denied.out).toMatch(new RegExp(`^denied: session ${sessionId} is `))
    expect((await finished(url, ["deny", first!.approvalId])).code).toBe(1) // already decided: 409
    const [second] = (await pending()).filter((a) => a.approvalId !== first!.approvalId)
    expect(second).toMatchObject({ input: { file_path: join(world.claude.cwd, "two") } })
    expect((await finished(url, ["approve", second!.approvalId])).out).toMatch(/^allowed: /)
    await waitForStatus(url, sessionId, ["completed"], 45_000)
    const decided = JSON.parse((await finished(url, ["approvals", "--session", sessionId, "--status", "denied", "--json"])).out)
    expect(decided.items).toMatchObject([{ approvalId: first!.approvalId, message: "not that one" }])

    const interruptEnded = await finished(url, ["interrupt", sessionId])
    expect(interruptEnded.code).toBe(1)
    expect(interruptEnded.stderr).toMatch(/^agentlog: 409: .*no run is active/)
    const continued = await finished(url, ["continue", sessionId, "and now?"])
    expect(continued.code, continued.out + continued.stderr).toBe(0)
    expect(continued.out).toMatch(new RegExp(`^${sessionId}\\s+(queued|running)`))
    await waitForStatus(url, sessionId, ["completed"], 45_000)
    expect((await finished(url, ["continue", sessionId])).code).toBe(1) // no query

    // A run waiting on an approval, interrupted from the terminal.
    await accepted(url, "POST", `/v1/sessions/${sessionId}/continue`, { query: "one more" })
    await pending()
    const interrupted = await finished(url, ["interrupt", sessionId, "--json"])
    expect(interrupted.code).toBe(0)
    expect(JSON.parse(interrupted.out)).toMatchObject({ sessionId })
    expect((await waitForStatus(url, sessionId, ["interrupted"], 45_000)).status).toBe("interrupted")
  })

  it("agentlog serve; log --follow prints every event once, live, and resumes after the service restarts; ls and show after it", async () => {
    const world = (opened.world = await openOfflineWorld("cli-follow"))
    const port = String(await freePort())
    // The service as `agentlog serve` runs it, with the port given as a flag.
    const serve = async () => (opened.service = await startServiceProcess({ dataDir: world.dataDir, claude: world.claude, argv: [cliTs, "serve", "--port", port] }))
    let service = await serve()
    const url = service.url
    world.fake.setScript([{ text: "first" }, { text: "second" }])
    const { sessionId } = (await accepted(url, "POST", "/v1/sessions", { query: "one", cwd: world.claude.cwd })) as { sessionId: string }
    await waitForStatus(url, sessionId, ["completed"], 45_000)

    const follow = cli(url, ["log", sessionId, "--follow", "--json"])
    const revisions = () => follow.lines.map((l) => (JSON.parse(l) as { revision: number }).revision)
    const types = () => follow.lines.map((l) => (JSON.parse(l) as { type: string }).type)
    await follow.waitFor(() => types().includes("RunCompleted"))

    const stopped = await service.stop()
    expect(stopped).toBe(0)
    service = await serve()
    expect(service.url).toBe(url)
    const listed = await finished(url, ["ls", "--search", "one", "--status", "completed"])
    expect(listed.out).toMatch(new RegExp(`^${sessionId}\\s+completed\\s`))
    expect((await finished(url, ["ls", "--search", "nothing like it"])).out).toBe("no sessions")
    expect((await finished(url, ["show", sessionId])).out).toMatch(/^status\s+completed$/m)
    await accepted(url, "POST", `/v1/sessions/${sessionId}/continue`, { query: "two" })
    await follow.waitFor(() => types().filter((t) => t === "RunCompleted").length === 2, 45_000)
    const seen = revisions()
    expect(seen).toEqual(Array.from({ length: seen.length }, (_, i) => i))
    expect(follow.child.exitCode).toBeNull()
    follow.child.kill("SIGTERM")
  })
})
