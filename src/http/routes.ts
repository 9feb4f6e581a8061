// The route table: every route's method, path and schemas, declared once. The route
// modules register their handlers against these entries, openapi.ts documents them, and
// the app answers 405 (with Allow) for a known path with another method.
import type { Schema } from "effect"
import * as B from "./bodies.ts"
import type { RequestHeaderName } from "./bodies.ts"
import type { RouteRole } from "./auth.ts"
import * as R from "./responses.ts"
import * as Q from "./queueSchemas.ts"
import { WebLoginBody, WebSessionState } from "./webCookie.ts"
import * as W from "./webhookSchemas.ts"
import * as WS from "./workspaceSchemas.ts"

export type Method = "GET" | "POST" | "PATCH" | "DELETE"

export type ResponseHeader = "ETag" | "Retry-After" | "Allow" | "Idempotent-Replayed" | "WWW-Authenticate"

export interface ResponseSpec {
  readonly description: string
  readonly schema?: Schema.Top
  /** Defaults to application/json (application/problem+json for 4xx/5xx). */
  readonly contentType?: string
  readonly headers?: ReadonlyArray<ResponseHeader>
  /**
   * Other representations of the same response, by media type (content negotiation with
   * Accept), as a description of their body: they are not JSON documents, so they carry no
   * schema that would make the JSON answer's type a union in a generated client.
   */
  readonly alternatives?: Readonly<Record<string, string>>
}

export interface RouteSpec {
  readonly operationId: string
  readonly method: Method
  /** Hono syntax: `/v1/sessions/:id`. The `:id` is a UUID (anything else names nothing: 404). */
  readonly path: string
  readonly summary: string
  /** The rules a client must know beyond the schemas. */
  readonly description?: string
  readonly tag: "sessions" | "events" | "audit" | "approvals" | "service" | "webhooks"
  readonly body?: Schema.Top
  /** Every route refuses query parameters it does not declare (400). */
  readonly query: Schema.Top
  readonly requestHeaders?: ReadonlyArray<RequestHeaderName>
  readonly responses: Readonly<Record<number, ResponseSpec>>
  /**
   * The least role a caller needs (src/principals/roles.ts); "anyone": no credentials at all
   * (liveness and the page's login). A caller below it gets 403 and nothing is appended.
   */
  readonly role: RouteRole
}

const accepted = (replay = false) =>
  ({
    description: "Accepted: the command's events were appended.",
    schema: R.CommandAccepted,
    headers: replay ? ["ETag", "Idempotent-Replayed"] : ["ETag"]
  }) as const satisfies ResponseSpec
const problems = (...statuses: ReadonlyArray<number>): Record<number, ResponseSpec> =>
  Object.fromEntries(
    statuses.map((s) => [
      s,
      {
        description: problemText[s] ?? "Problem",
        schema: R.Problem,
        ...(s === 503 ? { headers: ["Retry-After"] } : s === 401 ? { headers: ["WWW-Authenticate"] } : {})
      }
    ])
  )
const problemText: Record<number, string> = {
  400: "The request is not valid: body, query parameters (unknown ones included), headers, a cursor or position this API did not issue, or a cwd that is not an absolute path to an existing directory.",
  401: "Missing or wrong bearer token.",
  403: "The caller's role is below the one the operation needs (forbidden), or a Host this service does not answer to (DNS rebinding), or a command or live stream from another site's Origin (see AGENTLOG_ALLOWED_HOSTS, AGENTLOG_CORS_ORIGINS).",
  404: "No such session or approval (an id that is not a UUID names nothing).",
  409: "Not allowed in the session's current status, or changed concurrently (retry).",
  412: "If-Match names a revision the session has moved past (see currentRevision).",
  413: "The body is larger than the service's limit.",
  415: "The body is not JSON.",
  422: "The Idempotency-Key was used with a different request.",
  500: "An unexpected error; the service log has it under the request id.",
  503: "The store is unavailable, or the read models did not reach minPosition in time: retry after Retry-After seconds."
}
const commandProblems = problems(400, 401, 403, 404, 409, 412, 413, 415, 500, 503)
const readProblems = problems(400, 401, 403, 404, 500, 503)
const listProblems = problems(400, 401, 403, 500, 503)

