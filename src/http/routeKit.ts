// The one adapter between Hono and a route of the table: it decodes the request's input
// (the path id, the query, the body and the headers) with the route's schemas, runs the
// handler's Effect once, encodes the answer with the route's response schema, and maps a
// failure to its problem through problem.ts's exhaustive mapping. Plus the small pieces
// handlers share: the command context, cwd, cursors and minPosition.
import * as fs from "node:fs/promises"
import * as path from "node:path"
import type { Context, Hono } from "hono"
import { Effect, Result, Schema } from "effect"
import type { CommandContext, CommandOutcome } from "../commands/sessionCommands.ts"
import type { Position } from "../eventstore/eventStore.ts"
import { decodePosition, encodePosition } from "../eventstore/position.ts"
import { answerEncoder } from "./answerEncoder.ts"
import { decodeBody, decodeHeaders, decodeQuery } from "./bodies.ts"
import { requireRole } from "./auth.ts"
import { etagOf } from "./conditions.ts"
import type { HttpDeps } from "./deps.ts"
import type { HttpEnv } from "./env.ts"
import { type AppError, badRequest, HttpProblem, notFound, notReady, problemResponse, toProblem, validationFailed } from "./problem.ts"
import { readJsonBody } from "./readBody.ts"
import type { RouteSpec } from "./routes.ts"

export type Ctx = Context<HttpEnv>

type TypeOf<S> = S extends Schema.Top ? S["Type"] : undefined

/** What a handler gets: its input decoded with the route's schemas. */
export interface Input<R extends RouteSpec> {
  readonly c: Ctx
  /** The `:id` of the path, a lowercase UUID ("" for routes without one). */
  readonly id: string
  readonly query: TypeOf<R["query"]>
  readonly body: TypeOf<R["body"]>
  /** If-Match as a revision (absent or `*`: undefined). */
  readonly ifMatch: bigint | undefined
  readonly idempotencyKey: string | undefined
  readonly lastEventId: number | undefined
  readonly signal: AbortSignal
}

/**
 * The read models type some fields more loosely than the resources do (a status as a
 * string, not one of the statuses): a body may be as loose, the adapter checks it against
 * the schema when it encodes it (a row that does not fit is a bug: a logged 500).
 */
type Loose<T> = T extends string
  ? string
  : T extends number
    ? number
    : T extends boolean
      ? boolean
      : T extends ReadonlyArray<infer U>
        ? ReadonlyArray<Loose<U>>
        : T extends object
          ? string extends keyof T
            ? unknown // a JSON object of any shape (event data): checked when encoded
            : { readonly [K in keyof T]: Loose<T[K]> }
          : T

/** An answer the route's table entry describes: a status it lists, with a body of its schema. */
export type Reply<R extends RouteSpec> =
  | {
      [K in keyof R["responses"]]: R["responses"][K] extends { readonly schema: infer S extends Schema.Top }
        ? { readonly status: K; readonly body: Loose<S["Type"]>; readonly headers?: Readonly<Record<string, string>> }
        : never
    }[keyof R["responses"]]
  /** Streams (NDJSON, SSE) and bodiless answers (HEAD) go out as they are. */
  | Response

export type Handler<R extends RouteSpec> = (
  input: Input<R>
) => Effect.Effect<Reply<R>, AppError> | Promise<Reply<R>>

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

// The answers' schemas transform nothing (Type is Encoded): checking a body and keeping
// only the fields the schema names is the encoding (see answerEncoder.ts).
const encoders = new WeakMap<Schema.Top, (a: unknown) => unknown>()
const encoderOf = (schema: Schema.Top): ((a: unknown) => unknown) => {
  let e = encoders.get(schema)
  if (e === undefined) encoders.set(schema, (e = answerEncoder(schema)))
  return e
}

export type Handle = <R extends RouteSpec>(route: R, handler: Handler<R>) => void

