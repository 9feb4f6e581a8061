// Idempotency-Key for launch, continue and fork. The first answer to a key is stored in
// `<dataDir>/api.db` and replayed for a retry with the same request; the same key with a
// different request is refused (422). New session and run ids are derived from the key,
// so a retry after a crash between the append and storing the answer cannot start a
// second session or run: it meets the first one (see sessionRoutes.ts).
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { DatabaseSync } from "node:sqlite"
import { badRequest, idempotencyKeyReused } from "./problem.ts"

export interface StoredAnswer {
  readonly status: number
  readonly body: unknown
}

interface Row {
  fingerprint: string
  state: "pending" | "done"
  status: number | null
  body: string | null
}

export interface IdempotencyStore {
  readonly lookup: (key: string) => Row | undefined
  readonly begin: (key: string, fingerprint: string) => void
  readonly complete: (key: string, answer: StoredAnswer) => void
  readonly forget: (key: string) => void
  readonly close: () => void
}

const schema = `
CREATE TABLE IF NOT EXISTS idempotency_keys (
  key          TEXT PRIMARY KEY,
  fingerprint  TEXT NOT NULL,            -- sha256 of method, path and canonical body
  state        TEXT NOT NULL,            -- pending: the command may have run; done: answer stored
  status       INTEGER,
  body         TEXT,                     -- the answer's JSON
  created_at   TEXT NOT NULL,
  completed_at TEXT
) STRICT;
`

export const openIdempotencyStore = (dataDir: string): IdempotencyStore => {
  fs.mkdirSync(dataDir, { recursive: true })
  const db = new DatabaseSync(path.resolve(dataDir, "api.db"), { timeout: 5_000 })
  db.exec("PRAGMA journal_mode = WAL")
  db.exec(schema)
  const get = db.prepare("SELECT fingerprint, state, status, body FROM idempotency_keys WHERE key = ?")
  const insert = db.prepare(
    "INSERT INTO idempotency_keys (key, fingerprint, state, created_at) VALUES (?, ?, 'pending', ?) ON CONFLICT (key) DO NOTHING"
  )
  const done = db.prepare(
    "UPDATE idempotency_keys SET state = 'done', status = ?, body = ?, completed_at = ? WHERE key = ?"
  )
  const remove = db.prepare("DELETE FROM idempotency_keys WHERE key = ? AND state = 'pending'")
  let closed = false
  return {
    lookup: (key) => get.get(key) as Row | undefined,
    begin: (key, fingerprint) => void insert.run(key, fingerprint, new Date().toISOString()),
    complete: (key, answer) => void done.run(answer.status, JSON.stringify(answer.body), new Date().toISOString(), key),
    forget: (key) => void remove.run(key),
    close: () => {
      if (closed) return
      closed = true
      db.close()
    }
  }
}

/** A key is 1..255 visible ASCII characters. */
export const parseIdempotencyKey = (header: string | undefined): string | undefined => {
  if (header === undefined) return undefined
  if (!/^[\x21-\x7e]{1,255}$/.test(header)) throw badRequest("Idempotency-Key must be 1 to 255 visible ASCII characters")
  return header
}

/** JSON with object keys sorted, so the same body written differently has one fingerprint. */
const canonical = (v: unknown): string => {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`
  if (typeof v === "object" && v !== null)
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(",")}}`
  return JSON.stringify(v) ?? "null"
}

export const fingerprintOf = (method: string, pathname: string, body: unknown): string =>
  createHash("sha256").update(`${method} ${pathname}\n${canonical(body)}`).digest("hex")

/** A UUID (v5 layout) derived from the key and a purpose: the same key always names the same ids. */
export const derivedUuid = (...parts: ReadonlyArray<string>): string => {
  const h = createHash("sha256").update(["agentlog-idempotency", ...parts].join("\u0000")).digest()
  h[6] = (h[6]! & 0x0f) | 0x50
  h[8] = (h[8]! & 0x3f) | 0x80
  const x = h.subarray(0, 16).toString("hex")
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`
}

export interface IdempotentResult extends StoredAnswer {
  /** True when this is the stored answer to an earlier request. */
  readonly replayed: boolean
}

export interface Idempotency {
  /**
   * Runs `execute` at most once per key with a successful answer. `recovering` tells it an
   * earlier attempt may have appended before it could store its answer. A refusal
   * (`isRefusal`: nothing was appended) frees the key for a corrected retry.
   */
  readonly run: (
    key: string | undefined,
    fingerprint: string,
    execute: (recovering: boolean) => Promise<StoredAnswer>,
    isRefusal: (error: unknown) => boolean
  ) => Promise<IdempotentResult>
}

export const makeIdempotency = (store: IdempotencyStore): Idempotency => {
  // Requests with the same key wait for each other, so the second sees the first's answer.
  const inFlight = new Map<string, Promise<unknown>>()
  const serialized = async <A>(key: string, f: () => Promise<A>): Promise<A> => {
    const before = inFlight.get(key) ?? Promise.resolve()
    const mine = before.then(f, f)
    const tail = mine.catch(() => {})
    inFlight.set(key, tail)
    try {
      return await mine
    } finally {
      if (inFlight.get(key) === tail) inFlight.delete(key)
    }
  }

  const run: Idempotency["run"] = async (key, fingerprint, execute, isRefusal) => {
    if (key === undefined) return { ...(await execute(false)), replayed: false }
    return serialized(key, async () => {
      const row = store.lookup(key)
      if (row !== undefined && row.fingerprint !== fingerprint) throw idempotencyKeyReused()
      if (row?.state === "done") return { status: row.status!, body: JSON.parse(row.body!) as unknown, replayed: true }
      const recovering = row !== undefined
      if (!recovering) store.begin(key, fingerprint)
      let answer: StoredAnswer
      try {
        answer = await execute(recovering)
      } catch (e) {
        if (isRefusal(e)) store.forget(key)
        throw e
      }
      store.complete(key, answer)
      return { ...answer, replayed: false }
    })
  }
  return { run }
}
