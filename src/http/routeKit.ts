// Small helpers the route modules share: registering a handler for a route of the table,
// ids in paths, the command context, bodies, If-Match and minPosition.
import * as fs from "node:fs/promises"
import * as path from "node:path"
import type { Context, Handler, Hono } from "hono"
import type { Schema } from "effect"
import type { CommandContext, CommandOutcome } from "../commands/sessionCommands.ts"
import type { Position } from "../eventstore/eventStore.ts"
import { decodePosition, encodePosition } from "../eventstore/position.ts"
import { decodeBody } from "./bodies.ts"
import { etagOf, parseIfMatch } from "./conditions.ts"
import type { HttpDeps } from "./deps.ts"
import { type HttpEnv, runEffect } from "./env.ts"
import { badRequest, notFound, notReady, validationFailed } from "./problem.ts"
import { readJsonBody } from "./readBody.ts"
import type { RouteSpec } from "./routes.ts"

export type Ctx = Context<HttpEnv>

export const on = (app: Hono<HttpEnv>, route: RouteSpec, handler: Handler<HttpEnv>): void => {
  app.on(route.method, route.path, handler)
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** The `:id` of the path as a lowercase UUID; anything else names nothing (404). */
export const pathId = (c: Ctx, what: "session" | "approval" = "session"): string => {
  const id = c.req.param("id") ?? ""
  if (!uuid.test(id)) throw notFound(`no ${what} ${JSON.stringify(id.slice(0, 100))}`)
  return id.toLowerCase()
}

export const commandContext = (c: Ctx): CommandContext => ({ correlationId: c.get("requestId"), source: "api" })

/** The request body decoded with `schema` (no body decodes as `{}` for bodiless commands). */
export const body = async <S extends Schema.Decoder<unknown>>(c: Ctx, deps: HttpDeps, schema: S): Promise<S["Type"]> => {
  const json = await readJsonBody(c.req.raw, deps.config.maxBodyBytes)
  return decodeBody(schema, json === undefined ? {} : json)
}

/** If-Match as a revision (and remembers that it was given, for the 412/409 mapping). */
export const ifMatch = (c: Ctx): bigint | undefined => {
  const r = parseIfMatch(c.req.header("if-match"))
  if (r !== undefined) c.set("ifMatch", true)
  return r
}

/** A session's cwd must be an absolute path to an existing directory on this machine. */
export const checkCwd = async (cwd: string | undefined): Promise<void> => {
  if (cwd === undefined) return
  // A relative path would name a directory relative to wherever the service was started.
  if (!path.isAbsolute(cwd))
    throw validationFailed(`/cwd: ${cwd} is not an absolute path`, [{ path: "/cwd", message: "is not an absolute path" }])
  const stat = await fs.stat(cwd).catch(() => null)
  if (stat === null) throw validationFailed(`/cwd: ${cwd} does not exist`, [{ path: "/cwd", message: "does not exist" }])
  if (!stat.isDirectory())
    throw validationFailed(`/cwd: ${cwd} is not a directory`, [{ path: "/cwd", message: "is not a directory" }])
}

export const decodeCursorParam = (name: string, cursor: string): Position => {
  const p = decodePosition(cursor)
  if (p === null) throw badRequest(`${name} is not a position this API issued`)
  return p
}

/** Read-your-writes: waits (bounded) until the read models passed minPosition, else 503. */
export const awaitMinPosition = async (deps: HttpDeps, minPosition: string | undefined, signal?: AbortSignal): Promise<void> => {
  if (minPosition === undefined) return
  const p = decodeCursorParam("minPosition", minPosition)
  const reached = await runEffect(deps.projections.waitForPosition(p, deps.config.readWaitMs), signal)
  if (!reached)
    throw notReady(
      `the read models did not reach position ${minPosition} within ${deps.config.readWaitMs} ms; retry`,
      Math.max(1, Math.ceil(deps.config.readWaitMs / 1000))
    )
}

/** The 202 answer to a command: ids, the status it left, where it appended. */
export const acceptedBody = (outcome: CommandOutcome, extra: Record<string, unknown> = {}) => ({
  sessionId: outcome.sessionId,
  runId: outcome.state.runId,
  status: outcome.state.status,
  position: outcome.position === null ? null : encodePosition(outcome.position),
  revision: outcome.revision === null ? null : Number(outcome.revision),
  ...extra
})

export const accepted = (c: Ctx, answer: { readonly revision?: unknown }, status = 202): Response => {
  if (typeof answer.revision === "number") c.header("ETag", etagOf(answer.revision))
  return c.json(answer, status as 202)
}
