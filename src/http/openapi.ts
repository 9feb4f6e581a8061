// GET /openapi.json: an OpenAPI 3.1 document generated from the route table, with every
// body, query, header and response schema compiled from the same Effect schemas the
// adapter (routeKit.ts) decodes requests and encodes answers with
// (Schema.toJsonSchemaDocument). Objects are strict (additionalProperties: false): the
// decoder refuses unknown fields, the encoder sends none. HEAD and OPTIONS are derived.
import { Schema } from "effect"
import { EmptyBody, type RequestHeaderName, requestHeaderSchemas } from "./bodies.ts"
import { Problem } from "./responses.ts"
import { allRoutes, type ResponseHeader, type RouteSpec } from "./routes.ts"

type Json = Record<string, unknown>

const responseHeaderDocs: Record<ResponseHeader | "X-Request-Id", Json> = {
  ETag: { description: 'The session\'s revision as a strong ETag, `"<revision>"`: send it back in If-Match.', schema: { type: "string" } },
  "Retry-After": { description: "Seconds to wait before retrying.", schema: { type: "integer", minimum: 1 } },
  Allow: { description: "The methods the path supports, comma separated.", schema: { type: "string" } },
  "Idempotent-Replayed": {
    description: "`true` when this is the stored answer to an earlier request with the same Idempotency-Key (absent otherwise).",
    schema: { type: "string", enum: ["true"] }
  },
  "WWW-Authenticate": { description: 'The scheme to use: `Bearer realm="agentlog"`.', schema: { type: "string" } },
  "X-Request-Id": {
    description: "The request's id (the sane X-Request-Id sent, else a new UUID): in the log, in problems, and the correlationId of what a command appends.",
    schema: { type: "string" }
  }
}

const requestIdParameter: Json = {
  name: "X-Request-Id",
  in: "header",
  required: false,
  description: "Your id for this request (1-128 of A-Z a-z 0-9 . _ : -); echoed back. Anything else is replaced by a new UUID.",
  schema: { type: "string", pattern: "^[A-Za-z0-9._:-]{1,128}$" }
}

/**
 * JSON Schema from Effect, as the document needs it: `$defs` references point into
 * components, and a record of any JSON (tool input, event data, updatedInput) says that
 * it has properties of any kind, where a bare `type: object` would generate `{}`-typed
 * (Record<string, never>) clients.
 */
const toRefs = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.map(toRefs)
  if (typeof v !== "object" || v === null) return v
  const o = Object.fromEntries(
    Object.entries(v).map(([k, x]) => [
      k,
      k === "$ref" && typeof x === "string" ? x.replace(/^#\/\$defs\//, "#/components/schemas/") : toRefs(x)
    ])
  )
  if (o.type === "object" && !("properties" in o) && !("additionalProperties" in o) && !("patternProperties" in o))
    o.additionalProperties = {}
  return o
}

