// What the domain refuses, as values. The HTTP edge maps each tag to a status once.
import { Data } from "effect"

export class SessionNotFound extends Data.TaggedError("SessionNotFound")<{ readonly sessionId: string }> {
  override get message() {
    return `session ${this.sessionId} does not exist`
  }
}

export class SessionAlreadyExists extends Data.TaggedError("SessionAlreadyExists")<{ readonly sessionId: string }> {
  override get message() {
    return `session ${this.sessionId} already exists`
  }
}

/** The command is not allowed in the session's current status. */
export class InvalidTransition extends Data.TaggedError("InvalidTransition")<{
  readonly sessionId: string
  readonly command: string
  readonly status: string
  readonly reason: string
}> {
  override get message() {
    return `${this.command} refused: ${this.reason} (session ${this.sessionId} is ${this.status})`
  }
}

export class ApprovalNotFound extends Data.TaggedError("ApprovalNotFound")<{ readonly approvalId: string }> {
  override get message() {
    return `approval ${this.approvalId} does not exist`
  }
}

export class ApprovalAlreadyDecided extends Data.TaggedError("ApprovalAlreadyDecided")<{
  readonly approvalId: string
  readonly decision: string
}> {
  override get message() {
    return `approval ${this.approvalId} was already decided (${this.decision})`
  }
}

export class InvalidStreamName extends Data.TaggedError("InvalidStreamName")<{ readonly stream: string }> {
  override get message() {
    return `stream name ${JSON.stringify(this.stream)} is not session-<lowercase uuid>`
  }
}

/** An event whose data does not match its schema; never appended. */
export class InvalidEvent extends Data.TaggedError("InvalidEvent")<{ readonly type: string; readonly issue: string }> {
  override get message() {
    return `invalid ${this.type} event: ${this.issue}`
  }
}

/** An answer that does not fit the approval (answers to something that is not a question, a question left unanswered). */
export class InvalidAnswer extends Data.TaggedError("InvalidAnswer")<{ readonly approvalId: string; readonly reason: string }> {
  override get message() {
    return `approval ${this.approvalId}: ${this.reason}`
  }
}

/** A follow-up id the session never queued. */
export class FollowUpNotFound extends Data.TaggedError("FollowUpNotFound")<{ readonly sessionId: string; readonly followUpId: string }> {
  override get message() {
    return `session ${this.sessionId} has no follow-up ${this.followUpId}`
  }
}

/** A reset to a run that left no commit in the session's workspace (it failed before the worktree was made). */
export class RunWithoutCommit extends Data.TaggedError("RunWithoutCommit")<{ readonly sessionId: string; readonly runId: string }> {
  override get message() {
    return `run ${this.runId} of session ${this.sessionId} has no commit in its workspace to reset to`
  }
}

export type DomainError =
  | SessionNotFound
  | SessionAlreadyExists
  | InvalidTransition
  | ApprovalNotFound
  | ApprovalAlreadyDecided
  | InvalidEvent
  | InvalidStreamName
  | InvalidAnswer
  | FollowUpNotFound
  | RunWithoutCommit
