// The workspace tests' client of a running service: a JSON call, and a wait for a run's end.
import { waitFor } from "../support/waitFor.ts"

export interface Called {
  readonly status: number
  readonly type: string
  readonly text: string
  readonly body: Record<string, any> | undefined
}

const ended = ["completed", "failed", "interrupted", "abandoned"]

export const serviceCalls = (url: () => string) => {
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Called> => {
    const r = await fetch(`${url()}${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { "Content-Type": "application/json" }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    const text = await r.text()
    const type = r.headers.get("content-type") ?? ""
    return { status: r.status, type, text, body: type.includes("json") ? (JSON.parse(text) as Record<string, any>) : undefined }
  }
  /** The session once its `runs`-th run has ended. */
  const settled = (sessionId: string, runs = 1) =>
    waitFor(
      `session ${sessionId} run ${runs} to end`,
      async () => {
        const r = await call("GET", `/v1/sessions/${sessionId}`)
        return r.status === 200 && ended.includes(r.body!.status) && r.body!.runs === runs ? r.body! : undefined
      },
      { timeoutMs: 90_000 }
    )
  return { call, settled }
}
