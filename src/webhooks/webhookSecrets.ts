// The subscriptions' secrets: a 0600 JSON file in the data dir (`webhook-secrets.json`),
// replaced atomically, read at each delivery's start. The events and the API only ever
// name the subscription: a restart finds the secret here, and a data dir restored without
// this file leaves its subscriptions without a secret (they deliver nothing and say so).
import { chmodSync, readFileSync, renameSync, writeFileSync } from "node:fs"

export interface WebhookSecrets {
  readonly get: (webhookId: string) => string | undefined
  readonly put: (webhookId: string, secret: string) => void
  readonly remove: (webhookId: string) => void
  /** Every secret held (for tests that look for them where they must not be). */
  readonly all: () => ReadonlyArray<string>
}

export const fileSecrets = (file: string): WebhookSecrets => {
  const read = (): Record<string, string> => {
    try {
      const j = JSON.parse(readFileSync(file, "utf8")) as unknown
      return typeof j === "object" && j !== null ? (j as Record<string, string>) : {}
    } catch {
      return {}
    }
  }
  const write = (all: Record<string, string>) => {
    const tmp = `${file}.tmp`
    writeFileSync(tmp, JSON.stringify(all) + "\n", { mode: 0o600 })
    chmodSync(tmp, 0o600)
    renameSync(tmp, file)
  }
  return {
    get: (id) => {
      const s = read()[id]
      return typeof s === "string" ? s : undefined
    },
    put: (id, secret) => write({ ...read(), [id]: secret }),
    remove: (id) => {
      const all = read()
      if (!(id in all)) return
      delete all[id]
      write(all)
    },
    all: () => Object.values(read()).filter((s) => typeof s === "string")
  }
}