export const buildOpenApi = (routes: ReadonlyArray<RouteSpec> = allRoutes, info: { version?: string } = {}): Json => {
  const components: Record<string, unknown> = {}
  // Answers are encoded with their schemas, which keeps only the fields they name: the
  // document says so (additionalProperties: false), except where a schema says otherwise
  // (problems carry extension members).
  const compile = (schema: Schema.Top): Json => {
    const doc = Schema.toJsonSchemaDocument(schema, { onExcessProperty: "error" })
    for (const [name, def] of Object.entries(doc.definitions)) components[name] = toRefs(def)
    return toRefs(doc.schema) as Json
  }
  const parameters = (schema: Schema.Top, where: "query"): Array<Json> => {
    const doc = Schema.toJsonSchemaDocument(schema)
    for (const [name, def] of Object.entries(doc.definitions)) components[name] = toRefs(def)
    const s = doc.schema as { properties?: Record<string, Json>; required?: Array<string> }
    return Object.entries(s.properties ?? {}).map(([name, p]) => ({
      name,
      in: where,
      required: (s.required ?? []).includes(name),
      ...(typeof p.description === "string" ? { description: p.description } : {}),
      schema: toRefs(p)
    }))
  }
  const headerParameter = (name: RequestHeaderName): Json => {
    const schema = compile(requestHeaderSchemas[name])
    return { name, in: "header", required: false, description: schema.description, schema }
  }
  const headersOf = (names: ReadonlyArray<ResponseHeader | "X-Request-Id">): Json =>
    Object.fromEntries(names.map((h) => [h, responseHeaderDocs[h]]))

  const problemResponse = (description: string, headers: ReadonlyArray<ResponseHeader>): Json => ({
    description,
    headers: headersOf([...headers, "X-Request-Id"]),
    content: { "application/problem+json": { schema: compile(Problem) } }
  })

  const responsesOf = (r: RouteSpec, bodiless: boolean): Json => {
    const responses: Record<string, unknown> = {}
    for (const [status, spec] of Object.entries(r.responses)) {
      const code = Number(status)
      const contentType = spec.contentType ?? (code >= 400 ? "application/problem+json" : "application/json")
      const content = {
        [contentType]: spec.schema ? { schema: compile(spec.schema) } : {},
        ...Object.fromEntries(
          Object.entries(spec.alternatives ?? {}).map(([type, description]) => [type, { schema: { type: "string", description } }])
        )
      }
      responses[status] = {
        description: spec.description,
        headers: headersOf([...(spec.headers ?? []), "X-Request-Id"]),
        ...(bodiless ? {} : { content })
      }
    }
    return responses
  }

  const paths: Record<string, Record<string, unknown>> = {}
  for (const r of routes) {
    const path = r.path.replace(/:([A-Za-z]+)/g, "{$1}")
    const pathParams = [...r.path.matchAll(/:([A-Za-z]+)/g)].map((m) => ({
      name: m[1],
      in: "path",
      required: true,
      description: "A UUID (anything else names nothing: 404).",
      schema: { type: "string", format: "uuid" }
    }))
    const operation = {
      operationId: r.operationId,
      summary: r.summary,
      description: [r.description, r.role === "anyone" ? "Needs no credentials." : `Needs role ${r.role} or above (403 below it).`]
        .filter((d) => d !== undefined)
        .join("\n\n"),
      tags: [r.tag],
      "x-agentlog-role": r.role,
      ...(r.role !== "anyone" ? {} : { security: [] }),
      parameters: [
        ...pathParams,
        ...parameters(r.query, "query"),
        ...(r.requestHeaders ?? []).map(headerParameter),
        requestIdParameter
      ],
      ...(r.body
        ? {
            requestBody: {
              required: r.body !== EmptyBody,
              content: { "application/json": { schema: compile(r.body) } }
            }
          }
        : {}),
      responses: responsesOf(r, false)
    }
    paths[path] ??= {}
    paths[path][r.method.toLowerCase()] = operation
    // HEAD answers as GET does, without a body.
    if (r.method === "GET")
      paths[path].head = {
        ...operation,
        operationId: `${r.operationId}Head`,
        summary: `${r.summary} (headers only)`,
        responses: responsesOf(r, true)
      }
  }
  // OPTIONS on every path: the methods it allows.
  for (const [path, item] of Object.entries(paths)) {
    const methods = [...Object.keys(item).map((m) => m.toUpperCase()), "OPTIONS"]
    const open = Object.values(item).every((op) => Array.isArray((op as Json).security))
    item.options = {
      operationId: `options${path.replace(/[^A-Za-z0-9]+(.)?/g, (_, ch: string | undefined) => (ch ?? "").toUpperCase())}`,
      summary: `The methods ${path} allows (${methods.join(", ")})`,
      tags: ["service"],
      ...(open ? { security: [] } : {}),
      parameters: [...((Object.values(item)[0] as Json).parameters as Array<Json>).filter((p) => p.in === "path"), requestIdParameter],
      responses: {
        204: { description: "No content; Allow lists the methods.", headers: headersOf(["Allow", "X-Request-Id"]) },
        ...(open
          ? {}
          : {
              401: { $ref: "#/components/responses/Unauthorized" },
              403: problemResponse("A foreign Host, or a CORS preflight from an origin not in AGENTLOG_CORS_ORIGINS.", [])
            })
      }
    }
  }

  return {
    openapi: "3.1.0",
    info: {
      title: "agentlog",
      version: info.version ?? "0.1.0",
      description: [
        "Runs Claude Code sessions and keeps an append-only, replayable record of each. Commands answer 202 with the position they appended at; reads accept minPosition to read their writes. Errors are application/problem+json (RFC 9457).",
        "Every route refuses query parameters it does not declare (400). A method a path does not support is 405 with Allow (components.responses.MethodNotAllowed); OPTIONS lists them; HEAD works wherever GET does.",
        "Cursors and positions are opaque tokens the API issued: pass them back unchanged. If-Match takes one strong ETag `\"<revision>\"`; Last-Event-ID is an integer revision."
      ].join("\n\n")
    },
    servers: [{ url: "/" }],
    security: [{ bearer: [] }],
    tags: [
      { name: "sessions" },
      { name: "events" },
      { name: "audit" },
      { name: "approvals" },
      { name: "service" },
      { name: "webhooks" }
    ],
    paths,
    components: {
      schemas: components,
      responses: {
        MethodNotAllowed: problemResponse("The path exists but not with this method (after the bearer token is checked).", ["Allow"]),
        Forbidden: problemResponse("A foreign Host or Origin (checked before the method and the token), or a role below the operation's.", []),
        Unauthorized: problemResponse("Missing or wrong bearer token (checked before anything else, the method included).", [
          "WWW-Authenticate"
        ])
      },
      securitySchemes: {
        bearer: {
          type: "http",
          scheme: "bearer",
          description:
            "AGENTLOG_API_TOKEN (an admin), or an API key made with `npm run keys` (its owner's role: viewer < operator < approver < admin; each operation's x-agentlog-role names the least it needs)."
        }
      }
    }
  }
}
