// What the main thread and the worker of a bulk rebuild say to each other.
import type { RecordedEventJson } from "../../eventstore/eventStore.ts"
import type { ProjectionError } from "../projectionRunner.ts"

export interface WorkerInput {
  /** The worker's own new file. */
  readonly file: string
  /** Names of the projections it applies. */
  readonly projections: ReadonlyArray<string>
  readonly maxBatch: number
}

export type ToWorker =
  | { readonly kind: "events"; readonly events: ReadonlyArray<RecordedEventJson> }
  /** No more events: build the query indexes, close the file. */
  | { readonly kind: "finish" }

export type FromWorker =
  | { readonly kind: "applied"; readonly events: number; readonly errors: ReadonlyArray<ProjectionError> }
  /** With the CPU time the worker's thread used, in ms. */
  | { readonly kind: "finished"; readonly cpuMs: number }
