// Every answer a test receives, checked against the service's OpenAPI document: the status
// is one the operation lists (405 with Allow for a method the path lacks), the content type
// one it describes, JSON bodies validate (ajv, draft 2020-12, formats), and the headers the
// document knows of are only sent where it says. A mismatch throws, so the test fails.
// The shared request helpers (jsonCall, the HTTP harness's fetch) call it on every answer.
import { Ajv2020 } from "ajv/dist/2020.js"
import addFormatsModule from "ajv-formats"
import { buildOpenApi } from "../../src/http/openapi.ts"

type Json = Record<string, any>

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020

const documentId = "https://agentlog.invalid/openapi.json"
/** Headers the document describes: sending one where it is not documented is a mismatch. */
const describedHeaders = ["etag", "retry-after", "allow", "idempotent-replayed", "www-authenticate"]

let state: { doc: Json; ajv: Ajv2020; paths: Array<{ template: string; pattern: RegExp }> } | undefined
const load = () => {
  if (state) return state
  const doc = buildOpenApi() as Json
  const ajv = new Ajv2020({ strict: false, allErrors: true })
  addFormats(ajv)
  ajv.addSchema({ ...doc, $id: documentId })
  const paths = Object.keys(doc.paths).map((template) => ({
    template,
    pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+")}$`)
  }))
  state = { doc, ajv, paths }
  return state
}

const pointer = (...parts: ReadonlyArray<string>): string =>
  "#/" + parts.map((p) => p.replaceAll("~", "~0").replaceAll("/", "~1")).join("/")

/** Throws when the answer is not what the document says `method path` can answer. */
export const checkAgainstDocument = (
  method: string,
  url: string,
  status: number,
  headers: Headers,
  body: string | undefined
): void => {
  const { doc, ajv, paths } = load()
  const pathname = new URL(url, "http://x").pathname
  const where = `${method} ${pathname} -> ${status}`
  const path = paths.find((p) => p.pattern.test(pathname))
  // A path the document does not have (a 404 for a route that does not exist) has nothing to check.
  if (path === undefined) return
  const op = doc.paths[path.template][method.toLowerCase()] as Json | undefined
  let responsePointer: Array<string>
  let response: Json | undefined
  if (op === undefined) {
    const name = status === 405 ? "MethodNotAllowed" : status === 401 ? "Unauthorized" : status === 403 ? "Forbidden" : undefined
    if (name === undefined) throw new Error(`${where}: the document has no ${method} here, so the answer must be 405 (or 401)`)
    response = doc.components.responses[name]
    responsePointer = ["components", "responses", name]
  } else {
    response = op.responses[String(status)]
    responsePointer = ["paths", path.template, method.toLowerCase(), "responses", String(status)]
    const ref = response?.$ref as string | undefined
    if (ref !== undefined) {
      responsePointer = ref.slice(2).split("/")
      response = doc.components.responses[responsePointer.at(-1)!]
    }
  }
  if (response === undefined)
    throw new Error(`${where}: status ${status} is not documented (documented: ${Object.keys(op!.responses).join(", ")})`)

  for (const h of describedHeaders)
    if (headers.has(h) && !Object.keys(response.headers ?? {}).some((k) => k.toLowerCase() === h))
      throw new Error(`${where}: sends ${h} which the document does not describe for this answer`)

  if (method === "HEAD" || status === 204) return
  const contentType = (headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase()
  const content = response.content as Json | undefined
  if (content === undefined || !(contentType in content))
    throw new Error(`${where}: content type ${contentType || "(none)"} is not documented (${Object.keys(content ?? {}).join(", ")})`)
  // NDJSON and SSE are documented as text: their lines are checked by the tests that read them.
  if (!/^application\/(?:problem\+)?json$/.test(contentType) || body === undefined) return
  const validate = ajv.getSchema(documentId + pointer(...responsePointer, "content", contentType, "schema"))
  if (validate === undefined) throw new Error(`${where}: no schema for ${contentType}`)
  let value: unknown
  try {
    value = JSON.parse(body)
  } catch {
    throw new Error(`${where}: the body is not JSON: ${body.slice(0, 200)}`)
  }
  if (!validate(value))
    throw new Error(
      `${where}: the body does not match the document: ${ajv.errorsText(validate.errors, { separator: "; " })}\n${body.slice(0, 500)}`
    )
}

/** The check for a fetch Response: reads a JSON body from a clone (streams are left alone). */
export const checkResponse = async (method: string, res: Response): Promise<void> => {
  const contentType = res.headers.get("content-type") ?? ""
  const json = /^application\/(?:problem\+)?json/.test(contentType)
  const body = json && method !== "HEAD" ? await res.clone().text() : undefined
  checkAgainstDocument(method, res.url, res.status, res.headers, body)
}
