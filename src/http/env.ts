// What every handler shares: the Hono env (per-request variables). Handlers run their
// Effects through the one route adapter (routeKit.ts's router), which maps failures.
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
