// Creates a workspace in a process of its own (run as another user by worktree.test.ts)
// and prints the outcome as JSON.
import { Effect } from "effect"
import { createWorkspace } from "../../src/workspaces/worktree.ts"

const [repo, path] = process.argv.slice(2)
const exit = await Effect.runPromise(Effect.result(createWorkspace({ cwd: repo!, branch: "agentlog/child", path: path! })))
process.stdout.write(JSON.stringify(exit._tag === "Success" ? { _tag: "Created" } : exit.failure))
