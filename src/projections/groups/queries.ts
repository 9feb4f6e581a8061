// One attempt group with its sessions side by side (their figures from the sessions model).
import type { DatabaseSync } from "node:sqlite"
import { sql } from "../readDb.ts"

export interface AttemptGroupRow {
  readonly groupId: string
  readonly attempts: number
  readonly query: string
  readonly items: ReadonlyArray<{
    readonly attempt: number
    readonly sessionId: string
    readonly status: string
    readonly title: string | null
    readonly runs: number
    readonly turns: number
    readonly costUsd: number
    readonly inputTokens: number
    readonly outputTokens: number
    readonly result: string | null
    readonly lastError: string | null
    readonly createdAt: string
    readonly updatedAt: string
  }>
}

export const groupQueries = (db: DatabaseSync) => ({
  attemptGroup: (groupId: string): AttemptGroupRow | null => {
    const g = sql(db, "SELECT group_id, attempts, query FROM attempt_groups WHERE group_id = ?").get(groupId) as
      | { group_id: string; attempts: number; query: string }
      | undefined
    if (g === undefined) return null
    const rows = sql(
      db,
      `SELECT m.attempt, m.session_id, m.result, s.status, s.title, s.runs, s.turns, s.cost_usd, s.input_tokens,
         s.output_tokens, s.last_error, s.created_at, s.updated_at
       FROM attempt_group_sessions m JOIN sessions s ON s.session_id = m.session_id
       WHERE m.group_id = ? ORDER BY m.attempt`
    ).all(groupId) as ReadonlyArray<Record<string, unknown>>
    return {
      groupId: g.group_id,
      attempts: g.attempts,
      query: g.query,
      items: rows.map((r) => ({
        attempt: r.attempt as number,
        sessionId: r.session_id as string,
        status: r.status as string,
        title: r.title as string | null,
        runs: r.runs as number,
        turns: r.turns as number,
        costUsd: r.cost_usd as number,
        inputTokens: r.input_tokens as number,
        outputTokens: r.output_tokens as number,
        result: r.result as string | null,
        lastError: r.last_error as string | null,
        createdAt: r.created_at as string,
        updatedAt: r.updated_at as string
      }))
    }
  }
})
