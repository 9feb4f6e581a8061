// Issue 13's figures.
// (a) Making a session's worktree (every check, then `git worktree add`) on a repository of
// 10,000 files, against `git worktree add` alone on the same repository: a warm-up pair,
// then alternating rounds, each timed operation after a `sync` (so neither pays for the
// other's writeback), every worktree removed only at the end; the ratio of the medians.
// (b) A run's commit (what the supervisor does at every run's end) against the scripted
// session of the supervisor bench: the commit timed on its own in a session's worktree,
// and the same scripted session continued with and without a worktree, interleaved.
import { execFileSync } from "node:child_process"
import { mkdirSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import { commitRun, createWorkspace } from "../src/workspaces/worktree.ts"
import { prompt, script, startBenchService, waitForSse } from "./supervisor.ts"
import { fmt, median, type Row } from "./table.ts"

export interface WorkspacesBenchOptions {
  readonly dir: string
  readonly files: number
  readonly rounds: number
  /** Runs of the scripted session, with and without a worktree each. */
  readonly sessions: number
  readonly log: (line: string) => void
}

const git = (cwd: string, ...args: Array<string>) =>
  execFileSync("git", ["-c", "commit.gpgSign=false", ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, GIT_AUTHOR_NAME: "b", GIT_AUTHOR_EMAIL: "b@b", GIT_COMMITTER_NAME: "b", GIT_COMMITTER_EMAIL: "b@b" }
  })

const sync = () => execFileSync("sync")

/** A repository of `files` files in 100 directories, in one commit on main. */
const makeRepo = (repo: string, files: number) => {
  mkdirSync(repo, { recursive: true })
  git(repo, "init", "--quiet", "--initial-branch=main")
  for (let i = 0; i < files; i++) {
    const d = join(repo, `d${i % 100}`)
    if (i < 100) mkdirSync(d)
    writeFileSync(join(d, `f${i}.txt`), `file ${i}\n`.repeat(20))
  }
  git(repo, "add", "-A")
  git(repo, "commit", "--quiet", "-m", "base")
}

const creation = async (root: string, o: WorkspacesBenchOptions): Promise<Row> => {
  const repo = join(root, "repo")
  makeRepo(repo, o.files)
  o.log(`workspaces: a repository of ${o.files.toLocaleString("en-US")} files made`)
  const plain: Array<number> = []
  const ours: Array<number> = []
  // Removed only at the end: the first checkout after removing 20,000 files was several
  // times slower than the second, whichever it was (sync or not), so removals in between
  // timed whatever came first instead of what was timed.
  const made: Array<readonly [string, string]> = []
  // Round -1 is the warm-up: the repository's objects and index in the page cache.
  for (let r = -1; r < o.rounds; r++) {
    const a = join(root, `plain-${r}`)
    const b = join(root, `ours-${r}`)
    const timePlain = () => {
      sync()
      const t = performance.now()
      git(repo, "worktree", "add", "--quiet", "-b", `plain/${r}`, a, "main")
      const ms = performance.now() - t
      if (r >= 0) plain.push(ms)
    }
    const timeOurs = async () => {
      sync()
      const t = performance.now()
      await Effect.runPromise(createWorkspace({ cwd: repo, branch: `agentlog/${r}`, path: b }))
      const ms = performance.now() - t
      if (r >= 0) ours.push(ms)
    }
    // Each goes first in every other round.
    if (r % 2 === 0) {
      timePlain()
      await timeOurs()
    } else {
      await timeOurs()
      timePlain()
    }
    made.push([a, `plain/${r}`], [b, `agentlog/${r}`])
    if (r >= 0) o.log(`  round ${r + 1}: git worktree add ${fmt.ms(plain.at(-1)!)}, agentlog ${fmt.ms(ours.at(-1)!)}`)
  }
  // Removed as files, then git's bookkeeping pruned: `git worktree remove` took minutes for these.
  for (const [p] of made) rmSync(p, { recursive: true, force: true })
  git(repo, "worktree", "prune")
  git(repo, "branch", "-D", ...made.map(([, br]) => br))
  const ratio = median(ours) / median(plain)
  o.log(`workspaces: ours ${fmt.ms(median(ours))}, git worktree add ${fmt.ms(median(plain))}`)
  return {
    item: 13,
    what: `making a session's worktree (checks + git worktree add), ${o.files.toLocaleString("en-US")}-file repository, median of ${o.rounds}`,
    figure: fmt.ms(median(ours)),
    baseline: `${fmt.ms(median(plain))} (git worktree add alone)`,
    ratio: fmt.ratio(ratio),
    goal: "< 1.2x",
    pass: ratio < 1.2
  }
}

