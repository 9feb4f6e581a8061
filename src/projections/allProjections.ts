// The read models agentlog keeps, in the order the runner applies them to each event.
import { approvalsProjection } from "./approvalsProjection.ts"
import { eventsIndexProjection } from "./eventsIndexProjection.ts"
import type { Projection } from "./projection.ts"
import { sessionsProjection } from "./sessionsProjection.ts"
import { toolCallsProjection } from "./toolCallsProjection.ts"
import { transcriptProjection } from "./transcriptProjection.ts"

export const allProjections: ReadonlyArray<Projection> = [
  sessionsProjection,
  transcriptProjection,
  toolCallsProjection,
  approvalsProjection,
  eventsIndexProjection
]
