// What every read model's queries share: limits, opaque keyset cursors, filters, and
// reading the JSON and flag columns back. Lists page with keyset cursors (stable under
// inserts: a page boundary is a key, never an offset).
import type { DatabaseSync, SQLInputValue } from "node:sqlite"
import { Data } from "effect"
import { isoTime } from "./projectedEvent.ts"
import { type ReadDbError, sql } from "./readDb.ts"

/** A client-supplied filter or cursor that cannot be used (HTTP 400). */
export class InvalidQuery extends Data.TaggedError("InvalidQuery")<{ readonly field: string; readonly reason: string }> {
  override get message() {
    return `${this.field}: ${this.reason}`
  }
}

export type ReadModelError = InvalidQuery | ReadDbError

export interface Page<A> {
  readonly items: ReadonlyArray<A>
  /** Pass as `cursor` for the next page; null on the last page. */
  readonly nextCursor: string | null
}

export type OneOrMany = string | ReadonlyArray<string>

export const defaultLimit = 50
export const maxLimit = 500

export const limitOf = (limit: number | undefined): number => {
  if (limit === undefined) return defaultLimit
  if (!Number.isInteger(limit) || limit < 1) throw new InvalidQuery({ field: "limit", reason: "must be a positive integer" })
  return Math.min(limit, maxLimit)
}

export const many = (v: OneOrMany | undefined): ReadonlyArray<string> =>
  v === undefined ? [] : typeof v === "string" ? [v] : v

const encodeCursor = (key: ReadonlyArray<string>): string => Buffer.from(JSON.stringify(key)).toString("base64url")

export const decodeCursor = (cursor: string, arity: number): ReadonlyArray<string> => {
  const invalid = () => new InvalidQuery({ field: "cursor", reason: "not a cursor this list issued" })
  let key: unknown
  try {
    key = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"))
  } catch {
    throw invalid()
  }
  if (!Array.isArray(key) || key.length !== arity || !key.every((k) => typeof k === "string")) throw invalid()
  return key as ReadonlyArray<string>
}

export const timeOf = (field: string, v: string | undefined): string | null => {
  if (v === undefined) return null
  const t = isoTime(v)
  if (t === null) throw new InvalidQuery({ field, reason: "not an ISO 8601 time" })
  return t
}

export const parse = (text: unknown): unknown => {
  if (typeof text !== "string") return null
  try {
    return JSON.parse(text)
  } catch {
    return null
  }
}

export const flag = (v: unknown): boolean | null => (v === null || v === undefined ? null : Number(v) !== 0)

/** WHERE clause builder: conditions joined with AND, parameters in order. */
export class Where {
  readonly parts: Array<string> = []
  readonly params: Array<SQLInputValue> = []
  add(condition: string, ...params: Array<SQLInputValue>): this {
    this.parts.push(condition)
    this.params.push(...params)
    return this
  }
  in(column: string, values: ReadonlyArray<SQLInputValue>): this {
    if (values.length > 0) this.add(`${column} IN (${values.map(() => "?").join(", ")})`, ...values)
    return this
  }
  get sql(): string {
    return this.parts.length === 0 ? "" : `WHERE ${this.parts.join(" AND ")}`
  }
}

export type Row = Record<string, unknown>

export const page = <A>(rows: ReadonlyArray<Row>, limit: number, toItem: (r: Row) => A, key: (r: Row) => ReadonlyArray<string>): Page<A> => {
  const more = rows.length > limit
  const kept = more ? rows.slice(0, limit) : rows
  return { items: kept.map(toItem), nextCursor: more ? encodeCursor(key(kept[kept.length - 1]!)) : null }
}

/**
 * One page of a table's rows, newest first by a key of columns (the later ones break ties):
 * the rows after the cursor's key in that order, and the cursor of the next page.
 */
export const newestFirst = <A>(
  db: DatabaseSync,
  table: string,
  w: Where,
  key: ReadonlyArray<string>,
  cursor: string | undefined,
  limit: number,
  toItem: (r: Row) => A,
  columns = "*"
): Page<A> => {
  if (cursor !== undefined) {
    const values = decodeCursor(cursor, key.length)
    // (k1 < v1 OR (k1 = v1 AND (k2 < v2 OR ...))): strictly after the key, in the list's order.
    let condition = `${key[key.length - 1]} < ?`
    let params: Array<string> = [values[key.length - 1]!]
    for (let i = key.length - 2; i >= 0; i--) {
      condition = `(${key[i]} < ? OR (${key[i]} = ? AND ${condition}))`
      params = [values[i]!, values[i]!, ...params]
    }
    w.add(condition, ...params)
  }
  const order = key.map((k) => `${k} DESC`).join(", ")
  const rows = allRows(db, `SELECT ${columns} FROM ${table} ${w.sql} ORDER BY ${order} LIMIT ?`, [...w.params, limit + 1])
  return page(rows, limit, toItem, (r) => key.map((k) => r[k] as string))
}

export const likePattern = (q: string): string => `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`

/** Every row a (cached) statement returns; bigInts for columns that hold store positions. */
export const allRows = (db: DatabaseSync, text: string, params: ReadonlyArray<SQLInputValue>, bigInts = false): Array<Row> => {
  const s = sql(db, text)
  s.setReadBigInts(bigInts)
  return s.all(...params) as Array<Row>
}
