// The events of a session's controls: its permission mode and its model, changed while it
// lives (a run active or not). Kept apart from the catalog's other schemas so that the
// catalog (sessionEvents.ts) only lists them.
import { Schema } from "effect"
import { PermissionMode, SessionOptions } from "./sessionOptions.ts"

const Who = Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(200))

/**
 * The mode the session's runs use from now on (the live run's too). A bypass carries when it
 * ends; when it does, agentlog records another change back to `mode` with `reason: "expired"`.
 */
export const PermissionModeChanged = Schema.Struct({
  mode: PermissionMode,
  /** The mode in force before; absent when the session never named one (Claude's default). */
  previousMode: Schema.optionalKey(PermissionMode),
  /** bypassPermissions only: when agentlog switches it back (ISO 8601). */
  expiresAt: Schema.optionalKey(Schema.String.check(Schema.isMaxLength(40))),
  /** Who asked: a principal's name, or "agentlog" for an expiry. */
  changedBy: Who,
  /** Why the system changed it, when no person did: "expired". */
  reason: Schema.optionalKey(Who)
})

/** The model the session's runs use from now on (the live run's too, where Claude allows). */
export const ModelChanged = Schema.Struct({
  model: SessionOptions.fields.model.schema,
  previousModel: Schema.optionalKey(SessionOptions.fields.model.schema),
  changedBy: Who
})

export const controlEventSchemas = { PermissionModeChanged, ModelChanged } as const

/**
 * What an approval asks of the person: absent for a tool's permission; `question` for
 * Claude's AskUserQuestion (its questions are the input), `plan` for ExitPlanMode (accept or
 * reject the plan).
 */
export const ApprovalKind = Schema.Literals(["question", "plan"])
export type ApprovalKind = typeof ApprovalKind.Type
/** The plan ExitPlanMode presents (from its input, or the tool use Claude streamed). */
export const PlanText = Schema.String.check(Schema.isMaxLength(1_000_000))
/** AskUserQuestion's answers: the question's text to the chosen label(s), as Claude reads them. */
export const Answers = Schema.Record(
  Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(10_000)),
  Schema.String.check(Schema.isMaxLength(10_000))
)
export type Answers = typeof Answers.Type
