// A session's isolated checkout: a git worktree on a branch of its own, a commit per run,
// and the ways to finish it (merge, rebase, discard). Every refusal says which rule it is
// and leaves nothing half made: a failed creation removes what it created.
import { access, constants, mkdir, rm, stat } from "node:fs/promises"
import { dirname, relative, resolve } from "node:path"
import { Data, Effect } from "effect"
import type { WorkspaceResetState, WorkspaceState } from "../domain/sessionState.ts"
import { git, GitFailed, gitRaw } from "./git.ts"

export type WorkspaceRefusal =
  | "not_a_repository"
  | "not_writable"
  | "ref_not_found"
  | "bad_branch_name"
  | "dirty_base"
  | "branch_exists"
  | "path_exists"
  | "conflict"

/** What the person asked for cannot be done, and why: a 4xx, never a half-made worktree. */
export class WorkspaceRefused extends Data.TaggedError("WorkspaceRefused")<{
  readonly reason: WorkspaceRefusal
  readonly detail: string
  /** The files in conflict, for a merge or rebase that cannot be done. */
  readonly files?: ReadonlyArray<string>
}> {
  override get message() {
    return this.detail
  }
}

export type WorkspaceError = WorkspaceRefused | GitFailed

export interface WorkspaceSpec {
  /** Where the session was asked to run: a directory inside a git repository. */
  readonly cwd: string
  /** The commit-ish to branch from; default the branch checked out in the repository. */
  readonly baseRef?: string | undefined
  /** The commit to branch from, when not baseRef's (a fork starts at its parent's commit). */
  readonly startAt?: string | undefined
  readonly branch: string
  /** Where the worktree goes (a directory agentlog owns; it must not exist yet). */
  readonly path: string
}

/** What was made: as WorkspaceCreated records it (repo is the top level, cwd the asked one translated into the worktree). */
export type Workspace = Pick<WorkspaceState, "repo" | "baseRef" | "baseSha" | "branch" | "path" | "cwd">

const refused = (reason: WorkspaceRefusal, detail: string, files?: ReadonlyArray<string>) =>
  Effect.fail(new WorkspaceRefused(files ? { reason, detail, files } : { reason, detail }))

const lines = (s: string): Array<string> => s.split("\n").filter((l) => l.length > 0)

const exists = (p: string) => Effect.promise(() => stat(p).then(() => true, () => false))
const writable = (p: string) => Effect.promise(() => access(p, constants.W_OK).then(() => true, () => false))

/** The repository's top level for a directory, or a refusal naming the directory. */
export const repositoryOf = (cwd: string): Effect.Effect<string, WorkspaceError> =>
  Effect.gen(function* () {
    const top = yield* gitRaw(cwd, ["rev-parse", "--show-toplevel"]).pipe(
      Effect.catchTag("GitFailed", () => Effect.succeed({ code: 128, stdout: "", stderr: "" }))
    )
    if (top.code !== 0 && /dubious ownership/.test(top.stderr)) {
      return yield* refused("not_writable", `the repository at ${cwd} belongs to another user: the service's user cannot write it`)
    }
    if (top.code !== 0) return yield* refused("not_a_repository", `${cwd} is not inside a git repository`)
    return top.stdout.trim()
  })

/** The sha a ref names as a commit, or undefined. */
const commitOf = (repo: string, ref: string) =>
  Effect.map(gitRaw(repo, ["rev-parse", "--verify", "--quiet", "--end-of-options", `${ref}^{commit}`]), (o) =>
    o.code === 0 ? o.stdout.trim() : undefined
  )

const currentBranch = (repo: string) =>
  Effect.map(gitRaw(repo, ["symbolic-ref", "--quiet", "--short", "HEAD"]), (o) => (o.code === 0 ? o.stdout.trim() : "HEAD"))

const isDirty = (dir: string) => Effect.map(git(dir, ["status", "--porcelain"]), (s) => s.trim().length > 0)

interface ListedWorktree {
  readonly path: string
  readonly branch: string | undefined
}

