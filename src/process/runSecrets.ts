// MCP secrets never reach the store: the HTTP handler that accepts a launch, continue or
// fork leaves the request's unredacted options here, keyed by run id, and the supervisor
// takes them when it starts that run (a follow-up's, its MCP servers, under the run id it
// becomes when it starts). They live in this process's memory only, so a run that outlives
// them (a restart while it was queued) cannot start with them.
import { redacted, type SessionOptions } from "../domain/sessionOptions.ts"

export interface RunSecrets {
  readonly put: (runId: string, options: SessionOptions) => void
  /** The options and forgets them: a run is started once. */
  readonly take: (runId: string) => SessionOptions | undefined
  readonly has: (runId: string) => boolean
  readonly drop: (runId: string) => void
}

export const makeRunSecrets = (): RunSecrets => {
  const held = new Map<string, SessionOptions>()
  return {
    put: (runId, options) => void held.set(runId, options),
    take: (runId) => {
      const o = held.get(runId)
      held.delete(runId)
      return o
    },
    has: (runId) => held.has(runId),
    drop: (runId) => void held.delete(runId)
  }
}

/** "<server>.<key>" for every MCP value that is still a placeholder instead of the secret. */
export const missingSecrets = (options: SessionOptions): ReadonlyArray<string> =>
  Object.entries(options.mcpServers ?? {}).flatMap(([name, s]) =>
    Object.entries(("command" in s ? s.env : s.headers) ?? {})
      .filter(([, v]) => v === redacted)
      .map(([k]) => `${name}.${k}`)
  )
