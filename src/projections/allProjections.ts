// The read models agentlog keeps, in the order the runner applies them to each event.
import { approvalsProjection } from "./approvals/handler.ts"
import { eventsIndexProjection } from "./eventsIndex/handler.ts"
import { filesProjection } from "./files/handler.ts"
import { groupsProjection } from "./groups/handler.ts"
import type { Projection } from "./projection.ts"
import { sessionsProjection } from "./sessions/handler.ts"
import { toolCallsProjection } from "./toolCalls/handler.ts"
import { transcriptProjection } from "./transcript/handler.ts"

export const allProjections: ReadonlyArray<Projection> = [
  sessionsProjection,
  transcriptProjection,
  toolCallsProjection,
  approvalsProjection,
  eventsIndexProjection,
  groupsProjection,
  filesProjection
]