export const routes = {
  launchSession: {
    operationId: "launchSession",
    method: "POST",
    path: "/v1/sessions",
    summary: "Launch a session",
    description:
      "Appends SessionLaunched; the run starts when a slot is free (queuePosition says where it waits). cwd must be an absolute path to an existing directory. If-Match is refused (400): there is no session yet.",
    tag: "sessions",
    body: B.LaunchBody,
    query: B.NoQuery,
    requestHeaders: ["Idempotency-Key"],
    responses: { 202: accepted(true), ...problems(400, 401, 403, 409, 413, 415, 422, 500, 503) },
    role: "operator"
  },
  listSessions: {
    operationId: "listSessions",
    method: "GET",
    path: "/v1/sessions",
    summary: "List sessions, most recently active first",
    description: "Keyset pages: follow nextCursor until it is null; every session appears once even while others change.",
    tag: "sessions",
    query: B.ListSessionsQuery,
    responses: { 200: { description: "A page of sessions.", schema: R.SessionsPage }, ...listProblems },
    role: "viewer"
  },
  getSession: {
    operationId: "getSession",
    method: "GET",
    path: "/v1/sessions/:id",
    summary: "One session with its totals",
    tag: "sessions",
    query: B.ReadQuery,
    responses: { 200: { description: "The session; ETag is its revision.", schema: R.Session, headers: ["ETag"] }, ...readProblems },
    role: "viewer"
  },
  renameSession: {
    operationId: "renameSession",
    method: "PATCH",
    path: "/v1/sessions/:id",
    summary: "Rename a session",
    tag: "sessions",
    body: B.RenameBody,
    query: B.NoQuery,
    requestHeaders: ["If-Match"],
    responses: { 202: accepted(), ...commandProblems },
    role: "operator"
  },
  continueSession: {
    operationId: "continueSession",
    method: "POST",
    path: "/v1/sessions/:id/continue",
    summary: "Continue a session with a new query",
    description: "Only once the session's run has ended (409 otherwise). Options given override the session's for this run; cwd must be an absolute path to an existing directory.",
    tag: "sessions",
    body: B.ContinueBody,
    query: B.NoQuery,
    requestHeaders: ["If-Match", "Idempotency-Key"],
    responses: { 202: accepted(true), ...commandProblems, ...problems(422) },
    role: "operator"
  },
  forkSession: {
    operationId: "forkSession",
    method: "POST",
    path: "/v1/sessions/:id/fork",
    summary: "Fork a session into a new one",
    description: "The new session continues the parent's Claude conversation; options given override the parent's. cwd must be an absolute path to an existing directory.",
    tag: "sessions",
    body: B.ForkBody,
    query: B.NoQuery,
    requestHeaders: ["If-Match", "Idempotency-Key"],
    responses: { 202: accepted(true), ...commandProblems, ...problems(422) },
    role: "operator"
  },
  interruptSession: {
    operationId: "interruptSession",
    method: "POST",
    path: "/v1/sessions/:id/interrupt",
    summary: "Interrupt the session's active run",
    tag: "sessions",
    body: B.EmptyBody,
    query: B.NoQuery,
    requestHeaders: ["If-Match"],
    responses: { 202: accepted(), ...commandProblems },
    role: "operator"
  },
  archiveSession: {
    operationId: "archiveSession",
    method: "POST",
    path: "/v1/sessions/:id/archive",
    summary: "Archive a session",
    tag: "sessions",
    body: B.EmptyBody,
    query: B.NoQuery,
    requestHeaders: ["If-Match"],
    responses: { 202: accepted(), ...commandProblems },
    role: "operator"
  },
  unarchiveSession: {
    operationId: "unarchiveSession",
    method: "POST",
    path: "/v1/sessions/:id/unarchive",
    summary: "Unarchive a session",
    tag: "sessions",
    body: B.EmptyBody,
    query: B.NoQuery,
    requestHeaders: ["If-Match"],
    responses: { 202: accepted(), ...commandProblems },
    role: "operator"
  },
  // ---- session controls (sessionControlRoutes.ts) ----
  changePermissionMode: {
    operationId: "changePermissionMode",
    method: "POST",
    path: "/v1/sessions/:id/permission-mode",
    summary: "Switch the session's permission mode, while a run is active too",
    description:
      "Records PermissionModeChanged; the live run (if any) is switched through the SDK's setPermissionMode, and the next runs use the mode. bypassPermissions always ends: after expiresInMs (default 15 minutes, at most AGENTLOG_BYPASS_MAX_MS) agentlog switches the session back to the mode before it and records why (reason expired). A mode the session is already in is 409 (a bypass may be extended). A draft's mode is edited with its options.",
    tag: "sessions",
    body: B.PermissionModeBody,
    query: B.NoQuery,
    requestHeaders: ["If-Match"],
    responses: { 202: accepted(), ...commandProblems },
    role: "approver"
  },
  changeModel: {
    operationId: "changeModel",
    method: "POST",
    path: "/v1/sessions/:id/model",
    summary: "Switch the session's model, while a run is active too",
    description: "Records ModelChanged; the live run (if any) uses it for its next requests (the SDK's setModel), and the next runs use it.",
    tag: "sessions",
    body: B.ModelBody,
    query: B.NoQuery,
    requestHeaders: ["If-Match"],
    responses: { 202: accepted(), ...commandProblems },
    role: "operator"
  },
  createDraft: {
    operationId: "createDraft",
    method: "POST",
    path: "/v1/drafts",
    summary: "Write a session down as a draft",
    description:
      "Appends DraftCreated: a session with status draft that starts no process and counts in no run totals. Listed by GET /v1/sessions?status=draft. cwd and additionalDirectories must be absolute paths to existing directories.",
    tag: "sessions",
    body: B.DraftBody,
    query: B.NoQuery,
    requestHeaders: ["Idempotency-Key"],
    responses: { 202: accepted(true), ...problems(400, 401, 403, 409, 413, 415, 422, 500, 503) },
    role: "operator"
  },
  editDraft: {
    operationId: "editDraft",
    method: "PATCH",
    path: "/v1/drafts/:id",
    summary: "Edit a draft",
    description: "Appends DraftEdited: the fields given replace the draft's, the rest stay. Only a draft (409 once launched or discarded).",
    tag: "sessions",
    body: B.DraftBody,
    query: B.NoQuery,
    requestHeaders: ["If-Match"],
    responses: { 202: accepted(), ...commandProblems },
    role: "operator"
  },
  launchDraft: {
    operationId: "launchDraft",
    method: "POST",
    path: "/v1/drafts/:id/launch",
    summary: "Launch a draft",
    description:
      "Appends SessionLaunched with the draft's query and options, as recorded: the session is queued like any launch. 409 when the draft has no query yet, or is not a draft.",
    tag: "sessions",
    body: B.EmptyBody,
    query: B.NoQuery,
    requestHeaders: ["If-Match", "Idempotency-Key"],
    responses: { 202: accepted(true), ...commandProblems, ...problems(422) },
    role: "operator"
  },
  discardDraft: {
    operationId: "discardDraft",
    method: "POST",
    path: "/v1/drafts/:id/discard",
    summary: "Discard a draft",
    description: "Appends DraftDiscarded: status discarded. It can be restored.",
    tag: "sessions",
    body: B.EmptyBody,
    query: B.NoQuery,
    requestHeaders: ["If-Match"],
    responses: { 202: accepted(), ...commandProblems },
    role: "operator"
  },
  restoreDraft: {
    operationId: "restoreDraft",
    method: "POST",
    path: "/v1/drafts/:id/restore",
    summary: "Restore a discarded draft",
    tag: "sessions",
    body: B.EmptyBody,
    query: B.NoQuery,
    requestHeaders: ["If-Match"],
    responses: { 202: accepted(), ...commandProblems },
    role: "operator"
  },
  archiveSessions: {
    operationId: "archiveSessions",
    method: "POST",
    path: "/v1/bulk/archive",
    summary: "Archive many sessions",
    description: "Each session gets its own SessionArchived. The answer lists which succeeded and which failed, with the problem each failure would have had alone.",
    tag: "sessions",
    body: B.BulkArchiveBody,
    query: B.NoQuery,
    responses: { 200: { description: "Each session's outcome.", schema: R.BulkResult }, ...problems(400, 401, 403, 413, 415, 500, 503) },
    role: "operator"
  },
  unarchiveSessions: {
    operationId: "unarchiveSessions",
    method: "POST",
    path: "/v1/bulk/unarchive",
    summary: "Unarchive many sessions",
    description: "Each session gets its own SessionUnarchived; the answer lists which succeeded and which failed.",
    tag: "sessions",
    body: B.BulkArchiveBody,
    query: B.NoQuery,
    responses: { 200: { description: "Each session's outcome.", schema: R.BulkResult }, ...problems(400, 401, 403, 413, 415, 500, 503) },
    role: "operator"
  },
  search: {
    operationId: "search",
    method: "GET",
    path: "/v1/search",
    summary: "Full-text search over every transcript",
    description:
      "Ranked hits (best first) over what was said and done in every session, or in one (`session`): entry text, tool names, tool inputs and results. Each hit names the session, the transcript entry and the stream revision it came from. Hits are ranked among the newest 200 entries that match (in the session, with `session`), so a word as common as \"the\" is answered as fast as a rare one. Page with offset.",
    tag: "sessions",
    query: B.SearchQuery,
    responses: { 200: { description: "The hits.", schema: R.SearchHits }, ...listProblems },
    role: "viewer"
  },
  recentDirectories: {
    operationId: "recentDirectories",
    method: "GET",
    path: "/v1/directories/recent",
    summary: "Working directories of sessions, most recently used first",
    tag: "sessions",
    query: B.RecentDirectoriesQuery,
    responses: { 200: { description: "The directories.", schema: R.RecentDirectories }, ...listProblems },
    role: "viewer"
  },
  getTranscript: {
    operationId: "getTranscript",
    method: "GET",
    path: "/v1/sessions/:id/transcript",
    summary: "The session's conversation as ordered entries",
    description: "Without limit: every entry. With limit: a page; pass nextAfterSeq as afterSeq for the next one until it is null.",
    tag: "sessions",
    query: B.TranscriptQuery,
    responses: { 200: { description: "The transcript.", schema: R.Transcript }, ...readProblems },
    role: "viewer"
  },
  getSessionEvents: {
    operationId: "getSessionEvents",
    method: "GET",
    path: "/v1/sessions/:id/events",
    summary: "The session stream's events in order (JSON pages, or NDJSON with Accept: application/x-ndjson)",
    tag: "events",
    query: B.StreamEventsQuery,
    responses: {
      200: {
        description: "A page of events (follow nextRevision); with Accept: application/x-ndjson, every event from fromRevision instead.",
        schema: R.StreamEventsPage,
        alternatives: {
          "application/x-ndjson": "One Event (the schema Event) per line, as JSON, from fromRevision to the end (or limit events); no paging."
        }
      },
      ...readProblems
    },
    role: "viewer"
  },
  followSessionEvents: {
    operationId: "followSessionEvents",
    method: "GET",
    path: "/v1/sessions/:id/events/live",
    summary: "The session's events as Server-Sent Events: replay after Last-Event-ID, then live",
    tag: "events",
    query: B.LiveEventsQuery,
    requestHeaders: ["Last-Event-ID"],
    responses: {
      200: {
        description:
          "text/event-stream: `id:` is the event's revision, `event:` its type, `data:` the Event (schema Event) as JSON; comments are heartbeats. While a run works in the session's worktree, `event: workspace-changed` (no `id:`, `data: {\"sessionId\": …}`) says the worktree changed, at most once a second: a live notice to fetch the diff again, never a stored event.",
        contentType: "text/event-stream"
      },
      ...readProblems,
      ...problems(409)
    },
    role: "viewer"
  },
  followAllEvents: {
    operationId: "followAllEvents",
    method: "GET",
    path: "/v1/events/live",
    summary: "Every session's events as Server-Sent Events, from now on (a change feed for lists)",
    description:
      "No replay: the first frame is `event: ready` with `data: {\"position\": …}`, the store's position when the feed started; every event after it follows. A client that read a list with minPosition at that position, then applies the feed, misses nothing. After a drop, reconnect and read the list again (frames carry no `id:`, so there is no Last-Event-ID to resume from).",
    tag: "events",
    query: B.AllLiveEventsQuery,
    responses: {
      200: {
        description: "text/event-stream: `event: ready` first, then each event with `event:` its type and `data:` the Event (schema Event) as JSON; comments are heartbeats.",
        contentType: "text/event-stream"
      },
      ...listProblems
    },
    role: "viewer"
  },
  listEvents: {
    operationId: "listEvents",
    method: "GET",
    path: "/v1/events",
    summary: "Audit: events of every session, in global order",
    tag: "audit",
    query: B.AuditEventsQuery,
    responses: { 200: { description: "A page of events.", schema: R.EventsPage }, ...listProblems },
    role: "viewer"
  },
  listToolCalls: {
    operationId: "listToolCalls",
    method: "GET",
    path: "/v1/tool-calls",
    summary: "Audit: every tool call with its input, approval, result and timing",
    tag: "audit",
    query: B.ToolCallsQuery,
    responses: { 200: { description: "A page of tool calls, newest first.", schema: R.ToolCallsPage }, ...listProblems },
    role: "viewer"
  },
  auditApprovals: {
    operationId: "auditApprovals",
    method: "GET",
    path: "/v1/audit/approvals",
    summary: "Audit report: every approval requested in a time range, who decided what and after how long",
    description:
      "Oldest first, streamed as it is read (any range, no paging). JSON by default; text/csv or application/x-ndjson by Accept or ?format=. Each row cites the stream and revisions it comes from.",
    tag: "audit",
    query: B.AuditApprovalsQuery,
    responses: {
      200: {
        description: "The report.",
        schema: R.AuditApprovalsReport,
        alternatives: {
          "text/csv": "A header line, then one AuditApproval per line (input as JSON text; cells that a spreadsheet would run as a formula start with ').",
          "application/x-ndjson": "One AuditApproval per line, as JSON."
        }
      },
      ...listProblems
    },
    role: "viewer"
  },
  listApprovals: {
    operationId: "listApprovals",
    method: "GET",
    path: "/v1/approvals",
    summary: "Approvals, newest first",
    tag: "approvals",
    query: B.ApprovalsQuery,
    responses: { 200: { description: "A page of approvals.", schema: R.ApprovalsPage }, ...listProblems },
    role: "viewer"
  },
  getApproval: {
    operationId: "getApproval",
    method: "GET",
    path: "/v1/approvals/:id",
    summary: "One approval",
    tag: "approvals",
    query: B.ReadQuery,
    responses: { 200: { description: "The approval.", schema: R.Approval }, ...readProblems },
    role: "viewer"
  },
  decideApproval: {
    operationId: "decideApproval",
    method: "POST",
    path: "/v1/approvals/:id/decision",
    summary: "Allow or deny a pending approval",
    description:
      "An approval is decided once: a second decision is 409 (approval-already-decided), which is the guard against concurrent deciders. If-Match is refused (400): the session's revision moves with every event Claude streams, so it cannot guard a decision.",
    tag: "approvals",
    body: B.DecisionBody,
    query: B.NoQuery,
    responses: { 202: accepted(), ...problems(400, 401, 403, 404, 409, 413, 415, 422, 500, 503) },
    role: "approver"
  },
  healthz: {
    operationId: "healthz",
    method: "GET",
    path: "/healthz",
    summary: "Liveness: 200 while the process is up",
    tag: "service",
    query: B.NoQuery,
    responses: { 200: { description: "Up.", schema: R.Health }, ...problems(400, 500) },
    role: "anyone"
  },
  readyz: {
    operationId: "readyz",
    method: "GET",
    path: "/readyz",
    summary: "Readiness: the store answers and the read models are caught up",
    tag: "service",
    query: B.NoQuery,
    responses: {
      200: { description: "Ready.", schema: R.Readiness },
      503: { description: "Not ready.", schema: R.Readiness, contentType: "application/json", headers: ["Retry-After"] },
      ...problems(400, 401, 403, 500)
    },
    role: "viewer"
  },
  storeBackup: {
    operationId: "storeBackup",
    method: "GET",
    path: "/v1/store/backup",
    summary: "A consistent copy of the embedded event store, taken while the service runs (agentlog backup)",
    description: "SQLite's online backup of events.db, as the file itself. 409 when the service runs on EventStoreDB (back that up with the server's own tools).",
    tag: "service",
    query: B.NoQuery,
    responses: {
      200: { description: "The store's file (an SQLite database).", contentType: "application/vnd.sqlite3" },
      ...problems(400, 401, 403, 409, 500, 503)
    },
    role: "admin"
  },
  registerWebhook: {
    operationId: "registerWebhook",
    method: "POST",
    path: "/v1/webhooks",
    summary: "Register a webhook: these events, signed with this secret, POSTed to this URL",
    description:
      "Recorded as WebhookRegistered in the stream agentlog-webhooks (without the secret). Deliveries start with the events recorded after it. See docs/webhooks.md for the signature.",
    tag: "webhooks",
    body: W.RegisterWebhookBody,
    query: B.NoQuery,
    responses: { 201: { description: "Registered.", schema: W.Webhook }, ...problems(400, 401, 403, 413, 415, 500, 503) },
    role: "admin"
  },
  listWebhooks: {
    operationId: "listWebhooks",
    method: "GET",
    path: "/v1/webhooks",
    summary: "Webhook subscriptions (removed ones are left out)",
    tag: "webhooks",
    query: B.NoQuery,
    responses: { 200: { description: "The subscriptions.", schema: W.WebhookList }, ...problems(400, 401, 403, 500, 503) },
    role: "admin"
  },
  getWebhook: {
    operationId: "getWebhook",
    method: "GET",
    path: "/v1/webhooks/:id",
    summary: "One webhook subscription, with its delivery state",
    tag: "webhooks",
    query: B.NoQuery,
    responses: { 200: { description: "The subscription.", schema: W.Webhook }, ...problems(400, 401, 403, 404, 500, 503) },
    role: "admin"
  },
  removeWebhook: {
    operationId: "removeWebhook",
    method: "DELETE",
    path: "/v1/webhooks/:id",
    summary: "Remove a webhook subscription (recorded as WebhookRemoved; its secret is deleted)",
    tag: "webhooks",
    query: B.NoQuery,
    responses: { 200: { description: "Removed.", schema: W.Webhook }, ...problems(400, 401, 403, 404, 500, 503) },
    role: "admin"
  },
  pauseWebhook: {
    operationId: "pauseWebhook",
    method: "POST",
    path: "/v1/webhooks/:id/pause",
    summary: "Pause a webhook's deliveries (recorded as WebhookPaused)",
    description: "409 when it is not active. Resume goes on from the last event delivered.",
    tag: "webhooks",
    body: W.PauseWebhookBody,
    query: B.NoQuery,
    responses: { 200: { description: "Paused.", schema: W.Webhook }, ...problems(400, 401, 403, 404, 409, 413, 415, 500, 503) },
    role: "admin"
  },
  resumeWebhook: {
    operationId: "resumeWebhook",
    method: "POST",
    path: "/v1/webhooks/:id/resume",
    summary: "Resume a paused webhook from where it stopped (recorded as WebhookResumed)",
    description: "409 when it is not paused. The event it stopped at is delivered first.",
    tag: "webhooks",
    body: B.EmptyBody,
    query: B.NoQuery,
    responses: { 200: { description: "Resumed.", schema: W.Webhook }, ...problems(400, 401, 403, 404, 409, 413, 415, 500, 503) },
    role: "admin"
  },
  webhookDeliveries: {
    operationId: "webhookDeliveries",
    method: "GET",
    path: "/v1/webhooks/:id/deliveries",
    summary: "A webhook's latest delivery attempts, newest first",
    tag: "webhooks",
    query: B.NoQuery,
    responses: { 200: { description: "The attempts.", schema: W.WebhookDeliveries }, ...problems(400, 401, 403, 404, 500, 503) },
    role: "admin"
  },
  sessionDiff: {
    operationId: "sessionDiff",
    method: "GET",
    path: "/v1/sessions/:id/diff",
    summary: "What the session's worktree changed: against its base, one run's commit (?run=), or between two commits (?from=&to=)",
    description:
      "Against the base, the worktree as it is now (new files included), so a running session's diff moves as Claude works. 404 when the session has no workspace or the run no commit; 400 for from without to, or a commit the repository does not have.",
    tag: "sessions",
    query: WS.DiffQuery,
    responses: {
      200: {
        description: "Files and hunks; with Accept: text/x-diff, git's unified diff as text.",
        schema: WS.WorkspaceDiff,
        alternatives: { "text/x-diff": "The unified diff, as `git diff` prints it." }
      },
      ...problems(400, 401, 403, 404, 409, 500, 503)
    },
    role: "viewer"
  },
  sessionCommits: {
    operationId: "sessionCommits",
    method: "GET",
    path: "/v1/sessions/:id/commits",
    summary: "The session's worktree and each run's commit (files, insertions, deletions)",
    tag: "sessions",
    query: B.NoQuery,
    responses: { 200: { description: "The commits, oldest first.", schema: WS.WorkspaceCommits }, ...problems(400, 401, 403, 404, 500, 503) },
    role: "viewer"
  },
  mergeWorkspace: {
    operationId: "mergeWorkspace",
    method: "POST",
    path: "/v1/sessions/:id/workspace/merge",
    summary: "Merge the session's branch into its base branch (fast-forward, or a merge commit)",
    description:
      "409 with `files` when it does not merge cleanly (nothing is changed), when the base branch has uncommitted changes where it is checked out, or while a run is active.",
    tag: "sessions",
    body: WS.MergeBody,
    query: B.NoQuery,
    responses: { 202: { description: "Merged and recorded (WorkspaceMerged).", schema: WS.WorkspaceAccepted, headers: ["ETag"] }, ...commandProblems },
    role: "operator"
  },
  rebaseWorkspace: {
    operationId: "rebaseWorkspace",
    method: "POST",
    path: "/v1/sessions/:id/workspace/rebase",
    summary: "Replay the session's commits onto a newer base",
    description: "409 with `files` when it does not rebase cleanly (the rebase is undone), or while a run is active.",
    tag: "sessions",
    body: WS.RebaseBody,
    query: B.NoQuery,
    responses: { 202: { description: "Rebased and recorded (WorkspaceRebased).", schema: WS.WorkspaceAccepted, headers: ["ETag"] }, ...commandProblems },
    role: "operator"
  },
  discardWorkspace: {
    operationId: "discardWorkspace",
    method: "POST",
    path: "/v1/sessions/:id/workspace/discard",
    summary: "Remove the session's worktree and branch (its commits stay named in the record)",
    tag: "sessions",
    body: B.EmptyBody,
    query: B.NoQuery,
    responses: { 202: accepted(), ...commandProblems },
    role: "operator"
  },
  resetWorkspace: {
    operationId: "resetWorkspace",
    method: "POST",
    path: "/v1/sessions/:id/workspace/reset",
    summary: "Go on from the state after an earlier run (retry from here): its commit, Claude resumed at its end, and a new run",
    description:
      "Records WorkspaceReset (the head it leaves is kept under the ref `keptAs`) and a ContinueRequested with `query`; the worktree is moved when the new run starts. 404 when the session has no workspace or never had the run; 409 while a run is active, or when the run left no commit (run-without-commit).",
    tag: "sessions",
    body: WS.ResetBody,
    query: B.NoQuery,
    requestHeaders: ["If-Match"],
    responses: { 202: { description: "Recorded; the new run is queued.", schema: WS.WorkspaceResetAccepted, headers: ["ETag"] }, ...commandProblems },
    role: "operator"
  },
  webSessionState: {
    operationId: "webSessionState",
    method: "GET",
    path: "/v1/web/session",
    summary: "The dashboard: whether it must log in, and whether its session cookie is valid",
    tag: "service",
    query: B.NoQuery,
    responses: { 200: { description: "The page's login state.", schema: WebSessionState }, ...problems(400, 403, 500) },
    role: "anyone"
  },
  webLogin: {
    operationId: "webLogin",
    method: "POST",
    path: "/v1/web/session",
    summary: "The dashboard's login: trades the API token for an HttpOnly, SameSite=Strict session cookie",
    tag: "service",
    query: B.NoQuery,
    body: WebLoginBody,
    responses: { 204: { description: "Logged in: Set-Cookie carries the session." }, ...problems(400, 401, 403, 413, 415, 500) },
    role: "anyone"
  },
  // ---- follow-ups, attempt groups, files touched (issue 12: 6, 7, 10) ----
  listFollowUps: {
    operationId: "listFollowUps",
    method: "GET",
    path: "/v1/sessions/:id/follow-ups",
    summary: "The session's follow-ups: continues sent while a run was active",
    description:
      "A continue sent while a run is active is queued (FollowUpQueued) and starts as the next run when the active run completes; when that run fails or is interrupted it is held, says why, and waits to be sent or cancelled.",
    tag: "sessions",
    query: B.ReadQuery,
    responses: { 200: { description: "Every follow-up, oldest first.", schema: Q.FollowUps }, ...readProblems },
    role: "viewer"
  },
  editFollowUp: {
    operationId: "editFollowUp",
    method: "PATCH",
    path: "/v1/sessions/:id/follow-ups/:followUpId",
    summary: "Edit a waiting follow-up",
    description: "Appends FollowUpEdited. Only while it waits (queued or held): 409 once it started or was cancelled.",
    tag: "sessions",
    body: Q.FollowUpEditBody,
    query: B.NoQuery,
    requestHeaders: ["If-Match"],
    responses: { 202: accepted(), ...commandProblems },
    role: "operator"
  },
  cancelFollowUp: {
    operationId: "cancelFollowUp",
    method: "POST",
    path: "/v1/sessions/:id/follow-ups/:followUpId/cancel",
    summary: "Cancel a waiting follow-up",
    description: "Appends FollowUpCancelled. Only while it waits: 409 once it started or was cancelled.",
    tag: "sessions",
    body: B.EmptyBody,
    query: B.NoQuery,
    requestHeaders: ["If-Match"],
    responses: { 202: accepted(), ...commandProblems },
    role: "operator"
  },
  sendFollowUp: {
    operationId: "sendFollowUp",
    method: "POST",
    path: "/v1/sessions/:id/follow-ups/:followUpId/send",
    summary: "Start a waiting follow-up now",
    description:
      "Appends FollowUpStarted and its ContinueRequested: the follow-up runs as a continue. For a held follow-up (its run failed or was interrupted), or a queued one; 409 while a run is active (it starts by itself when that run completes).",
    tag: "sessions",
    body: B.EmptyBody,
    query: B.NoQuery,
    requestHeaders: ["If-Match"],
    responses: { 202: accepted(), ...commandProblems },
    role: "operator"
  },
  getGroup: {
    operationId: "getGroup",
    method: "GET",
    path: "/v1/groups/:id",
    summary: "Parallel attempts side by side",
    description: "The sessions one launch with attempts started, by attempt: status, cost, tokens, turns and result.",
    tag: "sessions",
    query: B.ReadQuery,
    responses: { 200: { description: "The group.", schema: Q.AttemptGroup }, ...readProblems },
    role: "viewer"
  },
  listFiles: {
    operationId: "listFiles",
    method: "GET",
    path: "/v1/sessions/:id/files",
    summary: "Files the session read, edited or wrote",
    description: "From the recorded Read, Edit, MultiEdit, Write and NotebookEdit tool calls and their results.",
    tag: "sessions",
    query: B.ReadQuery,
    responses: { 200: { description: "The files, by path.", schema: Q.FilesTouched }, ...readProblems },
    role: "viewer"
  },
  getFileHistory: {
    operationId: "getFileHistory",
    method: "GET",
    path: "/v1/sessions/:id/files/:path/history",
    summary: "One file's reads, edits and writes by the session, with what Claude saw and each change as a diff",
    description: "path is the file's path as listed by GET /v1/sessions/{id}/files, URL-encoded as one segment (/ as %2F).",
    tag: "sessions",
    query: B.ReadQuery,
    responses: { 200: { description: "The file's history, in order.", schema: Q.FileHistory }, ...readProblems },
    role: "viewer"
  },
  // ---- end issue 12: 6, 7, 10 ----
  openapi: {
    operationId: "openapi",
    method: "GET",
    path: "/openapi.json",
    summary: "This document",
    tag: "service",
    query: B.NoQuery,
    responses: { 200: { description: "The OpenAPI 3.1 document.", schema: R.OpenApiDocument }, ...problems(400, 401, 403, 500) },
    role: "viewer"
  }
} as const satisfies Record<string, RouteSpec>

export type RouteName = keyof typeof routes
export const allRoutes: ReadonlyArray<RouteSpec> = Object.values(routes)

const patternOf = (path: string): RegExp =>
  new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/:([A-Za-z]+)/g, "[^/]+")}$`)
const compiled = allRoutes.map((r) => ({ route: r, pattern: patternOf(r.path) }))

/** Methods the table knows for a path (with HEAD for GET, and OPTIONS); empty for an unknown path. */
export const allowedMethods = (path: string): ReadonlyArray<string> => {
  const methods = new Set<string>()
  for (const { route, pattern } of compiled) {
    if (!pattern.test(path)) continue
    methods.add(route.method)
    if (route.method === "GET") methods.add("HEAD")
  }
  if (methods.size > 0) methods.add("OPTIONS")
  return [...methods]
}
