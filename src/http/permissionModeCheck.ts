// Launch, continue and fork refuse a permission mode that Claude would refuse on this
// machine (bypassPermissions as root outside a sandbox), instead of accepting a run that
// can only fail.
import type { SessionOptions } from "../domain/sessionOptions.ts"
import type { HttpDeps } from "./deps.ts"
import { runEffect } from "./env.ts"
import { validationFailed } from "./problem.ts"

export const checkPermissionMode = (deps: HttpDeps, mode: SessionOptions["permissionMode"]): void => {
  const why = deps.config.bypassPermissionsUnavailable
  if (mode === "bypassPermissions" && why !== undefined)
    throw validationFailed(`/permissionMode: bypassPermissions cannot be used here: ${why}`, [
      { path: "/permissionMode", message: "bypassPermissions is not available on this machine" }
    ])
}

/** A continue runs with the session's permission mode unless it overrides it. */
export const checkContinuedPermissionMode = async (
  deps: HttpDeps,
  sessionId: string,
  override: SessionOptions["permissionMode"]
): Promise<void> => {
  if (deps.config.bypassPermissionsUnavailable === undefined) return
  const mode = override ?? (await runEffect(deps.commands.load(sessionId))).state?.options.permissionMode
  checkPermissionMode(deps, mode)
}
