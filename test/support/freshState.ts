// A session's state folded from its whole stream now (not a cached fold), for tests that
// check what the write side would decide on; a session that does not exist is an error.
import { Effect } from "effect"
import type { SessionCommandsShape } from "../../src/commands/sessionCommands.ts"

export const freshState = async (commands: SessionCommandsShape, sessionId: string) => {
  const s = (await Effect.runPromise(commands.load(sessionId, { fresh: true }))).state
  if (!s) throw new Error(`no session ${sessionId}`)
  return s
}
