// Launch, continue and fork refuse a permission mode that Claude would refuse on this
// machine (bypassPermissions as root outside a sandbox), instead of accepting a run that
// can only fail.
import { Effect } from "effect"
import type { SessionOptions } from "../domain/sessionOptions.ts"
import type { HttpDeps } from "./deps.ts"
import { type HttpProblem, validationFailed } from "./problem.ts"

type Mode = SessionOptions["permissionMode"]

export const checkPermissionMode = (deps: HttpDeps, mode: Mode): Effect.Effect<void, HttpProblem> => {
  const why = deps.config.bypassPermissionsUnavailable
  return mode === "bypassPermissions" && why !== undefined
    ? Effect.fail(
        validationFailed(`/permissionMode: bypassPermissions cannot be used here: ${why}`, [
          { path: "/permissionMode", message: "bypassPermissions is not available on this machine" }
        ])
      )
    : Effect.void
}

/** A continue runs with the session's permission mode unless it overrides it. */
export const checkContinuedPermissionMode = (deps: HttpDeps, sessionId: string, override: Mode) =>
  deps.config.bypassPermissionsUnavailable === undefined
    ? Effect.void
    : (override !== undefined
        ? Effect.succeed<Mode>(override)
        : deps.commands.load(sessionId).pipe(Effect.map((l): Mode => l.state?.options.permissionMode))
      ).pipe(Effect.flatMap((mode) => checkPermissionMode(deps, mode)))
