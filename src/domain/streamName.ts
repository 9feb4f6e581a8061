// One stream per session: `session-<uuid>`. Anything else is refused before it reaches the store.
import { Result } from "effect"
import { InvalidStreamName } from "./sessionErrors.ts"

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

export const streamPrefix = "session-"

export const isSessionId = (s: string): boolean => uuid.test(s)

export const streamOf = (sessionId: string): Result.Result<string, InvalidStreamName> =>
  isSessionId(sessionId)
    ? Result.succeed(`${streamPrefix}${sessionId}`)
    : Result.fail(new InvalidStreamName({ stream: `${streamPrefix}${sessionId}` }))

/** The session id a stream belongs to, or null when the stream is not a session stream. */
export const sessionIdOf = (stream: string): string | null => {
  if (!stream.startsWith(streamPrefix)) return null
  const id = stream.slice(streamPrefix.length)
  return isSessionId(id) ? id : null
}
