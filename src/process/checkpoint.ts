// Where the process manager resumes its subscription after a restart: a small file in the
// data dir, replaced atomically. A missing or unreadable file means "from the start",
// which is slower but always right (the process manager's reactions are idempotent).
import { readFileSync, renameSync, writeFileSync } from "node:fs"
import type { Position } from "../eventstore/eventStore.ts"

export interface Checkpoint {
  readonly read: () => Position | "start"
  readonly write: (p: Position | "start") => void
}

export const fileCheckpoint = (file: string): Checkpoint => ({
  read: () => {
    try {
      const j = JSON.parse(readFileSync(file, "utf8")) as { commit?: unknown; prepare?: unknown }
      return typeof j.commit === "string" && typeof j.prepare === "string"
        ? { commit: BigInt(j.commit), prepare: BigInt(j.prepare) }
        : "start"
    } catch {
      return "start"
    }
  },
  write: (p) => {
    const tmp = `${file}.tmp`
    writeFileSync(tmp, p === "start" ? "{}\n" : `${JSON.stringify({ commit: `${p.commit}`, prepare: `${p.prepare}` })}\n`)
    renameSync(tmp, file)
  }
})

export const memoryCheckpoint = (): Checkpoint => {
  let at: Position | "start" = "start"
  return { read: () => at, write: (p) => void (at = p) }
}
