// What Claude will refuse to do, known before a run is accepted: a launch that Claude would
// end at once with an exit code is better refused with the reason while the caller listens.

/**
 * Why Claude would refuse permissionMode bypassPermissions for runs started by this process
 * with this environment, or undefined when it would not. Claude will not skip permissions
 * as root unless its environment says it is a sandbox (IS_SANDBOX=1, exactly).
 */
export const bypassPermissionsUnavailable = (
  uid: number | undefined,
  claudeEnv: Readonly<Record<string, string | undefined>>
): string | undefined =>
  uid === 0 && claudeEnv.IS_SANDBOX !== "1"
    ? "agentlog runs as root and Claude's environment does not set IS_SANDBOX=1, so Claude refuses to skip permissions " +
      "(run agentlog as another user, or set IS_SANDBOX=1 if this machine is a sandbox)"
    : undefined
