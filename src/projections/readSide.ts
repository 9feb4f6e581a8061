// The read side as one layer: read.db, the projections that keep it current, and the
// queries over it. Closing the layer stops the projections before read.db closes.
import { Layer } from "effect"
import type { EventStore } from "../eventstore/eventStore.ts"
import { Projections, ProjectionsLive } from "./projectionsService.ts"
import { ReadDbLive, type ReadDbError } from "./readDb.ts"
import { ReadModels, ReadModelsLive } from "./readModels.ts"

export const ReadSideLive = (dataDir: string): Layer.Layer<Projections | ReadModels, ReadDbError, EventStore> =>
  Layer.mergeAll(ProjectionsLive, ReadModelsLive).pipe(Layer.provide(ReadDbLive(dataDir)))

export { Projections, ReadModels }
