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
   * Makes what only the queries need (secondary indexes, the search index), where it is
   * missing: idempotent, run whenever the projections are prepared. A rebuild from zero
   * runs it once at the end instead (one sort per index rather than an insert per row);
   * so the handler must never need it.
   */
  readonly queryIndexes?: (db: DatabaseSync) => void
  /**
   * Writes the handler held back during a batch (a row that every event of a session
   * updates is written once per batch, not once per event). The runner calls it at the
   * end of every batch, in the batch's transaction, before the checkpoint moves (and, on
   * its careful path after a handler threw, before every event's savepoint).
   */
  readonly flush?: (db: DatabaseSync) => void
  /**
   * Forgets what the handler held back: the batch's transaction was rolled back (a handler
   * threw, the database failed), so none of it happened. The runner calls it after every
   * rollback, before the events are applied again.
   */
  readonly discard?: (db: DatabaseSync) => void
}
