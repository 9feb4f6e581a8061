// The workspace routes' query, bodies and answers (src/http/workspaceRoutes.ts), kept
// apart from the route table so that the table and the handlers can both import them.
import { Schema } from "effect"
import { WorkspaceFile } from "../domain/sessionEvents.ts"
import { ContinueBody, Uuid } from "./bodies.ts"
import { CommandAccepted } from "./responses.ts"

const Sha = Schema.String.check(Schema.isPattern(/^[0-9a-f]{7,64}$/u, { expected: "a commit sha (hex)" }))
const BranchName = Schema.String.check(
  Schema.isMinLength(1),
  Schema.isMaxLength(250),
  Schema.isPattern(/^[^\u0000-\u001f\u007f -]/u, { expected: "a branch name" })
)

export const DiffQuery = Schema.Struct({
  run: Schema.optionalKey(Uuid.annotate({ description: "One run's commit: what that run changed." })),
  from: Schema.optionalKey(Sha.annotate({ description: "From this commit (with `to`)." })),
  to: Schema.optionalKey(Sha.annotate({ description: "To this commit (with `from`)." }))
})

export const MergeBody = Schema.Struct({
  into: Schema.optionalKey(BranchName.annotate({ description: "The branch to merge into (default the workspace's base branch)." }))
}).annotate({ identifier: "MergeWorkspace" })

export const RebaseBody = Schema.Struct({
  onto: Schema.optionalKey(BranchName.annotate({ description: "What to rebase onto (default the workspace's base branch as it is now)." }))
}).annotate({ identifier: "RebaseWorkspace" })

export const ResetBody = Schema.Struct({
  run: Uuid.annotate({ description: "The run to go back to: the session goes on from the state after it (its commit, Claude's conversation at its end)." }),
  query: ContinueBody.fields.query
}).annotate({ identifier: "ResetWorkspace" })

const DiffLine = Schema.Struct({ kind: Schema.Literals(["context", "add", "del"]), text: Schema.String })
const DiffHunk = Schema.Struct({
  header: Schema.String,
  oldStart: Schema.Int,
  oldLines: Schema.Int,
  newStart: Schema.Int,
  newLines: Schema.Int,
  lines: Schema.Array(DiffLine)
})
const DiffFile = Schema.Struct({
  oldPath: Schema.NullOr(Schema.String),
  newPath: Schema.NullOr(Schema.String),
  status: Schema.Literals(["added", "deleted", "modified", "renamed"]),
  binary: Schema.Boolean,
  hunks: Schema.Array(DiffHunk)
}).annotate({ identifier: "DiffFile" })

export const WorkspaceDiff = Schema.Struct({
  sessionId: Uuid,
  from: Schema.String.annotate({ description: "The commit the diff starts from." }),
  to: Schema.String.annotate({ description: "The commit it goes to, or `worktree`: the worktree as it is now (a run may be changing it)." }),
  files: Schema.Array(DiffFile)
}).annotate({ identifier: "WorkspaceDiff", description: "What changed, per file, as hunks of lines." })

export const WorkspaceCommits = Schema.Struct({
  sessionId: Uuid,
  workspace: Schema.NullOr(
    Schema.Struct({
      repo: Schema.String,
      baseRef: Schema.String,
      baseSha: Schema.String,
      branch: Schema.String,
      path: Schema.String,
      head: Schema.String,
      status: Schema.Literals(["active", "discarded"])
    })
  ),
  commits: Schema.Array(
    Schema.Struct({
      runId: Uuid,
      sha: Schema.String,
      parentSha: Schema.String,
      changed: Schema.Boolean,
      outcome: Schema.String,
      files: Schema.Array(WorkspaceFile),
      fileCount: Schema.Int,
      insertions: Schema.Int,
      deletions: Schema.Int
    })
  )
}).annotate({ identifier: "WorkspaceCommits", description: "The session's worktree and each run's commit, oldest first." })

export const WorkspaceAccepted = Schema.Struct({
  ...CommandAccepted.fields,
  sha: Schema.String.annotate({ description: "The commit the branch (merge: the target branch) is at now." }),
  fastForward: Schema.optionalKey(Schema.Boolean)
}).annotate({ identifier: "WorkspaceAccepted", description: "Done, and recorded in the session's stream." })

export const WorkspaceResetAccepted = Schema.Struct({
  ...CommandAccepted.fields,
  sha: Schema.String.annotate({ description: "The commit the worktree goes back to (the run's)." }),
  previousSha: Schema.String.annotate({ description: "The head it leaves." }),
  keptAs: Schema.String.annotate({ description: "The ref that keeps previousSha reachable." })
}).annotate({ identifier: "WorkspaceResetAccepted", description: "Recorded (WorkspaceReset, ContinueRequested); runId is the new run." })
