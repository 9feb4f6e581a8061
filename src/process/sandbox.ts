// Claude runs commands as the service's own user, so without a fence it can read what the
// service can: the token, the event store's files, the service's /proc (its environment).
// Claude Code's own sandbox (bubblewrap + socat on Linux, Seatbelt on macOS) is that fence
// for the commands Claude runs: a fresh /proc in its own pid namespace, and no access to
// the paths listed here. The file tools run inside claude itself, so deny rules keep them
// out of the same paths. Which protection a run had is recorded in its RunStarted.
import { spawnSync } from "node:child_process"

/** Recorded in RunStarted: whether Claude's commands ran sandboxed, and if not, why not. */
export interface RunProtection {
  readonly enabled: boolean
  readonly reason?: string
}

/** Everything a run needs to know about how it is fenced in; the same for every run. */
export interface RunPolicy {
  readonly protection: RunProtection
  /** Paths no command or file tool of Claude's may read or write (the data dir, the token file). */
  readonly privatePaths: ReadonlyArray<string>
  readonly allowUnsandboxedBypass: boolean
  /** The only variables an MCP `${VAR}` may name. */
  readonly mcpEnvAllow: ReadonlyArray<string>
}

/** Tests and embedders that fence nothing: no sandbox, nothing private, no `${VAR}`. */
export const openPolicy: RunPolicy = {
  protection: { enabled: false, reason: "not configured" },
  privatePaths: [],
  allowUnsandboxedBypass: true,
  mcpEnvAllow: []
}

/** "ok", "missing" (not on PATH) or "fails". */
const tryRun = (command: string, args: ReadonlyArray<string>): "ok" | "missing" | "fails" => {
  const r = spawnSync(command, args, { stdio: "ignore", timeout: 10_000 })
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT") return "missing"
  return r.error === undefined && r.status === 0 ? "ok" : "fails"
}

/**
 * Whether Claude Code's sandbox can run here, tried for real: in a container bubblewrap may
 * be installed and still be refused the namespaces it needs.
 */
export const probeSandbox = (): RunProtection => {
  if (process.platform === "darwin") return { enabled: true }
  if (process.platform !== "linux") return { enabled: false, reason: `Claude Code has no sandbox on ${process.platform}` }
  // What Claude Code's sandbox asks of bwrap: a pid namespace with a /proc of its own.
  const bwrap = tryRun("bwrap", ["--ro-bind", "/", "/", "--dev", "/dev", "--unshare-pid", "--proc", "/proc", "--", "/bin/sh", "-c", ":"])
  if (bwrap === "missing") return { enabled: false, reason: "bubblewrap (bwrap) is not installed" }
  if (bwrap === "fails") return { enabled: false, reason: "bubblewrap cannot create a pid namespace with its own /proc here" }
  if (tryRun("socat", ["-V"]) !== "ok") return { enabled: false, reason: "socat is not installed" }
  return { enabled: true }
}

/** The run's protection for a sandbox setting: `on` without a working sandbox is an error. */
export const protectionFor = (mode: "auto" | "on" | "off", probe: () => RunProtection = probeSandbox): RunProtection => {
  if (mode === "off") return { enabled: false, reason: "AGENTLOG_SANDBOX=off" }
  const found = probe()
  if (mode === "on" && !found.enabled) throw new Error(`AGENTLOG_SANDBOX=on, but the sandbox cannot run: ${found.reason}`)
  return found
}

/** Paths as Claude Code's permission rules spell an absolute path ("//abs/path"). */
const rulePath = (p: string) => `/${p}`

/** What the SDK is given for a policy: the sandbox settings and the deny rules for the file tools. */
export const sandboxOptions = (policy: RunPolicy) => {
  const paths = [...policy.privatePaths]
  const denyRules = [
    ...paths.flatMap((p) => [`Read(${rulePath(p)}/**)`, `Read(${rulePath(p)})`, `Edit(${rulePath(p)}/**)`, `Edit(${rulePath(p)})`]),
    // The service's (and every other process's) environment and memory.
    "Read(//proc/**)"
  ]
  return {
    sandbox: policy.protection.enabled
      ? {
          enabled: true,
          // Refuse to run rather than fall back to running commands unfenced.
          failIfUnavailable: true,
          allowUnsandboxedCommands: false,
          filesystem: { denyRead: paths, denyWrite: paths }
        }
      : undefined,
    denyRules
  }
}

/** Why a run is refused under a policy, or undefined when it may start. */
export const refusal = (policy: RunPolicy, permissionMode: string | undefined): string | undefined =>
  permissionMode === "bypassPermissions" && !policy.protection.enabled && !policy.allowUnsandboxedBypass
    ? `bypassPermissions needs Claude Code's sandbox, which this run does not have (${policy.protection.reason ?? "unknown"}); set AGENTLOG_ALLOW_UNSANDBOXED_BYPASS=1 to allow it anyway`
    : undefined
