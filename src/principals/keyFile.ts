// API keys, kept only as SHA-256 hashes in a file of their own (0600): a key is shown once,
// when it is made, and cannot be read back. A revoked key stays listed with when it was
// revoked, so the file says who could do what, and until when.
import { createHash, randomBytes } from "node:crypto"
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs"
import { userInfo } from "node:os"
import { dirname } from "node:path"
import { isRole, type Role } from "./roles.ts"

export interface StoredKey {
  /** Public id of the key (its hash's first 12 hex digits), safe to log and to record. */
  readonly id: string
  readonly name: string
  readonly role: Role
  readonly hash: string
  readonly createdAt: string
  /** Who made it: the operating-system user who ran `npm run keys` (recorded with the key's event). */
  readonly createdBy?: string
  readonly revokedAt?: string
  readonly revokedBy?: string
}

export class KeyFileError extends Error {}

const namePattern = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/

export const hashKey = (key: string): string => createHash("sha256").update(key, "utf8").digest("hex")

export const readKeys = (file: string): ReadonlyArray<StoredKey> => {
  if (!existsSync(file)) return []
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"))
  } catch (e) {
    throw new KeyFileError(`${file} is not a keys file: ${e instanceof Error ? e.message : String(e)}`)
  }
  const keys = (parsed as { keys?: unknown }).keys
  if (!Array.isArray(keys)) throw new KeyFileError(`${file} is not a keys file: no "keys" list`)
  for (const k of keys as Array<Partial<StoredKey>>) {
    if (typeof k.name !== "string" || typeof k.hash !== "string" || typeof k.role !== "string" || !isRole(k.role))
      throw new KeyFileError(`${file} has a malformed key entry`)
  }
  return keys as ReadonlyArray<StoredKey>
}

/** Writes the whole file anew through a rename, so a reader never sees half of it. */
const writeKeys = (file: string, keys: ReadonlyArray<StoredKey>): void => {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 })
  const tmp = `${file}.${process.pid}.tmp`
  writeFileSync(tmp, JSON.stringify({ keys }, null, 2) + "\n", { mode: 0o600 })
  chmodSync(tmp, 0o600)
  renameSync(tmp, file)
}

export const isActive = (k: StoredKey): boolean => k.revokedAt === undefined

/** Makes a key for a name; returns the key itself, which exists nowhere else afterwards. */
/** The operating-system user running the command: who changed the keys. */
export const osUser = (): string => {
  try {
    return userInfo().username || "unknown"
  } catch {
    return "unknown"
  }
}

export const addKey = (
  file: string,
  name: string,
  role: Role,
  now: Date = new Date(),
  by: string = osUser()
): { key: string; stored: StoredKey } => {
  if (!namePattern.test(name))
    throw new KeyFileError(`name must be 1-64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit`)
  const keys = readKeys(file)
  if (keys.some((k) => k.name === name && isActive(k))) throw new KeyFileError(`${name} already has a key: revoke it first`)
  const key = `al_${randomBytes(32).toString("base64url")}`
  const hash = hashKey(key)
  const stored: StoredKey = { id: hash.slice(0, 12), name, role, hash, createdAt: now.toISOString(), createdBy: by }
  writeKeys(file, [...keys, stored])
  return { key, stored }
}

export const revokeKey = (file: string, name: string, now: Date = new Date(), by: string = osUser()): StoredKey => {
  const keys = readKeys(file)
  const found = keys.find((k) => k.name === name && isActive(k))
  if (!found) throw new KeyFileError(`${name} has no active key`)
  const revoked: StoredKey = { ...found, revokedAt: now.toISOString(), revokedBy: by }
  writeKeys(file, keys.map((k) => (k === found ? revoked : k)))
  return revoked
}
