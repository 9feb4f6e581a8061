// agentlog backup: the running service copies its embedded store with SQLite's online
// backup (it holds the file's lock, and its own connection sees every commit) and sends
// the copy; it lands in <file>.partial first and is renamed once whole, so a file of that
// name is always a complete store.
import { createWriteStream, renameSync, rmSync } from "node:fs"
import { resolve } from "node:path"
import { Readable } from "node:stream"
import { pipeline } from "node:stream/promises"
import type { ReadableStream as WebReadableStream } from "node:stream/web"
import { CliError, type Client, must } from "../client.ts"

export const backupCommand = async (client: Client, file: string, out: (line: string) => void, json: boolean): Promise<number> => {
  const target = resolve(file)
  const partial = `${target}.partial`
  const call = client.api.GET("/v1/store/backup", { parseAs: "stream" })
  const body = await must(call)
  const { response } = await call
  if (body === null) throw new CliError("the service sent no backup")
  try {
    await pipeline(Readable.fromWeb(body as WebReadableStream<Uint8Array>), createWriteStream(partial, { mode: 0o600 }))
  } catch (e) {
    rmSync(partial, { force: true })
    throw e
  }
  renameSync(partial, target)
  const events = response.headers.get("x-agentlog-events") ?? "?"
  if (json) out(JSON.stringify({ file: target, events: Number(events) }))
  else out(`backed up ${events} events to ${target} (check it with: agentlog verify ${file})`)
  return 0
}
