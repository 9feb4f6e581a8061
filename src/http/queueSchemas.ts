// The request and answer schemas of issue 12's follow-ups, attempt groups and files
// touched, kept beside (not inside) bodies.ts and responses.ts: the route table imports
// them like theirs, and openapi.ts documents them the same way.
import { Schema } from "effect"
import { SessionOptions } from "../domain/sessionOptions.ts"
import { sessionStatuses } from "../domain/sessionState.ts"
import { BypassExpiresInMs, DateTime, Uuid } from "./bodies.ts"

const Count = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const OptionalText = Schema.NullOr(Schema.String)
const Revision = Count.annotate({ description: "A revision of the session's stream." })

// ---- follow-ups ----

const { title: _title, ...runOverrides } = SessionOptions.fields

export const FollowUpEditBody = Schema.Struct({
  query: Schema.optionalKey(Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(1_000_000)).annotate({ description: "The follow-up's new prompt." })),
  ...runOverrides,
  bypassExpiresInMs: BypassExpiresInMs
}).annotate({
  identifier: "FollowUpEdit",
  description: "Changes a waiting follow-up: the fields given replace its own, the rest stay. MCP secrets must be `${VAR}` references (a follow-up is recorded as it is)."
})

export const FollowUp = Schema.Struct({
  followUpId: Uuid,
  runId: Uuid.annotate({ description: "The run it becomes when it starts." }),
  query: Schema.String,
  overrides: Schema.Record(Schema.String, Schema.Unknown).annotate({ description: "Options for that run (secrets redacted)." }),
  afterRunId: Uuid.annotate({ description: "The run that was active when it was queued." }),
  status: Schema.Literals(["queued", "held", "started", "cancelled"]).annotate({
    description:
      "queued: starts as the next run when the active run completes; held: the run it waited for failed or was interrupted (see reason), so it waits to be sent or cancelled; started: it is run runId; cancelled."
  }),
  reason: OptionalText.annotate({ description: "Why it is held." })
}).annotate({ identifier: "FollowUp", description: "A continue sent while a run was active." })

export const FollowUps = Schema.Struct({ sessionId: Uuid, items: Schema.Array(FollowUp) }).annotate({
  identifier: "FollowUps",
  description: "Every follow-up of the session, oldest first (started and cancelled ones too)."
})

// ---- attempt groups ----

export const AttemptGroup = Schema.Struct({
  groupId: Uuid,
  attempts: Count.annotate({ description: "How many sessions the launch asked for." }),
  query: Schema.String,
  items: Schema.Array(
    Schema.Struct({
      attempt: Count.annotate({ description: "1-based." }),
      sessionId: Uuid,
      status: Schema.Literals(sessionStatuses),
      title: OptionalText,
      runs: Count,
      turns: Count,
      costUsd: Schema.Number,
      inputTokens: Count,
      outputTokens: Count,
      result: OptionalText.annotate({ description: "Claude's last result text." }),
      lastError: OptionalText,
      createdAt: DateTime,
      updatedAt: DateTime
    })
  ).annotate({ description: "The sessions side by side, by attempt. Fewer than attempts while a launch is still being completed (retry it with its Idempotency-Key)." })
}).annotate({ identifier: "AttemptGroup", description: "Sessions launched together by one request with attempts." })

// ---- files touched ----

const action = Schema.Literals(["read", "edit", "write"])

export const FilesTouched = Schema.Struct({
  sessionId: Uuid,
  items: Schema.Array(
    Schema.Struct({
      path: Schema.String.annotate({ description: "As Claude named it (file_path of the tool input)." }),
      reads: Count,
      edits: Count,
      writes: Count,
      lastAction: action,
      lastAt: DateTime,
      lastRevision: Revision
    })
  )
}).annotate({ identifier: "FilesTouched", description: "The files the session read, edited or wrote, by path." })

const DiffLine = Schema.Struct({ kind: Schema.Literals(["context", "add", "del"]), text: Schema.String })
const DiffHunk = Schema.Struct({
  header: Schema.String,
  oldStart: Count,
  oldLines: Count,
  newStart: Count,
  newLines: Count,
  lines: Schema.Array(DiffLine)
})

export const FileHistory = Schema.Struct({
  sessionId: Uuid,
  path: Schema.String,
  items: Schema.Array(
    Schema.Struct({
      revision: Revision.annotate({ description: "The tool call's event (its ClaudeAssistantMessage)." }),
      resultRevision: Schema.NullOr(Revision).annotate({ description: "The tool result's event (null while it has none)." }),
      runId: OptionalText,
      toolUseId: Schema.String,
      toolName: Schema.String,
      action,
      at: DateTime,
      isError: Schema.NullOr(Schema.Boolean),
      content: OptionalText.annotate({ description: "read: the text Claude was given; write: the content written." }),
      diff: Schema.NullOr(Schema.Array(DiffHunk)).annotate({
        description:
          "edit and write: the change as unified-diff hunks (Claude Code's own patch when its result carried one, with file line numbers; else worked out from the tool input, numbered from the snippet)."
      }),
      error: OptionalText.annotate({ description: "What the tool answered when it failed." })
    })
  )
}).annotate({ identifier: "FileHistory", description: "Every read, edit and write of one file by the session, in order." })
