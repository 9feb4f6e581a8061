// GET /v1/store/backup: the embedded store copied by SQLite's online backup into a scratch
// directory beside it (same file system, same privacy), sent as a file, then removed.
import { createReadStream, mkdtempSync, rmSync, statSync } from "node:fs"
import { join } from "node:path"
import { Readable } from "node:stream"
import type { Hono } from "hono"
import { Effect } from "effect"
import type { SqliteEventStore } from "../eventstore/sqliteEventStore.ts"
import type { HttpDeps } from "./deps.ts"
import type { HttpEnv } from "./env.ts"
import { conflict } from "./problem.ts"
import { router } from "./routeKit.ts"
import { routes } from "./routes.ts"

export const storeRoutes = (app: Hono<HttpEnv>, deps: HttpDeps): void => {
  const handle = router(app, deps)
  handle(routes.storeBackup, ({ c }) =>
    Effect.gen(function* () {
      const store = deps.store as Partial<SqliteEventStore>
      if (typeof store.backup !== "function")
        return yield* Effect.fail(
          conflict("not-embedded", "Not an embedded store", "the service runs on EventStoreDB: back it up with the server's own tools")
        )
      // HEAD: what a GET would send, without making a copy nobody reads.
      if (c.req.method === "HEAD") return c.body(null, 200, { "Content-Type": "application/vnd.sqlite3", "Cache-Control": "no-store" })
      const dir = mkdtempSync(join(deps.config.dataDir, ".backup-"))
      const done = () => rmSync(dir, { recursive: true, force: true })
      const file = join(dir, "events.db")
      const head = yield* store.backup(file).pipe(Effect.onError(() => Effect.sync(done)))
      const body = createReadStream(file)
      body.once("close", done)
      return new Response(Readable.toWeb(body) as ReadableStream<Uint8Array>, {
        status: 200,
        headers: {
          "Content-Type": "application/vnd.sqlite3",
          "Content-Length": String(statSync(file).size),
          "Cache-Control": "no-store",
          "X-Agentlog-Events": String(head?.commit ?? 0n)
        }
      })
    })
  )
}
