// Fault injection: a full disk without a small filesystem. When AGENTLOG_FAULT_PAGE_LIMITS
// names a JSON file ({"events.db": 0, "read.db": 5000}: pages per file name), every SQLite
// connection the service opens on such a file gets PRAGMA max_page_count from it, read at
// open and again on SIGUSR2; a file left out gets its usual limit back. So a test (or a
// drill) fills the disk and gives the space back while the service runs. SQLite never
// lowers the limit below the file's current size: 0 means "full now". A write that needs
// a page past the limit fails with SQLITE_FULL, as on a full disk. Unset: nothing happens.
import { readFileSync } from "node:fs"
import { basename } from "node:path"
import type { DatabaseSync } from "node:sqlite"

export const pageLimitsVariable = "AGENTLOG_FAULT_PAGE_LIMITS"

/** Each connection under the knob, with its file name and the limit it had. */
const connections = new Map<DatabaseSync, { readonly name: string; readonly usual: number }>()

const readLimits = (control: string): Record<string, unknown> => {
  try {
    const parsed: unknown = JSON.parse(readFileSync(control, "utf8"))
    return typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : {}
  } catch {
    return {}
  }
}

const apply = (control: string) => {
  const limits = readLimits(control)
  for (const [db, { name, usual }] of connections) {
    if (!db.isOpen) {
      connections.delete(db)
      continue
    }
    const pages = limits[name]
    db.exec(`PRAGMA max_page_count = ${typeof pages === "number" ? Math.max(1, Math.floor(pages)) : usual}`)
  }
  // On stderr like the service's log lines: what a test waits for before it goes on.
  process.stderr.write(JSON.stringify({ time: new Date().toISOString(), level: "warn", msg: "fault injection: page limits applied", limits }) + "\n")
}

/** Puts a connection on `file` under the knob (a no-op unless AGENTLOG_FAULT_PAGE_LIMITS is set). */
export const faultPageLimit = (db: DatabaseSync, file: string): void => {
  const control = process.env[pageLimitsVariable]
  if (!control) return
  const usual = Number((db.prepare("PRAGMA max_page_count").get() as { max_page_count: number }).max_page_count)
  if (connections.size === 0) process.on("SIGUSR2", () => apply(control))
  connections.set(db, { name: basename(file), usual })
  apply(control)
}

/** Applies the knob's file now, as SIGUSR2 does: for a test in the same process. */
export const reapplyPageLimits = (): void => {
  const control = process.env[pageLimitsVariable]
  if (control) apply(control)
}
