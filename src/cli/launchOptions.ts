// The options a new run is launched with, shared by `run` and `fork`.
import { resolve } from "node:path"
import { CliError, type Schemas } from "./client.ts"
import { allOf, type Flags, oneOf } from "./command.ts"

export const launchOptions = {
  cwd: { type: "string" },
  model: { type: "string" },
  title: { type: "string" },
  "permission-mode": { type: "string" },
  "max-turns": { type: "string" },
  worktree: { type: "boolean" },
  base: { type: "string" },
  branch: { type: "string" },
  stream: { type: "boolean" }
} as const

export const launchUsage =
  "[--cwd DIR] [--model M] [--title T] [--permission-mode MODE] [--max-turns N] [--worktree [--base REF] [--branch NAME]] [--stream]"

const permissionModes = allOf<NonNullable<Schemas["LaunchSession"]["permissionMode"]>>()(["default", "acceptEdits", "bypassPermissions", "plan", "dontAsk"])

/** The launch body's options from the flags; the working directory defaults to this one. */
export const launchBody = (flags: Flags<typeof launchOptions>): Omit<Schemas["LaunchSession"], "query"> => {
  if (!flags.worktree && (flags.base !== undefined || flags.branch !== undefined))
    throw new CliError("--base and --branch go with --worktree", 2)
  const mode = flags["permission-mode"] === undefined ? undefined : oneOf("permission-mode", permissionModes, flags["permission-mode"])
  const maxTurns = flags["max-turns"]
  if (maxTurns !== undefined && !/^[1-9][0-9]{0,3}$/.test(maxTurns)) throw new CliError(`--max-turns must be a number from 1 to 9999; got ${maxTurns}`, 2)
  return {
    cwd: resolve(flags.cwd ?? process.cwd()),
    ...(flags.model !== undefined ? { model: flags.model } : {}),
    ...(flags.title !== undefined ? { title: flags.title } : {}),
    ...(mode !== undefined ? { permissionMode: mode } : {}),
    ...(maxTurns !== undefined ? { maxTurns: Number(maxTurns) } : {}),
    // Claude works in a git worktree of the repository on a branch of the session's own.
    ...(flags.worktree
      ? {
          workspace: {
            kind: "worktree" as const,
            ...(flags.base !== undefined ? { baseRef: flags.base } : {}),
            ...(flags.branch !== undefined ? { branch: flags.branch } : {})
          }
        }
      : {}),
    // Token by token: Claude's partial messages are recorded (many more events) and shown as they come.
    ...(flags.stream ? { includePartialMessages: true } : {})
  }
}
