// A session's controls, decided and folded: its permission mode (a bypass always with an
// end, and switched back when it ends) and its model. The decider and evolve delegate the
// commands and events of this file here.
import { Result, type Schema } from "effect"
import type { Answers } from "./sessionControlEvents.ts"
import { InvalidAnswer, InvalidTransition, type DomainError } from "./sessionErrors.ts"
import { event, type EventOf, type SessionEvent } from "./sessionEvents.ts"
import type { SessionOptions } from "./sessionOptions.ts"
import type { PendingApproval, Session } from "./sessionState.ts"

export type PermissionMode = NonNullable<SessionOptions["permissionMode"]>

export type ControlCommand = { readonly sessionId: string } & (
  | {
      readonly kind: "ChangePermissionMode"
      readonly mode: PermissionMode
      /** Required for bypassPermissions, refused for any other mode (ISO 8601). */
      readonly expiresAt?: string
      readonly changedBy: string
    }
  /** The bypass that ends at `expiresAt` is over: switch back, unless it already was. */
  | { readonly kind: "ExpireBypass"; readonly expiresAt: string }
  | { readonly kind: "ChangeModel"; readonly model: string; readonly changedBy: string }
)

type Decision = Result.Result<ReadonlyArray<SessionEvent>, DomainError>

const refuse = (s: Session, command: ControlCommand, reason: string): Decision =>
  Result.fail(new InvalidTransition({ sessionId: s.sessionId, command: command.kind, status: s.status, reason }))

/** The mode the session's next run (and the live one) uses; undefined: Claude's default. */
export const currentMode = (s: Session): PermissionMode | undefined => s.options.permissionMode

export const decideControl = (command: ControlCommand, s: Session): Decision => {
  switch (command.kind) {
    case "ChangePermissionMode": {
      const { mode, expiresAt, changedBy } = command
      const before = currentMode(s)
      if (mode === "bypassPermissions" && expiresAt === undefined)
        return refuse(s, command, "bypassPermissions needs an expiry")
      if (mode !== "bypassPermissions" && expiresAt !== undefined)
        return refuse(s, command, "only bypassPermissions has an expiry")
      // A bypass may be extended (a new expiry); any other mode asked again changes nothing.
      if (mode === before && mode !== "bypassPermissions") return refuse(s, command, `the session is already in ${mode}`)
      return Result.succeed([
        event("PermissionModeChanged", {
          mode,
          ...(before !== undefined ? { previousMode: before } : {}),
          ...(expiresAt !== undefined ? { expiresAt } : {}),
          changedBy
        })
      ])
    }
    case "ExpireBypass": {
      if (currentMode(s) !== "bypassPermissions" || s.bypassExpiresAt !== command.expiresAt)
        return refuse(s, command, "that bypass is no longer in force")
      return Result.succeed([
        event("PermissionModeChanged", {
          mode: s.modeBeforeBypass ?? "default",
          previousMode: "bypassPermissions",
          changedBy: "agentlog",
          reason: "expired"
        })
      ])
    }
    case "ChangeModel": {
      const before = s.options.model
      if (command.model === before) return refuse(s, command, `the session already uses ${command.model}`)
      return Result.succeed([
        event("ModelChanged", { model: command.model, ...(before !== undefined ? { previousModel: before } : {}), changedBy: command.changedBy })
      ])
    }
  }
}

/** A bypass asked for with a run (launch, fork, draft launch, continue, follow-up): its end, worked out at the edge, and who asked. */
export interface BypassGrant {
  readonly expiresAt: string
  readonly grantedBy: string
}

/**
 * A run opened in bypassPermissions records the grant after its opening event, in the same
 * append: the same PermissionModeChanged with its end that the permission-mode route records,
 * so one timer (the supervisor's, from that event) expires every bypass and a restart times it
 * again. `before` is the session's mode before the run (undefined for a new session).
 */
export const grantWithRun = (
  mode: PermissionMode | undefined,
  before: PermissionMode | undefined,
  grant: BypassGrant | undefined
): Result.Result<ReadonlyArray<SessionEvent>, string> => {
  if (mode !== "bypassPermissions") return grant === undefined ? Result.succeed([]) : Result.fail("only bypassPermissions has an expiry")
  if (grant === undefined) return Result.fail("bypassPermissions needs an expiry")
  return Result.succeed([
    event("PermissionModeChanged", {
      mode,
      ...(before !== undefined ? { previousMode: before } : {}),
      expiresAt: grant.expiresAt,
      changedBy: grant.grantedBy
    })
  ])
}

/** The session's options and the current run's both take the change: the live run is told too. */
const withOption = (s: Session, o: SessionOptions): Session => ({ ...s, options: { ...s.options, ...o }, runOptions: { ...s.runOptions, ...o } })

export const evolveControl = (s: Session, e: EventOf<"PermissionModeChanged"> | EventOf<"ModelChanged">): Session => {
  if (e.type === "ModelChanged") return withOption(s, { model: e.data.model })
  const d = e.data
  const bypass = d.mode === "bypassPermissions"
  return {
    ...withOption(s, { permissionMode: d.mode }),
    bypassExpiresAt: bypass ? d.expiresAt : undefined,
    // An extended bypass still returns to the mode from before the first one.
    modeBeforeBypass: bypass ? (d.previousMode === "bypassPermissions" ? s.modeBeforeBypass : d.previousMode) : undefined
  }
}

// ---- questions and plans (AskUserQuestion, ExitPlanMode) ----

type Json = Schema.Json

/** The texts of AskUserQuestion's questions, as its input names them. */
export const questionTexts = (input: Json): ReadonlyArray<string> => {
  const qs = typeof input === "object" && input !== null && !Array.isArray(input) ? (input as { readonly [k: string]: Json }).questions : undefined
  if (!Array.isArray(qs)) return []
  return qs.flatMap((q) =>
    typeof q === "object" && q !== null && !Array.isArray(q) && typeof q.question === "string" ? [q.question] : []
  )
}

/**
 * A question is answered by allowing it with an answer to each of its questions (Claude reads
 * them as the tool's `answers`); answers go to questions only. Denying a question (or a plan)
 * with a message is always possible: Claude reads the message.
 */
export const checkAnswers = (
  p: PendingApproval,
  decision: "allow" | "deny",
  answers: Answers | undefined
): Result.Result<void, InvalidAnswer> => {
  const fail = (reason: string) => Result.fail(new InvalidAnswer({ approvalId: p.approvalId, reason }))
  if (p.kind !== "question") return answers === undefined ? Result.void : fail("only a question (AskUserQuestion) takes answers")
  if (decision === "deny") return answers === undefined ? Result.void : fail("a denied question takes no answers")
  if (answers === undefined) return fail("a question is allowed with its answers")
  const asked = p.questions ?? []
  const unknown = Object.keys(answers).filter((q) => !asked.includes(q))
  if (unknown.length > 0) return fail(`no such question: ${unknown.map((q) => JSON.stringify(q)).join(", ")}`)
  const missing = asked.filter((q) => !Object.hasOwn(answers, q))
  if (missing.length > 0) return fail(`unanswered: ${missing.map((q) => JSON.stringify(q)).join(", ")}`)
  return Result.void
}
