// What every handler shares: the Hono env (per-request variables). Handlers run their
// Effects through the one route adapter (routeKit.ts's router), which maps failures.

export interface HttpVariables {
  /** Correlates the log line, the problem body and the events a command appends. */
  readonly requestId: string
  /** Who is calling: the bearer token's subject, or "api". */
  readonly subject: string
  /** The request carried If-Match (so a revision conflict is a 412, not a 409). */
  readonly ifMatch: boolean
}

export interface HttpEnv {
  Variables: HttpVariables
}
