// The CLI's side of the HTTP API, typed by the OpenAPI document (src/http/api.generated.ts,
// `npm run api:types`): where the service is (AGENTLOG_URL), the token
// (AGENTLOG_API_TOKEN), and a problem+json answer turned into one error that says what the
// service said. The document is what the CLI lives on: a change to a response the CLI
// reads fails `npm run typecheck` here.
import createClient from "openapi-fetch"
import type { components, paths } from "../http/api.generated.ts"

export type Schemas = components["schemas"]
export type Api = ReturnType<typeof createClient<paths, "application/json" | "application/problem+json">>

export interface Client {
  readonly url: string
  readonly api: Api
}

/** An error meant for the person at the terminal: printed as is, no stack. */
export class CliError extends Error {
  readonly exitCode: number
  constructor(message: string, exitCode = 1) {
    super(message)
    this.exitCode = exitCode
  }
}

const problemText = (error: unknown): string => {
  if (typeof error === "string") return error.slice(0, 500)
  if (typeof error === "object" && error !== null) {
    if ("detail" in error && typeof error.detail === "string") return error.detail
    if ("title" in error && typeof error.title === "string") return error.title
  }
  return JSON.stringify(error)
}

/** The answer's body; a refusal (4xx/5xx) becomes a CliError carrying the problem's detail. */
export const must = async <T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> => {
  const { data, error, response } = await call
  if (response.ok && data !== undefined) return data
  throw new CliError(`${response.status}: ${problemText(error)}`)
}

export const makeClient = (env: NodeJS.ProcessEnv = process.env): Client => {
  const url = (env.AGENTLOG_URL || "http://127.0.0.1:7420").replace(/\/+$/, "")
  const token = env.AGENTLOG_API_TOKEN || undefined
  const api: Api = createClient<paths, "application/json" | "application/problem+json">({
    baseUrl: url,
    ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
    fetch: async (request) => {
      try {
        return await fetch(request)
      } catch (e) {
        if (request.signal.aborted) throw e
        throw new CliError(`cannot reach agentlog at ${url} (${(e as { cause?: { code?: string } }).cause?.code ?? String(e)}); is it running? (AGENTLOG_URL)`)
      }
    }
  })
  return { url, api }
}
