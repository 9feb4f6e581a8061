// GET /openapi.json: an OpenAPI 3.1 document generated from the route table, with every
// body, query and response schema compiled from the same Effect schemas the handlers
// decode with (Schema.toJsonSchemaDocument). Bodies are documented as strict
// (additionalProperties: false), matching the decoder's onExcessProperty: "error".
import { Schema } from "effect"
import { EmptyBody } from "./bodies.ts"
import { allRoutes, type RouteSpec } from "./routes.ts"

type Json = Record<string, unknown>

const headerDocs: Record<string, Json> = {
  "If-Match": {
    name: "If-Match",
    in: "header",
    required: false,
    description: 'Apply only if the session is still at this revision: `"<revision>"` (the ETag of GET /v1/sessions/{id}). 412 otherwise.',
    schema: { type: "string" }
  },
  "Idempotency-Key": {
    name: "Idempotency-Key",
    in: "header",
    required: false,
    description: "Retries with the same key and body get the first answer; nothing runs twice. The same key with another body: 422.",
    schema: { type: "string", minLength: 1, maxLength: 255 }
  },
  "Last-Event-ID": {
    name: "Last-Event-ID",
    in: "header",
    required: false,
    description: "Resume after this revision (sent by EventSource on reconnect).",
    schema: { type: "string" }
  }
}

const responseHeaderDocs: Record<string, Json> = {
  ETag: { description: 'The session\'s revision as a strong ETag, `"<revision>"`.', schema: { type: "string" } },
  "Retry-After": { description: "Seconds to wait before retrying.", schema: { type: "integer" } },
  Allow: { description: "The methods the path supports.", schema: { type: "string" } },
  "Idempotent-Replayed": { description: "true when this is the stored answer to an earlier request.", schema: { type: "string" } }
}

const toRefs = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.map(toRefs)
  if (typeof v !== "object" || v === null) return v
  return Object.fromEntries(
    Object.entries(v).map(([k, x]) => [
      k,
      k === "$ref" && typeof x === "string" ? x.replace(/^#\/\$defs\//, "#/components/schemas/") : toRefs(x)
    ])
  )
}

export const buildOpenApi = (routes: ReadonlyArray<RouteSpec> = allRoutes, info: { version?: string } = {}): Json => {
  const components: Record<string, unknown> = {}
  const compile = (schema: Schema.Top, strict: boolean): Json => {
    const doc = Schema.toJsonSchemaDocument(schema, strict ? { onExcessProperty: "error" } : {})
    for (const [name, def] of Object.entries(doc.definitions)) components[name] = toRefs(def)
    return toRefs(doc.schema) as Json
  }
  // Query parameters are the properties of the query schema.
  const queryParameters = (schema: Schema.Top): Array<Json> => {
    const doc = Schema.toJsonSchemaDocument(schema)
    const s = doc.schema as { properties?: Record<string, Json>; required?: Array<string> }
    return Object.entries(s.properties ?? {}).map(([name, p]) => ({
      name,
      in: "query",
      required: (s.required ?? []).includes(name),
      ...(typeof p.description === "string" ? { description: p.description } : {}),
      schema: toRefs(p)
    }))
  }

  const paths: Record<string, Record<string, unknown>> = {}
  for (const r of routes) {
    const path = r.path.replace(/:([A-Za-z]+)/g, "{$1}")
    const pathParams = [...r.path.matchAll(/:([A-Za-z]+)/g)].map((m) => ({
      name: m[1],
      in: "path",
      required: true,
      description: "A UUID (anything else is 404).",
      schema: { type: "string", format: "uuid" }
    }))
    const responses: Record<string, unknown> = {}
    for (const [status, spec] of Object.entries(r.responses)) {
      const code = Number(status)
      const contentType = spec.contentType ?? (code >= 400 ? "application/problem+json" : "application/json")
      responses[status] = {
        description: spec.description,
        ...(spec.headers ? { headers: Object.fromEntries(spec.headers.map((h) => [h, responseHeaderDocs[h]])) } : {}),
        ...(spec.schema || contentType === "application/json"
          ? {
              content: {
                [contentType]: spec.schema ? { schema: compile(spec.schema, false) } : {},
                ...Object.fromEntries(
                  Object.entries(spec.alternatives ?? {}).map(([type, schema]) => [type, { schema: compile(schema, false) }])
                )
              }
            }
          : {})
      }
    }
    paths[path] ??= {}
    paths[path][r.method.toLowerCase()] = {
      operationId: r.operationId,
      summary: r.summary,
      tags: [r.tag],
      ...(r.auth ? {} : { security: [] }),
      parameters: [
        ...pathParams,
        ...(r.query ? queryParameters(r.query) : []),
        ...(r.requestHeaders ?? []).map((h) => headerDocs[h])
      ],
      ...(r.body
        ? {
            requestBody: {
              required: r.body !== EmptyBody,
              content: { "application/json": { schema: compile(r.body, true) } }
            }
          }
        : {}),
      responses
    }
  }

  return {
    openapi: "3.1.0",
    info: {
      title: "agentlog",
      version: info.version ?? "0.1.0",
      description:
        "Runs Claude Code sessions and keeps an append-only, replayable record of each. Commands answer 202 with the position they appended at; reads accept minPosition to read their writes. Errors are application/problem+json."
    },
    servers: [{ url: "/" }],
    security: [{ bearer: [] }],
    tags: [
      { name: "sessions" },
      { name: "events" },
      { name: "audit" },
      { name: "approvals" },
      { name: "service" }
    ],
    paths,
    components: {
      schemas: components,
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "AGENTLOG_API_TOKEN, when the service has one." }
      }
    }
  }
}
