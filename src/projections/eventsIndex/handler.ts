// `events_index`: one small row per event of every session stream, so the audit endpoint
// (GET /v1/events ?type=&session=&after=&before=&cursor=) can filter by type, session and
// time and page by position without scanning the store. Bodies stay in the store: the
// rows name where each event is (stream, revision, position); see eventsAudit.ts.
import type { DatabaseSync } from "node:sqlite"
import type { Projection } from "../projection.ts"
import { isoTime, str, type ProjectedEvent } from "../projectedEvent.ts"
import { sql } from "../readDb.ts"
import { eventsIndexSchema, eventsIndexQueryIndexes } from "./schema.ts"

const apply = (db: DatabaseSync, e: ProjectedEvent): void => {
  const r = e.recorded
  sql(
    db,
    `INSERT INTO events_index (commit_position, prepare_position, stream, session_id, revision, event_id, type, run_id,
       source, actor, correlation_id, causation_id, recorded_at, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT DO NOTHING`
  ).run(
    r.position.commit,
    r.position.prepare,
    r.stream,
    e.sessionId,
    e.revision,
    r.id,
    r.type,
    e.runId,
    str(e.metadata.source),
    str(e.metadata.actor) ?? str(e.metadata.source),
    str(e.metadata.correlationId),
    str(e.metadata.causationId),
    e.at,
    isoTime(r.created)
  )
}

export const eventsIndexProjection: Projection = {
  name: "events_index",
  version: 2,
  tables: ["events_index"],
  schema: eventsIndexSchema,
  queryIndexes: (db) => db.exec(eventsIndexQueryIndexes),
  apply
}
