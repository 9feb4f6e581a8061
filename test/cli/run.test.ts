// `agentlog run`, `attach` and `fork --follow` as processes against the real service
// (started with `agentlog serve`), the real `claude` and the fake Messages API: what is
// printed, approvals answered on stdin (allow, deny with a reason, edit the input),
// Ctrl-C to detach or interrupt, and the exit code for each way a run ends.
import { existsSync, readFileSync, rmSync } from "node:fs"
import { basename, join } from "node:path"
import { describe, expect, it } from "vitest"
import { accepted, waitForStatus } from "../crash/crashHarness.ts"
import { toolResultsOf } from "../support/fakeAnthropic.ts"
import { openOfflineWorld } from "../support/offlineWorld.ts"
import { startServiceProcess } from "../support/serviceProcess.ts"
import { initRepo, sh } from "../workspaces/gitFixture.ts"
import { cli, cliTs, finished, perTest } from "./cliProcess.ts"

const opened = perTest()
const serve = async (name: string) => {
  const world = (opened.world = await openOfflineWorld(name))
  const service = (opened.service = await startServiceProcess({ dataDir: world.dataDir, claude: world.claude, argv: [cliTs, "serve"] }))
  return { world, url: service.url }
}

const write = (cwd: string, name: string, content = name) => ({ name: "Write", input: { file_path: join(cwd, name), content }, id: `toolu_${name}` })
const asked = (stdout: string) => stdout.split("needs approval").length - 1

