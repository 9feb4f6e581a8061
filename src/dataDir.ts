// The data dir holds every transcript and approval: only the service's own user may read
// it, as Claude Code keeps its own transcripts. New files are private by the umask; what an
// earlier version (or a umask of 022) left open to others is tightened at start-up, and a
// data dir that cannot be tightened (someone else's files) stops the start with the reason.
import { chmodSync, lstatSync, mkdirSync, readdirSync } from "node:fs"
import { join } from "node:path"

export class DataDirError extends Error {}

const tighten = (path: string, depth: number): void => {
  const st = lstatSync(path)
  if (st.isSymbolicLink()) return
  const wanted = st.isDirectory() ? 0o700 : 0o600
  if ((st.mode & 0o077) !== 0) {
    try {
      chmodSync(path, wanted)
    } catch (e) {
      throw new DataDirError(
        `${path} is open to other users (mode ${(st.mode & 0o777).toString(8)}) and cannot be made private: ${e instanceof Error ? e.message : String(e)}; chmod -R go= it or use another AGENTLOG_DATA_DIR`
      )
    }
  }
  if (st.isDirectory() && depth > 0) for (const entry of readdirSync(path)) tighten(join(path, entry), depth - 1)
}

/** The umask the service was started with, once prepareDataDir replaced it. */
let userUmask: number | undefined

/**
 * Runs `spawn` under the umask the service was started with: the umask is inherited, and
 * the files Claude writes in the user's project should be as the user's own, not 0600.
 */
export const withUserUmask = <A>(spawn: () => A): A => {
  if (userUmask === undefined) return spawn()
  const service = process.umask(userUmask)
  try {
    return spawn()
  } finally {
    process.umask(service)
  }
}

/** Makes the data dir (0700), sets the umask so that what the service creates is 0600, and tightens what is there. */
export const prepareDataDir = (dir: string): void => {
  const previous = process.umask(0o077)
  userUmask ??= previous
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  // The dir, its files, and one level below (runs/): all the service writes.
  tighten(dir, 2)
}
