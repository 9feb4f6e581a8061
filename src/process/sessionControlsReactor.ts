// The supervisor's part in a session's controls. A PermissionModeChanged or ModelChanged is
// passed on to the session's live Claude process (the SDK's setPermissionMode / setModel on
// its query), and a bypass's end is kept as a timer on the supervisor's Clock: when it is
// due, ExpireBypass records the switch back. The timer is derived from the events alone: a
// bypass still in force holds the supervisor's checkpoint before its grant, so a restart
// replays the grant and sets the timer again (already due: at once).
import { Effect } from "effect"
import type { CommandContext, CommandOptions, CommandOutcome, CommandError } from "../commands/sessionCommands.ts"
import type { SessionCommand } from "../domain/sessionDecider.ts"
import type { EventOf } from "../domain/sessionEvents.ts"
import type { Position } from "../eventstore/eventStore.ts"
import { errorText, type Logger } from "../log.ts"
import type { RunningClaude } from "./claudeRunner.ts"
import { refusal, type RunPolicy } from "./sandbox.ts"

interface Deps {
  readonly logger: Logger
  readonly now: () => number
  readonly after: (ms: number, effect: Effect.Effect<unknown, unknown>) => () => void
  readonly handle: (command: SessionCommand, ctx: CommandContext, options?: CommandOptions) => Effect.Effect<CommandOutcome, CommandError>
  readonly persistent: (what: string, sessionId: string) => CommandOptions
  /** The session's live Claude process on this instance, if any. */
  readonly liveClaude: (sessionId: string) => RunningClaude | undefined
  readonly policy: RunPolicy | undefined
}

interface BypassTimer {
  readonly expiresAt: string
  /** The last position handled before the grant: the checkpoint stays at or before it. */
  readonly before: Position | "start"
  readonly cancel: () => void
}

export type ControlEvent = EventOf<"PermissionModeChanged"> | EventOf<"ModelChanged">

export const controlEventTypes: ReadonlyArray<string> = ["PermissionModeChanged", "ModelChanged"]

export const makeControlsReactor = (deps: Deps) => {
  const bypasses = new Map<string, BypassTimer>()

  const expire = (sessionId: string, expiresAt: string) =>
    deps
      .handle(
        { kind: "ExpireBypass", sessionId, expiresAt },
        { correlationId: `bypass-expiry-${sessionId}`, source: "supervisor" },
        deps.persistent("recording the end of a bypass", sessionId)
      )
      .pipe(
        Effect.tap(() => Effect.sync(() => deps.logger.log("info", "bypassPermissions expired", { sessionId, expiresAt }))),
        // Refused: the bypass was changed or already ended (another instance, or before a restart).
        Effect.catchTag("InvalidTransition", () => Effect.void)
      )

  const tellLive = (sessionId: string, what: string, call: (c: RunningClaude) => Promise<unknown> | undefined) => {
    const c = deps.liveClaude(sessionId)
    if (c === undefined) return
    const p = call(c)
    p?.then(
      () => deps.logger.log("info", `${what} applied to the live run`, { sessionId }),
      (e: unknown) => deps.logger.log("warn", `${what} could not be applied to the live run; the next run uses it`, { sessionId, error: errorText(e) })
    )
  }

  const react = (sessionId: string, e: ControlEvent, before: Position | "start") => {
    if (e.type === "ModelChanged") {
      const model = e.data.model
      tellLive(sessionId, "a model switch", (c) => c.setModel?.(model))
      return
    }
    const { mode, expiresAt } = e.data
    bypasses.get(sessionId)?.cancel()
    bypasses.delete(sessionId)
    if (mode === "bypassPermissions" && expiresAt !== undefined) {
      const ms = Date.parse(expiresAt) - deps.now()
      bypasses.set(sessionId, { expiresAt, before, cancel: deps.after(Number.isNaN(ms) ? 0 : ms, expire(sessionId, expiresAt)) })
    }
    const refused = deps.policy && refusal(deps.policy, mode)
    if (refused !== undefined) {
      deps.logger.log("warn", "a permission mode change was not applied to the live run", { sessionId, mode, reason: refused })
      return
    }
    tellLive(sessionId, `permission mode ${mode}`, (c) => c.setPermissionMode?.(mode))
  }

  return {
    react,
    /** Positions the checkpoint may not pass: the grants of the bypasses still in force. */
    holds: (): ReadonlyArray<Position | "start"> => [...bypasses.values()].map((b) => b.before),
    pendingExpiries: (): ReadonlyArray<{ readonly sessionId: string; readonly expiresAt: string }> =>
      [...bypasses].map(([sessionId, b]) => ({ sessionId, expiresAt: b.expiresAt })),
    stop: () => {
      for (const b of bypasses.values()) b.cancel()
    }
  }
}
