// The keys file as the running service sees it: read again whenever the file changes
// (`npm run keys` edits it while the service runs), so an added key works and a revoked
// one stops working on the next request, without a restart. A file that cannot be read
// keeps the last good set of keys and says so in the log, once per change.
import { statSync } from "node:fs"
import { join, resolve } from "node:path"
import { hashKey, isActive, readKeys, type StoredKey } from "./keyFile.ts"
import type { Principal } from "./roles.ts"

/** AGENTLOG_KEYS_FILE, or keys.json in the data dir: the one rule, for the service and the script. */
export const keysFileOf = (env: NodeJS.ProcessEnv, dataDir: string): string =>
  env.AGENTLOG_KEYS_FILE ? resolve(env.AGENTLOG_KEYS_FILE) : join(dataDir, "keys.json")

export interface KeyRing {
  /** The active key a presented key is, or undefined (looked up by hash). */
  readonly find: (presented: string) => StoredKey | undefined
  /** The principal of an active key, or undefined. */
  readonly principalFor: (presented: string) => Principal | undefined
  /** The active key with this id (the web cookie names its key by id). */
  readonly activeById: (id: string) => StoredKey | undefined
  /** Whether any key is active: then every request must name its principal. */
  readonly hasActiveKeys: () => boolean
  /** Every key of the file, revoked ones included (no key material: only hashes). */
  readonly all: () => ReadonlyArray<StoredKey>
}

export const principalOf = (k: StoredKey): Principal => ({ name: k.name, role: k.role })

export const makeKeyRing = (file: string, onError: (message: string) => void = () => {}): KeyRing => {
  let stamp = ""
  let keys: ReadonlyArray<StoredKey> = []
  let byHash = new Map<string, StoredKey>()
  const current = (): ReadonlyArray<StoredKey> => {
    let s = "absent"
    try {
      const st = statSync(file, { bigint: true })
      s = `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`
    } catch {
      // No file: no keys.
    }
    if (s === stamp) return keys
    try {
      keys = s === "absent" ? [] : readKeys(file)
      byHash = new Map(keys.filter(isActive).map((k) => [k.hash, k]))
      stamp = s
    } catch (e) {
      // Keep the last good keys; try again on the next request (the file may be mid-edit by hand).
      onError(`keys file ${file} cannot be read: ${e instanceof Error ? e.message : String(e)}`)
    }
    return keys
  }
  const find = (presented: string): StoredKey | undefined => {
    current()
    return byHash.get(hashKey(presented))
  }
  return {
    find,
    principalFor: (presented) => {
      const k = find(presented)
      return k ? principalOf(k) : undefined
    },
    activeById: (id) => current().find((k) => k.id === id && isActive(k)),
    hasActiveKeys: () => current().some(isActive),
    all: () => current()
  }
}