// Each test starts the service and real claude runs: generous under a loaded machine.
describe("agentlog run, attach and fork --follow", { timeout: 240_000 }, () => {
  it("run follows to completion, each approval answered on stdin: allow, deny with a reason, edit the input", async () => {
    const { world, url } = await serve("cli-run")
    const cwd = world.claude.cwd
    world.fake.setScript([{ toolUse: write(cwd, "one") }, { toolUse: write(cwd, "two") }, { toolUse: write(cwd, "three") }, { text: "All three handled." }])
    const run = cli(url, ["run", "write three files", "--cwd", cwd, "--title", "three files"])

    await run.waitFor(({ stdout }) => asked(stdout) === 1)
    expect(run.stdout()).toMatch(/\? Write needs approval \([0-9a-f-]{36}\)\n\s+\{\n\s+"file_path": ".*\/one",/)
    run.answer("a")
    await run.waitFor(({ stdout }) => asked(stdout) === 2)
    run.answer("d")
    await run.waitFor(({ stdout }) => stdout.includes("reason (Claude is told): "))
    run.answer("not this one")
    await run.waitFor(({ stdout }) => asked(stdout) === 3)
    run.answer("e")
    await run.waitFor(({ stdout }) => stdout.includes("input (JSON) › "))
    run.answer("{not json")
    await run.waitFor(({ stdout }) => stdout.includes("not JSON; try again"))
    run.answer("e")
    run.answer(JSON.stringify({ file_path: join(cwd, "three"), content: "edited" }))

    expect(await run.exited, run.stderr()).toBe(0)
    const lines = run.lines
    const text = lines.join("\n")
    expect(lines[0]).toMatch(/^session [0-9a-f-]{36}$/)
    expect(lines).toContain("› write three files")
    expect(text).toMatch(/^→ \[Write\] \{"file_path":".*\/one","content":"one"\}$/m)
    expect(text).toMatch(/^\s+✓ allowed by \S+$/m)
    expect(text).toMatch(/^\s+✗ denied by \S+: not this one$/m)
    expect(lines).toContain("All three handled.")
    expect(run.stdout()).not.toContain("Claude is working") // no spinner when stdout is not a terminal
    expect(lines.at(-1)).toMatch(/^✓ completed · 4 turns · \$\d+\.\d{4} · \d+ in \/ \d+ out tokens · \d+\.\ds$/)
    // What the answers did: one written as asked, two not written (Claude told why), three as edited.
    expect(readFileSync(join(cwd, "one"), "utf8")).toBe("one")
    expect(existsSync(join(cwd, "two"))).toBe(false)
    expect(JSON.stringify(toolResultsOf(world.fake.mainRequests()[2]!.body))).toContain("not this one")
    expect(readFileSync(join(cwd, "three"), "utf8")).toBe("edited")

    const sessionId = lines[0]!.slice("session ".length)
    const shown = JSON.parse((await finished(url, ["show", sessionId, "--json"])).out)
    expect(shown).toMatchObject({ status: "completed", title: "three files", cwd })
  })

  it("run exits non-zero when the run fails, and refuses bad options before launching anything", async () => {
    const { world, url } = await serve("cli-run-codes")
    world.fake.setScript([{ error: { status: 400, type: "invalid_request_error", message: "the fake model rejects this" }, times: Infinity }])
    const failed = await finished(url, ["run", "fail please", "--cwd", world.claude.cwd])
    expect(failed.code).toBe(3)
    expect(failed.out.split("\n").at(-1)).toMatch(/^✗ failed: .*the fake model rejects this.* · \d+\.\ds$/)

    // --worktree in a directory that is no git repository: refused by the service before anything is launched.
    const worktree = await finished(url, ["run", "x", "--worktree", "--cwd", world.claude.cwd])
    expect(worktree.code).toBe(1)
    expect(worktree.stderr).toMatch(/^agentlog: 400: .* is not inside a git repository/)
    expect((await finished(url, ["run", "x", "--branch", "b"])).code).toBe(2)
    const mode = await finished(url, ["run", "x", "--permission-mode", "yolo"])
    expect(mode.code).toBe(2)
    expect(mode.stderr).toContain("--permission-mode must be one of default, acceptEdits, bypassPermissions, plan, dontAsk")
    expect((await finished(url, ["run", "x", "--max-turns", "0"])).code).toBe(2)
    expect((await finished(url, ["run"])).code).toBe(1)
    const sessions = JSON.parse((await finished(url, ["ls", "--json"])).out).items
    expect(sessions).toHaveLength(1) // only the failed run: nothing refused was launched

    // --worktree in a repository: Claude works on a branch of its own, the checkout stays as it was.
    const repo = join(world.dataDir, "..", `${basename(world.dataDir)}-repo`)
    initRepo(repo, {})
    world.fake.setScript([{ toolUse: { name: "Bash", input: { command: "printf 'hi\\n' > made.txt" } } }, { text: "Made." }])
    const inTree = await finished(url, ["run", "make a file", "--worktree", "--branch", "cli/made", "--cwd", repo, "--permission-mode", "bypassPermissions"])
    try {
      expect(inTree.code, inTree.stderr).toBe(0)
      expect(existsSync(join(repo, "made.txt"))).toBe(false)
      expect(sh(repo, "show", "cli/made:made.txt")).toBe("hi")
    } finally {
      rmSync(repo, { recursive: true, force: true })
      rmSync(`${world.dataDir}-workspaces`, { recursive: true, force: true })
    }
  })

  it("attach shows a waiting approval; Ctrl-C detaches and the session keeps waiting; attach again answers it", async () => {
    const { world, url } = await serve("cli-attach")
    const cwd = world.claude.cwd
    world.fake.setScript([{ text: "Let me write it.", toolUse: write(cwd, "file") }, { text: "Written." }])
    const { sessionId } = (await accepted(url, "POST", "/v1/sessions", { query: "write the file", cwd })) as { sessionId: string }
    await waitForStatus(url, sessionId, ["waiting_approval"], 60_000)

    const first = cli(url, ["attach", sessionId])
    await first.waitFor(({ stdout }) => asked(stdout) === 1)
    expect(first.lines).toContain("› write the file")
    expect(first.lines).toContain("Let me write it.")
    first.child.kill("SIGINT")
    await first.waitFor(({ stdout }) => stdout.includes("Ctrl-C: [i]nterrupt"))
    first.answer("d")
    expect(await first.exited).toBe(6)
    expect(first.stderr() + first.stdout()).toContain(`detached: session ${sessionId} keeps running`)
    expect((await waitForStatus(url, sessionId, ["waiting_approval"])).status).toBe("waiting_approval")

    const second = cli(url, ["attach", sessionId])
    await second.waitFor(({ stdout }) => asked(stdout) === 1)
    second.answer("a")
    expect(await second.exited, second.stderr()).toBe(0)
    expect(second.lines).toContain("Written.")
    expect(second.lines.at(-1)).toMatch(/^✓ completed · /)
    expect(readFileSync(join(cwd, "file"), "utf8")).toBe("file")

    const ended = await finished(url, ["attach", sessionId])
    expect(ended.code).toBe(0)
    expect(ended.out).toBe(`session ${sessionId} is completed: nothing runs to attach to (agentlog log ${sessionId} shows what happened)`)
  })

  it("Ctrl-C then [i] interrupts the run (exit 4); fork --follow follows the new session", async () => {
    const { world, url } = await serve("cli-interrupt")
    world.fake.setScript([
      { slow: { chunks: ["thinking ", "about ", "it"], delayMs: 50, hold: true } },
      { slow: { chunks: ["forked ", "answer, ", "token by token"], delayMs: 20 } }
    ])
    const run = cli(url, ["run", "take your time", "--cwd", world.claude.cwd])
    await run.waitFor(({ lines }) => lines.some((l) => l.startsWith("› ")))
    await world.fake.waitForSlowChunks(1, 60_000)
    run.child.kill("SIGINT")
    await run.waitFor(({ stdout }) => stdout.includes("Ctrl-C: [i]nterrupt"))
    run.answer("i")
    expect(await run.exited, run.stderr()).toBe(4)
    expect(run.lines.at(-1)).toMatch(/^■ interrupted · /)
    const sessionId = run.lines[0]!.slice("session ".length)
    expect((await waitForStatus(url, sessionId, ["interrupted"])).status).toBe("interrupted")

    // --stream: the deltas are recorded and shown as they come, the whole message not again.
    const fork = await finished(url, ["fork", sessionId, "and now?", "--follow", "--stream"])
    expect(fork.code, fork.stderr).toBe(0)
    expect(fork.out).toMatch(new RegExp(`^session [0-9a-f-]{36} \\(fork of ${sessionId}\\)$`, "m"))
    expect(fork.out.split("\n").filter((l) => l.includes("forked answer"))).toEqual(["forked answer, token by token"])
    const forkId = /^session (\S+) \(fork/m.exec(fork.out)![1]!
    const types = (await finished(url, ["log", forkId, "--json"])).out.split("\n").map((l) => JSON.parse(l).type)
    expect(types).toContain("ClaudeStreamEvent")
  })
})
