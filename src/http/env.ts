// What every handler shares: the Hono env (per-request variables) and running an Effect
// from a handler, where a failure becomes a thrown value for the app's error handler.
import { Effect, Result } from "effect"
import type { Principal } from "../principals/roles.ts"

export interface HttpVariables {
  /** Correlates the log line, the problem body and the events a command appends. */
  readonly requestId: string
  /** Who is calling (auth.ts): the name recorded as the actor of what the request appends. */
  readonly principal: Principal
  /** The request carried If-Match (so a revision conflict is a 412, not a 409). */
  readonly ifMatch: boolean
}

export interface HttpEnv {
  Variables: HttpVariables
}

/** Runs an Effect; its typed failure is thrown as is (a tagged error the app maps to a status). */
export const runEffect = async <A, E>(effect: Effect.Effect<A, E>, signal?: AbortSignal): Promise<A> => {
  const r = await Effect.runPromise(Effect.result(effect), signal ? { signal } : undefined)
  if (Result.isFailure(r)) throw r.failure
  return r.success
}
