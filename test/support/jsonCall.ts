// One JSON request to a service under test: the body sent as JSON, the answer parsed when
// it is JSON or problem+json, with its status and headers. Every answer is checked against
// the OpenAPI document (a mismatch fails the test).
import { checkAgainstDocument } from "./openApiCheck.ts"

export interface JsonAnswer {
  readonly status: number
  readonly headers: Headers
  readonly text: string
  readonly body: any
}

export const jsonCall = async (
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {}
): Promise<JsonAnswer> => {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {})
  })
  const text = await res.text()
  checkAgainstDocument(method, res.url, res.status, res.headers, text)
  const json = /^application\/(problem\+)?json/.test(res.headers.get("content-type") ?? "")
  return { status: res.status, headers: res.headers, text, body: text && json ? JSON.parse(text) : undefined }
}