/** The worktrees git knows of for a repository (the main one first). */
export const listWorktrees = (repo: string): Effect.Effect<ReadonlyArray<ListedWorktree>, GitFailed> =>
  Effect.map(git(repo, ["worktree", "list", "--porcelain"]), (out) =>
    out
      .split("\n\n")
      .filter((b) => b.trim().length > 0)
      .map((block) => {
        const l = lines(block)
        const path = l.find((x) => x.startsWith("worktree "))!.slice("worktree ".length)
        const ref = l.find((x) => x.startsWith("branch "))?.slice("branch ".length)
        return { path, branch: ref?.replace(/^refs\/heads\//, "") }
      })
  )

/** Removes a worktree and its branch; what is already gone is no error. */
export const discardWorkspace = (repo: string, path: string, branch: string): Effect.Effect<void, GitFailed> =>
  Effect.gen(function* () {
    yield* gitRaw(repo, ["worktree", "remove", "--force", "--force", path])
    yield* Effect.promise(() => rm(path, { recursive: true, force: true }))
    yield* gitRaw(repo, ["worktree", "prune"])
    yield* gitRaw(repo, ["branch", "-D", "--end-of-options", branch])
  })

/** What a workspace would be made from, every refusal checked (nothing is made). */
export interface WorkspacePlan {
  readonly repo: string
  readonly baseRef: string
  readonly baseSha: string
  readonly branch: string
}

/**
 * The checks of a creation, on their own: the HTTP edge runs them to refuse a launch with a
 * 4xx, and creation runs them again (the repository may have changed in between).
 */
export const checkWorkspace = (spec: Omit<WorkspaceSpec, "path">): Effect.Effect<WorkspacePlan, WorkspaceError> =>
  Effect.gen(function* () {
    // As few git processes as the checks allow: a launch pays for each (see the bench).
    const top = yield* gitRaw(spec.cwd, ["rev-parse", "--show-toplevel", "--git-common-dir"]).pipe(
      Effect.catchTag("GitFailed", () => Effect.succeed({ code: 128, stdout: "", stderr: "" }))
    )
    if (top.code !== 0) {
      // Which refusal it is (not a repository, or another user's).
      yield* repositoryOf(spec.cwd)
      return yield* refused("not_a_repository", `${spec.cwd} is not inside a git repository`)
    }
    const [repo = "", common = ""] = lines(top.stdout)
    if (!(yield* writable(resolve(spec.cwd, common)))) {
      return yield* refused("not_writable", `the repository ${repo} is not writable by the service's user`)
    }
    const checkedOut = yield* currentBranch(repo)
    const baseRef = spec.baseRef ?? checkedOut
    const base = spec.startAt ?? baseRef
    if (spec.branch.startsWith("-") || /[\n\r]/.test(base + spec.branch)) {
      return yield* refused(/[\n\r]/.test(base) ? "ref_not_found" : "bad_branch_name", `${/[\n\r]/.test(base) ? base : spec.branch} is not a valid name`)
    }
    // One process answers all three: the base's commit, HEAD's, and whether the branch exists.
    const found = lines(
      (yield* gitRaw(repo, ["cat-file", "--batch-check=%(objectname) %(objecttype)"], {}, `${base}^{commit}\nHEAD^{commit}\nrefs/heads/${spec.branch}\n`)).stdout
    ).map((l) => (/ (commit|tree|blob|tag)$/.test(l) ? l.split(" ")[0] : undefined))
    const [baseSha, headSha, branchSha] = found
    if (baseSha === undefined) return yield* refused("ref_not_found", `baseRef ${base} names no commit in ${repo}`)
    // Uncommitted changes on the branch being based on would silently not be in the workspace
    // (a fork starts from a recorded commit, which they cannot be part of). Untracked files
    // are not on any branch, so they are no reason to refuse (and looking for them costs a
    // walk of the whole checkout).
    if (spec.startAt === undefined && (baseRef === checkedOut || baseRef === "HEAD" || baseSha === headSha)) {
      const changed = yield* git(repo, ["status", "--porcelain", "--untracked-files=no"])
      if (changed.trim().length > 0)
        return yield* refused("dirty_base", `${repo} has uncommitted changes on ${baseRef}: commit or stash them, or name another baseRef`)
    }
    const nameOk = yield* gitRaw(repo, ["check-ref-format", "--branch", spec.branch])
    if (nameOk.code !== 0) return yield* refused("bad_branch_name", `${spec.branch} is not a valid branch name`)
    if (branchSha !== undefined) return yield* refused("branch_exists", `branch ${spec.branch} already exists in ${repo}`)
    return { repo, baseRef, baseSha, branch: spec.branch }
  })

/**
 * Creates the session's worktree on a new branch. Checked first, so a refusal leaves the
 * repository untouched; if git fails half way, what it made is removed again.
 */
export const createWorkspace = (spec: WorkspaceSpec): Effect.Effect<Workspace, WorkspaceError> =>
  Effect.gen(function* () {
    const { repo, baseRef, baseSha } = yield* checkWorkspace(spec)
    if (yield* exists(spec.path)) return yield* refused("path_exists", `${spec.path} already exists`)

    yield* Effect.promise(() => mkdir(dirname(spec.path), { recursive: true, mode: 0o700 }))
    yield* git(repo, ["worktree", "add", "--quiet", "-b", spec.branch, spec.path, baseSha]).pipe(
      Effect.onError(() => discardWorkspace(repo, spec.path, spec.branch).pipe(Effect.ignore))
    )
    const inside = relative(repo, resolve(spec.cwd))
    return { repo, baseRef, baseSha, branch: spec.branch, path: spec.path, cwd: resolve(spec.path, inside) }
  })

export interface FileChange {
  readonly path: string
  readonly insertions: number
  readonly deletions: number
  /** A binary file has no line counts. */
  readonly binary: boolean
}

export interface RunCommit {
  /** The branch's head after the run: a new commit, or the old head when nothing changed. */
  readonly sha: string
  readonly changed: boolean
  readonly files: ReadonlyArray<FileChange>
  readonly insertions: number
  readonly deletions: number
}

/** Parses `git diff --numstat -z`-less numstat lines ("12\t3\tpath", "-\t-\tbinary"). */
export const parseNumstat = (out: string): ReadonlyArray<FileChange> =>
  lines(out).map((l) => {
    const [ins, del, ...rest] = l.split("\t")
    const binary = ins === "-"
    return { path: rest.join("\t"), insertions: binary ? 0 : Number(ins), deletions: binary ? 0 : Number(del), binary }
  })

const totals = (files: ReadonlyArray<FileChange>) => ({
  insertions: files.reduce((n, f) => n + f.insertions, 0),
  deletions: files.reduce((n, f) => n + f.deletions, 0)
})

/**
 * Commits everything the run left in the worktree (new, changed and deleted files). The
 * files are counted since `since` (default the commit's parent): the head recorded before
 * the run, so commits Claude made itself count too.
 */
export const commitRun = (path: string, message: string, since?: string): Effect.Effect<RunCommit, GitFailed> =>
  Effect.gen(function* () {
    // One pass over the worktree (add); the commit is made from the index with plumbing,
    // which does not look at the worktree again as `git commit` would, and runs no hooks.
    yield* git(path, ["add", "--all"])
    const tree = (yield* git(path, ["write-tree"])).trim()
    const [head = "", headTree] = lines(yield* git(path, ["rev-parse", "HEAD", "HEAD^{tree}"]))
    const changed = tree !== headTree
    let sha = head
    if (changed) {
      sha = (yield* git(path, ["commit-tree", tree, "-p", head, "-m", message])).trim()
      yield* git(path, ["update-ref", "-m", "agentlog: a run's commit", "HEAD", sha, head])
    }
    const from = since ?? head
    const files = from === sha ? [] : parseNumstat(yield* git(path, ["diff", "--numstat", "--no-renames", from, sha, "--"]))
    return { sha, changed, files, ...totals(files) }
  })

export interface MergeResult {
  readonly sha: string
  readonly fastForward: boolean
}

/**
 * Brings the session's branch into the base branch: fast-forward when possible, else a merge
 * commit made without touching any working tree (merge-tree), so a conflict is refused with
 * its files and nothing half merged. A base branch checked out somewhere must be clean there.
 */
export const mergeWorkspace = (
  repo: string,
  branch: string,
  baseBranch: string,
  message: string
): Effect.Effect<MergeResult, WorkspaceError> =>
  Effect.gen(function* () {
    const baseSha = yield* commitOf(repo, `refs/heads/${baseBranch}`)
    if (baseSha === undefined) return yield* refused("ref_not_found", `base branch ${baseBranch} does not exist in ${repo}`)
    const branchSha = yield* commitOf(repo, `refs/heads/${branch}`)
    if (branchSha === undefined) return yield* refused("ref_not_found", `branch ${branch} does not exist in ${repo}`)
    const ancestor = yield* gitRaw(repo, ["merge-base", "--is-ancestor", baseSha, branchSha])
    let target = branchSha
    if (ancestor.code !== 0) {
      const merged = yield* gitRaw(repo, ["merge-tree", "--write-tree", "--name-only", "--no-messages", baseSha, branchSha])
      if (merged.code === 1) {
        const [, ...files] = lines(merged.stdout)
        return yield* refused("conflict", `${branch} does not merge cleanly into ${baseBranch}`, files)
      }
      if (merged.code !== 0) {
        return yield* Effect.fail(new GitFailed({ args: ["merge-tree", baseSha, branchSha], code: merged.code, stderr: merged.stderr }))
      }
      const tree = lines(merged.stdout)[0]!
      target = (yield* git(repo, ["commit-tree", tree, "-p", baseSha, "-p", branchSha, "-m", message])).trim()
    }
    const holder = (yield* listWorktrees(repo)).find((w) => w.branch === baseBranch)
    if (holder) {
      if (yield* isDirty(holder.path)) {
        return yield* refused("dirty_base", `${baseBranch} has uncommitted changes in ${holder.path}: commit or stash them first`)
      }
      yield* git(holder.path, ["merge", "--ff-only", "--quiet", target])
    } else {
      yield* git(repo, ["update-ref", `refs/heads/${baseBranch}`, target, baseSha])
    }
    return { sha: target, fastForward: ancestor.code === 0 }
  })

/** Replays the session's commits onto a newer base; a conflict is undone and refused with its files. */
export const rebaseWorkspace = (path: string, onto: string): Effect.Effect<string, WorkspaceError> =>
  Effect.gen(function* () {
    if (yield* isDirty(path)) return yield* refused("dirty_base", `the workspace ${path} has uncommitted changes`)
    const ontoSha = yield* commitOf(path, onto)
    if (ontoSha === undefined) return yield* refused("ref_not_found", `${onto} names no commit`)
    const r = yield* gitRaw(path, ["rebase", "--quiet", ontoSha])
    if (r.code !== 0) {
      const files = lines(yield* git(path, ["diff", "--name-only", "--diff-filter=U"]))
      yield* gitRaw(path, ["rebase", "--abort"])
      return yield* refused("conflict", `the workspace does not rebase cleanly onto ${onto}`, files)
    }
    return (yield* git(path, ["rev-parse", "HEAD"])).trim()
  })

/** Moves the workspace back to an earlier commit of its own branch (what was after it stays in the record). */
export const resetWorkspace = (path: string, sha: string): Effect.Effect<void, WorkspaceError> =>
  Effect.gen(function* () {
    const found = yield* commitOf(path, sha)
    if (found === undefined) return yield* refused("ref_not_found", `${sha} names no commit in the workspace`)
    yield* git(path, ["reset", "--hard", "--quiet", found])
    yield* git(path, ["clean", "-fdq"])
  })

/**
 * Carries out the last recorded reset (WorkspaceReset) in the worktree, if it is not done yet.
 * Safe to repeat after a crash at any step. Before the branch moves, every recorded reset's
 * `keptAs` ref is made if missing (so what each reset left stays reachable, even one whose
 * run never started), a head nobody recorded is kept as `<keptAs>-worktree`, and changes
 * left uncommitted as `<keptAs>-uncommitted`. True when it moved the worktree.
 */
export const applyReset = (path: string, resets: ReadonlyArray<WorkspaceResetState>): Effect.Effect<boolean, WorkspaceError> =>
  Effect.gen(function* () {
    const last = resets.at(-1)
    if (!last) return false
    const head = (yield* git(path, ["rev-parse", "HEAD"])).trim()
    if (head === last.sha) return false
    // "" as the old value: made only where missing, so a ref is never moved once it names something.
    for (const r of resets) yield* gitRaw(path, ["update-ref", r.keptAs, r.previousSha, ""])
    if (head !== last.previousSha) yield* gitRaw(path, ["update-ref", `${last.keptAs}-worktree`, head, ""])
    if (yield* isDirty(path)) {
      yield* git(path, ["add", "--all"])
      const stash = (yield* git(path, ["stash", "create", `uncommitted before ${last.keptAs}`])).trim()
      if (stash) yield* gitRaw(path, ["update-ref", `${last.keptAs}-uncommitted`, stash, ""])
    }
    yield* resetWorkspace(path, last.sha)
    return true
  })