/** `handle(route, handler)` registers a handler for a route of the table: the only way a route is served. */
export const router = (app: Hono<HttpEnv>, deps: HttpDeps): Handle => <R extends RouteSpec>(route: R, handler: Handler<R>) => {
  const what = route.path.startsWith("/v1/approvals") ? "approval" : route.path.startsWith("/v1/webhooks") ? "webhook" : "session"
  const takesIfMatch = route.requestHeaders?.includes("If-Match") === true
  app.on(route.method, route.path, async (c) => {
    requireRole(c, route)
    let id = ""
    if (route.path.includes(":id")) {
      const raw = c.req.param("id") ?? ""
      if (!uuid.test(raw)) throw notFound(`no ${what} ${JSON.stringify(raw.slice(0, 100))}`)
      id = raw.toLowerCase()
    }
    const query = decodeQuery(route.query, new URL(c.req.url))
    let body: unknown = undefined
    if (route.body !== undefined) {
      const json = await readJsonBody(c.req.raw, deps.config.maxBodyBytes)
      body = decodeBody(route.body as Schema.Decoder<unknown>, json === undefined ? {} : json)
    }
    if (!takesIfMatch && route.method !== "GET" && c.req.header("if-match") !== undefined)
      throw badRequest(`${route.method} ${route.path} does not take If-Match`)
    const headers = decodeHeaders(route.requestHeaders ?? [], (name) => c.req.header(name))
    const ifMatchHeader = headers["If-Match"]
    const ifMatch = ifMatchHeader === undefined || ifMatchHeader === "*" ? undefined : BigInt(ifMatchHeader.slice(1, -1))
    if (ifMatch !== undefined) c.set("ifMatch", true)

    const input = {
      c,
      id,
      query,
      body,
      ifMatch,
      idempotencyKey: headers["Idempotency-Key"],
      lastEventId: headers["Last-Event-ID"],
      signal: c.req.raw.signal
    } as Input<R>
    const run = handler(input)
    let reply: Reply<R>
    if (Effect.isEffect(run)) {
      const r = await Effect.runPromise(Effect.result(run), { signal: c.req.raw.signal })
      if (Result.isFailure(r)) {
        // Failures are values of AppError: mapped here, exhaustively; defects reject
        // runPromise and reach the app's error handler (a logged 500).
        const p = toProblem(r.failure, { ifMatch: ifMatch !== undefined })
        if (p.internal) throw r.failure
        return problemResponse(p.problem, p.headers, { instance: c.req.path, requestId: c.get("requestId") })
      }
      reply = r.success
    } else reply = await run
    if (reply instanceof Response) return reply
    const status = reply.status as unknown as number
    const spec = route.responses[status]
    if (spec?.schema === undefined) throw new Error(`${route.operationId}: no schema for status ${status}`)
    for (const [k, v] of Object.entries(reply.headers ?? {})) c.header(k, v)
    return c.json(encoderOf(spec.schema)(reply.body) as object, status as 200)
  })
}

/**
 * A 200 whose JSON a read model wrote as text, for answers too large to build as objects
 * and encode (a long transcript): it does not pass through the answer's schema here, so
 * the read model's tests hold its text to that schema (every test answer is checked
 * against the OpenAPI document too).
 */
export const jsonText = (c: Ctx, json: string): Response => c.body(json, 200, { "Content-Type": "application/json" })

export const commandContext = (c: Ctx): CommandContext => ({
  correlationId: c.get("requestId"),
  source: "api",
  actor: c.get("principal").name
})

/** A directory a session names must be an absolute path to an existing directory on this machine. */
const checkDirectory = (pointer: string, dir: string): Effect.Effect<void, HttpProblem> =>
  Effect.gen(function* () {
    const refuse = (message: string) => Effect.fail(validationFailed(`${pointer}: ${dir} ${message}`, [{ path: pointer, message }]))
    // A relative path would name a directory relative to wherever the service was started.
    if (!path.isAbsolute(dir)) return yield* refuse("is not an absolute path")
    const stat = yield* Effect.promise(() => fs.stat(dir).catch(() => null))
    if (stat === null) return yield* refuse("does not exist")
    if (!stat.isDirectory()) return yield* refuse("is not a directory")
  })

/** The directories of a launch, continue, fork or draft: cwd and additionalDirectories. */
export const checkDirectories = (o: {
  readonly cwd?: string | undefined
  readonly additionalDirectories?: ReadonlyArray<string> | undefined
}): Effect.Effect<void, HttpProblem> =>
  Effect.gen(function* () {
    if (o.cwd !== undefined) yield* checkDirectory("/cwd", o.cwd)
    for (const [i, dir] of (o.additionalDirectories ?? []).entries()) yield* checkDirectory(`/additionalDirectories/${i}`, dir)
  })

export const decodeCursorParam = (name: string, cursor: string): Effect.Effect<Position, HttpProblem> => {
  const p = decodePosition(cursor)
  const message = "is not a position this API issued"
  return p === null ? Effect.fail(validationFailed(`${name} ${message}`, [{ path: `?${name}`, message }])) : Effect.succeed(p)
}

/** Read-your-writes: waits (bounded) until the read models passed minPosition, else 503. */
export const awaitMinPosition = (deps: HttpDeps, minPosition: string | undefined): Effect.Effect<void, HttpProblem> =>
  Effect.gen(function* () {
    if (minPosition === undefined) return
    const p = yield* decodeCursorParam("minPosition", minPosition)
    const reached = yield* deps.projections.waitForPosition(p, deps.config.readWaitMs)
    if (!reached)
      return yield* Effect.fail(
        notReady(
          `the read models did not reach position ${minPosition} within ${deps.config.readWaitMs} ms; retry`,
          Math.max(1, Math.ceil(deps.config.readWaitMs / 1000))
        )
      )
  })

/** The 202 answer to a command: ids, the status it left, where it appended. */
export const acceptedBody = <X extends object = {}>(outcome: CommandOutcome, extra?: X) => ({
  sessionId: outcome.sessionId,
  runId: outcome.state.runId,
  status: outcome.state.status,
  position: outcome.position === null ? null : encodePosition(outcome.position),
  revision: outcome.revision === null ? null : Number(outcome.revision),
  ...(extra as X)
})

/** 202 with the session's new revision as ETag (and Idempotent-Replayed on a replay). */
export const accepted = <B extends { readonly revision?: number | null }>(body: B, replayed = false) => ({
  status: 202 as const,
  body,
  headers: {
    ...(typeof body.revision === "number" ? { ETag: etagOf(body.revision) } : {}),
    ...(replayed ? { "Idempotent-Replayed": "true" } : {})
  }
})
