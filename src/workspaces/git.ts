// Running git: one place that spawns it, with an environment that cannot prompt, page or
// read the user's identity, so every workspace operation behaves the same on any machine.
import { execFile } from "node:child_process"
import { Data, Effect } from "effect"

/** git itself failed in a way no refusal explains (a broken repository, a missing binary). */
export class GitFailed extends Data.TaggedError("GitFailed")<{
  readonly args: ReadonlyArray<string>
  readonly code: number | string | null
  readonly stderr: string
}> {
  override get message() {
    return `git ${this.args.join(" ")} failed (${String(this.code)}): ${this.stderr.trim().split("\n").slice(-3).join(" ")}`
  }
}

export interface GitOutput {
  readonly stdout: string
  readonly stderr: string
  readonly code: number
}

const gitEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  GIT_TERMINAL_PROMPT: "0",
  GIT_PAGER: "cat",
  LC_ALL: "C",
  // Commits are agentlog's, whoever runs the service.
  GIT_AUTHOR_NAME: "agentlog",
  GIT_AUTHOR_EMAIL: "agentlog@localhost",
  GIT_COMMITTER_NAME: "agentlog",
  GIT_COMMITTER_EMAIL: "agentlog@localhost"
})

/** Runs git; a non-zero exit is an answer (code), not a failure. */
export const gitRaw = (
  cwd: string,
  args: ReadonlyArray<string>,
  env: Readonly<Record<string, string>> = {},
  stdin?: string
): Effect.Effect<GitOutput, GitFailed> =>
  Effect.callback<GitOutput, GitFailed>((resume) => {
    const child = execFile(
      "git",
      ["-c", "core.quotePath=false", "-c", "commit.gpgSign=false", ...args],
      { cwd, env: { ...gitEnv(), ...env }, maxBuffer: 256 * 1024 * 1024, encoding: "utf8" },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== "number") {
          resume(Effect.fail(new GitFailed({ args, code: error.code ?? null, stderr: String(stderr || error.message) })))
          return
        }
        resume(Effect.succeed({ stdout, stderr, code: error ? (error.code as number) : 0 }))
      }
    )
    if (stdin !== undefined) {
      // A git that exits before reading it all answers by its exit code, not by EPIPE.
      child.stdin?.on("error", () => {})
      child.stdin?.end(stdin)
    }
  })

/** Runs git and wants exit 0. */
export const git = (
  cwd: string,
  args: ReadonlyArray<string>,
  env: Readonly<Record<string, string>> = {}
): Effect.Effect<string, GitFailed> =>
  Effect.flatMap(gitRaw(cwd, args, env), (o) =>
    o.code === 0 ? Effect.succeed(o.stdout) : Effect.fail(new GitFailed({ args, code: o.code, stderr: o.stderr }))
  )
