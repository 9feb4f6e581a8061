// The CLI's side of the HTTP API: where the service is (AGENTLOG_URL), the token
// (AGENTLOG_API_TOKEN), JSON requests, and a problem+json answer turned into one error
// that says what the service said.

export interface Client {
  readonly url: string
  getJson(path: string): Promise<unknown>
  /** POSTs a JSON body; the answer's JSON. */
  postJson(path: string, body: unknown): Promise<unknown>
  /** A raw request (for streams); throws CliError on a non-2xx answer. */
  open(path: string, headers?: Record<string, string>, signal?: AbortSignal): Promise<Response>
}

/** An error meant for the person at the terminal: printed as is, no stack. */
export class CliError extends Error {
  readonly exitCode: number
  constructor(message: string, exitCode = 1) {
    super(message)
    this.exitCode = exitCode
  }
}

const problemText = async (r: Response): Promise<string> => {
  const text = await r.text()
  try {
    const p = JSON.parse(text) as { title?: string; detail?: string }
    return p.detail ?? p.title ?? text
  } catch {
    return text.slice(0, 500)
  }
}

export const makeClient = (env: NodeJS.ProcessEnv = process.env): Client => {
  const url = (env.AGENTLOG_URL || "http://127.0.0.1:7420").replace(/\/+$/, "")
  const token = env.AGENTLOG_API_TOKEN || undefined
  const request = async (path: string, init: { headers?: Record<string, string>; signal?: AbortSignal; body?: unknown }) => {
    const { headers = {}, signal, body } = init
    let r: Response
    try {
      r = await fetch(`${url}${path}`, {
        method: body === undefined ? "GET" : "POST",
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body === undefined ? {} : { "content-type": "application/json" }),
          ...headers
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        ...(signal ? { signal } : {})
      })
    } catch (e) {
      if (signal?.aborted) throw e
      throw new CliError(`cannot reach agentlog at ${url} (${(e as { cause?: { code?: string } }).cause?.code ?? String(e)}); is it running? (AGENTLOG_URL)`)
    }
    if (!r.ok) throw new CliError(`${r.status}: ${await problemText(r)}`)
    return r
  }
  return {
    url,
    open: (path, headers = {}, signal) => request(path, { headers, ...(signal ? { signal } : {}) }),
    getJson: async (path) => (await request(path, { headers: { accept: "application/json" } })).json(),
    postJson: async (path, body) => (await request(path, { headers: { accept: "application/json" }, body })).json()
  }
}
