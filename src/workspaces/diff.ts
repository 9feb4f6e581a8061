// What a session changed, for review: git's unified diff as text, and the same diff as
// files and hunks for a page or a client to draw without parsing diff text itself.
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { git, type GitFailed } from "./git.ts"

export interface DiffLine {
  readonly kind: "context" | "add" | "del"
  readonly text: string
}

export interface DiffHunk {
  readonly header: string
  readonly oldStart: number
  readonly oldLines: number
  readonly newStart: number
  readonly newLines: number
  readonly lines: ReadonlyArray<DiffLine>
}

export interface DiffFile {
  readonly oldPath: string | null
  readonly newPath: string | null
  readonly status: "added" | "deleted" | "modified" | "renamed"
  readonly binary: boolean
  readonly hunks: ReadonlyArray<DiffHunk>
}

const unquote = (p: string): string => (p.startsWith('"') ? (JSON.parse(p) as string) : p)
const side = (p: string, prefix: string): string | null => (p === "/dev/null" ? null : unquote(p).replace(prefix, ""))

/** Parses `git diff` output (default a/ b/ prefixes, no colour) into files and hunks. */
export const parseUnifiedDiff = (text: string): ReadonlyArray<DiffFile> => {
  const files: Array<DiffFile> = []
  let file: { oldPath: string | null; newPath: string | null; status: DiffFile["status"]; binary: boolean; hunks: Array<DiffHunk> } | undefined
  let hunk: { header: string; oldStart: number; oldLines: number; newStart: number; newLines: number; lines: Array<DiffLine> } | undefined
  for (const line of text.split("\n")) {
    if (line.startsWith("diff --git ")) {
      const m = /^diff --git (?:"?a\/)(.*?)"? (?:"?b\/)(.*?)"?$/.exec(line)
      file = { oldPath: m?.[1] ?? null, newPath: m?.[2] ?? null, status: "modified", binary: false, hunks: [] }
      hunk = undefined
      files.push(file)
    } else if (!file) {
      continue
    } else if (hunk === undefined && line.startsWith("new file mode")) {
      file.status = "added"
      file.oldPath = null
    } else if (hunk === undefined && line.startsWith("deleted file mode")) {
      file.status = "deleted"
      file.newPath = null
    } else if (hunk === undefined && line.startsWith("rename from ")) {
      file.status = "renamed"
      file.oldPath = unquote(line.slice("rename from ".length))
    } else if (hunk === undefined && line.startsWith("rename to ")) {
      file.newPath = unquote(line.slice("rename to ".length))
    } else if (hunk === undefined && line.startsWith("Binary files ")) {
      file.binary = true
    } else if (hunk === undefined && line.startsWith("--- ")) {
      file.oldPath = side(line.slice(4), "a/")
    } else if (hunk === undefined && line.startsWith("+++ ")) {
      file.newPath = side(line.slice(4), "b/")
    } else if (line.startsWith("@@")) {
      const m = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/.exec(line)
      hunk = {
        header: line,
        oldStart: Number(m?.[1] ?? 0),
        oldLines: m?.[2] === undefined ? 1 : Number(m[2]),
        newStart: Number(m?.[3] ?? 0),
        newLines: m?.[4] === undefined ? 1 : Number(m[4]),
        lines: []
      }
      file.hunks.push(hunk)
    } else if (hunk) {
      if (line.startsWith("+")) hunk.lines.push({ kind: "add", text: line.slice(1) })
      else if (line.startsWith("-")) hunk.lines.push({ kind: "del", text: line.slice(1) })
      else if (line.startsWith(" ")) hunk.lines.push({ kind: "context", text: line.slice(1) })
      // "\ No newline at end of file" and the final empty line carry no content.
    }
  }
  return files
}

const diffArgs = ["diff", "--no-color", "--no-ext-diff", "--find-renames", "--src-prefix=a/", "--dst-prefix=b/"]

/** The diff between two commits of a workspace. */
export const diffCommits = (path: string, from: string, to: string): Effect.Effect<string, GitFailed> =>
  git(path, [...diffArgs, from, to, "--"])

/**
 * The working tree against a commit, new files included, without touching the workspace's
 * own index (Claude may be using git in it): a throwaway index holds the snapshot.
 */
export const diffWorkingTree = (path: string, from: string): Effect.Effect<string, GitFailed> =>
  Effect.acquireUseRelease(
    Effect.promise(() => mkdtemp(join(tmpdir(), "agentlog-index-"))),
    (dir) => {
      const env = { GIT_INDEX_FILE: join(dir, "index") }
      return git(path, ["read-tree", "HEAD"], env).pipe(
        Effect.andThen(git(path, ["add", "--all"], env)),
        Effect.andThen(git(path, [...diffArgs, "--cached", from, "--"], env))
      )
    },
    (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
  )
