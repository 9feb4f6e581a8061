// Issue 13's figure: making a session's worktree (every check, then `git worktree add`) on a
// repository of 10,000 files, against `git worktree add` alone on the same repository, in
// alternating rounds; the ratio of the medians.
import { execFileSync } from "node:child_process"
import { mkdirSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import { createWorkspace } from "../src/workspaces/worktree.ts"
import { fmt, median, type Row } from "./table.ts"

export interface WorkspacesBenchOptions {
  readonly dir: string
  readonly files: number
  readonly rounds: number
  readonly log: (line: string) => void
}

const git = (cwd: string, ...args: Array<string>) =>
  execFileSync("git", ["-c", "commit.gpgSign=false", ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, GIT_AUTHOR_NAME: "b", GIT_AUTHOR_EMAIL: "b@b", GIT_COMMITTER_NAME: "b", GIT_COMMITTER_EMAIL: "b@b" }
  })

export const runWorkspacesBench = async (o: WorkspacesBenchOptions): Promise<Array<Row>> => {
  const root = join(o.dir, "workspaces")
  rmSync(root, { recursive: true, force: true })
  const repo = join(root, "repo")
  try {
    mkdirSync(repo, { recursive: true })
    git(repo, "init", "--quiet", "--initial-branch=main")
    for (let i = 0; i < o.files; i++) {
      const d = join(repo, `d${i % 100}`)
      if (i < 100) mkdirSync(d)
      writeFileSync(join(d, `f${i}.txt`), `file ${i}\n`.repeat(20))
    }
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", "base")
    o.log(`workspaces: a repository of ${o.files.toLocaleString("en-US")} files made`)
    const plain: Array<number> = []
    const ours: Array<number> = []
    for (let r = 0; r < o.rounds; r++) {
      const a = join(root, `plain-${r}`)
      let t = performance.now()
      git(repo, "worktree", "add", "--quiet", "-b", `plain/${r}`, a, "main")
      plain.push(performance.now() - t)
      const b = join(root, `ours-${r}`)
      t = performance.now()
      await Effect.runPromise(createWorkspace({ cwd: repo, branch: `agentlog/${r}`, path: b }))
      ours.push(performance.now() - t)
      for (const [p, br] of [[a, `plain/${r}`], [b, `agentlog/${r}`]] as const) {
        git(repo, "worktree", "remove", "--force", p)
        git(repo, "branch", "-D", br)
      }
    }
    const ratio = median(ours) / median(plain)
    o.log(`workspaces: ours ${fmt.ms(median(ours))}, git worktree add ${fmt.ms(median(plain))}`)
    return [
      {
        item: 13,
        what: `making a session's worktree (checks + git worktree add), ${o.files.toLocaleString("en-US")}-file repository, median of ${o.rounds}`,
        figure: fmt.ms(median(ours)),
        baseline: `${fmt.ms(median(plain))} (git worktree add alone)`,
        ratio: fmt.ratio(ratio),
        goal: "< 1.2x",
        pass: ratio < 1.2
      }
    ]
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}
