// A projection: a name, a version, the tables it owns and a handler. The runner applies
// each event to each projection inside the same transaction as the projection's
// checkpoint. A handler reads and writes only its own tables (projections are rebuilt
// independently), never reads the clock, and never throws on an unexpected shape.
import type { DatabaseSync } from "node:sqlite"
import type { ProjectedEvent } from "./projectedEvent.ts"

export interface Projection {
  readonly name: string
  /** Bump when the tables or the handler's meaning change: the projection is rebuilt from zero. */
  readonly version: number
  /** Every table it owns; dropped on rebuild. */
  readonly tables: ReadonlyArray<string>
  /** DDL creating its tables and indexes (run on fresh tables). */
  readonly schema: string
  readonly apply: (db: DatabaseSync, event: ProjectedEvent) => void
  /**
   * Writes the handler held back during a batch (a row that every event of a session
   * updates is written once per batch, not once per event). The runner calls it at the
   * end of every batch, in the batch's transaction, before the checkpoint moves.
   */
  readonly flush?: (db: DatabaseSync) => void
}
