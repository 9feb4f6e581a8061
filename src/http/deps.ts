// What the HTTP layer needs from the rest of agentlog: a plain object, so the composition
// root (src/main.ts) wires it from whatever layers it built.
import type { SessionCommandsShape } from "../commands/sessionCommands.ts"
import type { EventStoreShape } from "../eventstore/eventStore.ts"
import type { Logger } from "../log.ts"
import type { RunSecrets } from "../process/runSecrets.ts"
import type { SupervisorShape } from "../process/supervisor.ts"
import type { ProjectionsShape } from "../projections/projectionsService.ts"
import type { ReadModelsShape } from "../projections/readModels.ts"
import type { WebhooksShape } from "../webhooks/webhooks.ts"
import type { HostGuardConfig } from "./hostGuard.ts"

export interface HttpConfig {
  /** When set, every route but /healthz needs `Authorization: Bearer <apiToken or an API key>`; the token is an admin. */
  readonly apiToken?: string | undefined
  /** The API keys file (src/principals/keyFile.ts); default keys.json in the data dir. */
  readonly keysFile?: string
  /** Who may call: Host allowlist, Origin check, CORS origins (see hostGuard.ts). */
  readonly hostGuard?: HostGuardConfig
  /** Largest request body, in bytes (413 beyond). */
  readonly maxBodyBytes: number
  /** How long a read with minPosition waits for the read models before 503. */
  readonly readWaitMs: number
  /** SSE heartbeat interval. */
  readonly heartbeatMs: number
  /** An SSE client that takes nothing of its stream for this long is dropped; 0 or unset: never. */
  readonly sseStallMs?: number
  /** Set (to the reason) when Claude would refuse permissionMode bypassPermissions here: such runs are refused. */
  readonly bypassPermissionsUnavailable?: string | undefined
  /** The data dir (the page's build check and the token file live beside it). */
  readonly dataDir: string
  /** The workspace a launch gets when it names none (AGENTLOG_WORKSPACE; default none). */
  readonly workspaceDefault?: "none" | "worktree"
}

export interface HttpDeps {
  readonly commands: SessionCommandsShape
  /** Read only: where a queued run stands. Work reaches the supervisor through the store. */
  readonly supervisor: Pick<SupervisorShape, "queuePosition" | "seen" | "queueFull">
  /** Where a launch, continue or fork leaves its MCP secrets for the supervisor. */
  readonly runSecrets: RunSecrets
  readonly store: EventStoreShape
  readonly projections: ProjectionsShape
  readonly readModels: ReadModelsShape
  /** Webhook subscriptions' secrets and delivery state (the routes append; it delivers). */
  readonly webhooks: WebhooksShape
  readonly config: HttpConfig
  readonly logger: Logger
}
