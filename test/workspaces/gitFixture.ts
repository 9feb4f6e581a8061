// git as the tests run it on the repositories they make (an identity of their own).
import { execFileSync } from "node:child_process"
import { mkdirSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"

export const sh = (cwd: string, ...args: Array<string>): string =>
  execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t" }
  }).trim()

/** A new repository at `repo` on branch main, with `files` (path -> content) in one commit, "base". */
export const initRepo = (repo: string, files: Readonly<Record<string, string>>): void => {
  mkdirSync(repo, { recursive: true })
  sh(repo, "init", "--quiet", "--initial-branch=main")
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(repo, path)), { recursive: true })
    writeFileSync(join(repo, path), content)
  }
  sh(repo, "add", "-A")
  sh(repo, "commit", "--quiet", "--allow-empty", "-m", "base")
}