const runCommits = async (root: string, o: WorkspacesBenchOptions): Promise<Array<Row>> => {
  const repo = join(root, "repo")
  const { fake, service, close } = await startBenchService({ AGENTLOG_WORKSPACE_ROOT: join(root, "sessions") })
  const post = async (path: string, body: unknown) => {
    const r = await fetch(`${service.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
    if (r.status !== 202) throw new Error(`${path}: ${r.status} ${await r.text()}`)
    return (await r.json()) as { sessionId: string; revision: number }
  }
  /** One scripted run (launch or continue) until its end is in the stream. */
  const scripted = async (path: string, body: Record<string, unknown>) => {
    fake.setScript(script)
    const started = performance.now()
    const a = await post(path, { query: prompt, allowedTools: ["Bash"], ...body })
    const live = await fetch(`${service.url}/v1/sessions/${a.sessionId}/events/live`, { headers: { "Last-Event-ID": String(a.revision) } })
    const ended = await waitForSse(live, (e) => e === "RunCompleted" || e === "RunFailed" || e === "RunInterrupted")
    if (ended.type !== "RunCompleted") throw new Error(`the run ended ${String(ended.type)}`)
    return { sessionId: a.sessionId, ms: performance.now() - started }
  }
  const withWs: Array<number> = []
  const without: Array<number> = []
  const commits: Array<number> = []
  const smallCommits: Array<number> = []
  try {
    // Warm-up, and the two sessions (the worktree is made here, not in the timed runs).
    const ws = (await scripted("/v1/sessions", { cwd: repo, workspace: { kind: "worktree" } })).sessionId
    const plain = (await scripted("/v1/sessions", { cwd: repo })).sessionId
    for (let i = 0; i < o.sessions; i++) {
      const pair = i % 2 === 0 ? [ws, plain] : [plain, ws]
      for (const id of pair) (id === ws ? withWs : without).push((await scripted(`/v1/sessions/${id}/continue`, {})).ms)
      o.log(`  run ${i + 1}: without a worktree ${fmt.ms(without.at(-1)!)}, in one ${fmt.ms(withWs.at(-1)!)}`)
    }
    // The commit on its own, as the supervisor makes it at a run's end: one file edited, in
    // the session's worktree of the large repository and in one of a 100-file repository
    // (the scripted session's own directory holds a handful).
    const small = join(root, "small")
    makeRepo(small, 100)
    await Effect.runPromise(createWorkspace({ cwd: small, branch: "agentlog/small", path: join(root, "small-ws") }))
    for (const [path, into] of [[join(root, "sessions", ws), commits], [join(root, "small-ws"), smallCommits]] as const) {
      for (let i = 0; i < o.sessions * 2; i++) {
        writeFileSync(join(path, "d0", "f0.txt"), `edit ${i}\n`)
        const head = git(path, "rev-parse", "HEAD").trim()
        const t = performance.now()
        await Effect.runPromise(commitRun(path, `run ${i}`, head))
        into.push(performance.now() - t)
      }
    }
  } finally {
    await close()
  }
  const session = median(without)
  const commit = median(commits)
  const pairRatio = median(withWs.map((x, i) => x / without[i]!))
  o.log(`workspaces: a run's commit ${fmt.ms(commit)}; the scripted session ${fmt.ms(session)} without a worktree, ${fmt.ms(median(withWs))} in one`)
  return [
    {
      item: 13,
      what: `a run's commit (add, commit, diff; one file edited), ${o.files.toLocaleString("en-US")}-file worktree, median of ${commits.length}`,
      figure: fmt.ms(commit),
      baseline: `the scripted session through agentlog ${fmt.ms(session)}`,
      ratio: fmt.pct(commit / session),
      goal: "< 5%",
      pass: commit / session < 0.05
    },
    {
      item: 13,
      what: `a run's commit (the same), 100-file worktree, median of ${smallCommits.length}`,
      figure: fmt.ms(median(smallCommits)),
      baseline: `the scripted session through agentlog ${fmt.ms(session)}`,
      ratio: fmt.pct(median(smallCommits) / session),
      goal: "< 5%",
      pass: median(smallCommits) / session < 0.05
    },
    {
      item: 13,
      what: `the scripted session continued in a worktree (its commit and record included), median of ${o.sessions} pairs`,
      figure: fmt.ms(median(withWs)),
      baseline: `${fmt.ms(session)} without a worktree`,
      ratio: fmt.pct(pairRatio - 1),
      goal: "< +5%",
      pass: pairRatio < 1.05
    }
  ]
}

export const runWorkspacesBench = async (o: WorkspacesBenchOptions): Promise<Array<Row>> => {
  const root = join(o.dir, "workspaces")
  rmSync(root, { recursive: true, force: true })
  try {
    const made = await creation(root, o)
    return [made, ...(await runCommits(root, o))]
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}
