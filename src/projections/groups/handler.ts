// `attempt_groups`: the sessions one launch with `attempts` started (SessionLaunched.group),
// with each one's last result text, so they can be compared side by side. Status, cost and
// tokens are the sessions model's; the group query reads them from there.
import type { DatabaseSync } from "node:sqlite"
import type { Projection } from "../projection.ts"
import { num, obj, str, type ProjectedEvent } from "../projectedEvent.ts"
import { sql } from "../readDb.ts"
import { groupsQueryIndexes, groupsSchema } from "./schema.ts"

const apply = (db: DatabaseSync, e: ProjectedEvent): void => {
  const sessionId = e.sessionId
  if (sessionId === null) return
  if (e.type === "SessionLaunched") {
    const g = obj(e.data.group)
    const groupId = str(g.groupId)
    if (groupId === null) return
    sql(db, "INSERT INTO attempt_groups (group_id, attempts, query, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING").run(
      groupId,
      num(g.of),
      str(e.data.query) ?? "",
      e.at
    )
    sql(db, "INSERT INTO attempt_group_sessions (session_id, group_id, attempt) VALUES (?, ?, ?) ON CONFLICT DO NOTHING").run(
      sessionId,
      groupId,
      num(g.attempt)
    )
  } else if (e.type === "ClaudeResult") {
    // A no-op (one primary-key probe) for sessions outside any group.
    const text = str(obj(e.data.message).result)
    if (text !== null) sql(db, "UPDATE attempt_group_sessions SET result = ? WHERE session_id = ?").run(text, sessionId)
  }
}

export const groupsProjection: Projection = {
  name: "groups",
  version: 1,
  tables: ["attempt_groups", "attempt_group_sessions"],
  schema: groupsSchema,
  apply,
  queryIndexes: (db) => db.exec(groupsQueryIndexes)
}
