// With AGENTLOG_API_TOKEN set, the page asks for the token once and trades it for an
// HttpOnly session cookie (POST /v1/web/session). The token is sent in that body only:
// never put in a URL, stored, or kept in memory after the answer.
import { useRef, useState } from "react"
import { client } from "../api.ts"

export const Login = ({ onDone }: { onDone: () => void }) => {
  const [error, setError] = useState<string | null>(null)
  const [sending, setSending] = useState(false)
  const input = useRef<HTMLInputElement>(null)
  const submit = async (e: React.FormEvent) => {
    e.preventDefault()
    const token = input.current?.value ?? ""
    setSending(true)
    setError(null)
    try {
      const { response: res } = await client.POST("/v1/web/session", { body: { token } })
      if (input.current) input.current.value = ""
      if (res.ok) return onDone()
      setError(res.status === 401 ? "That token is not right. Use the value of AGENTLOG_API_TOKEN the service was started with." : `The service answered ${res.status}.`)
      input.current?.focus()
    } catch {
      setError("The service cannot be reached.")
    } finally {
      setSending(false)
    }
  }
  return (
    <main className="login">
      <form onSubmit={submit}>
        <h2>Sign in to agentlog</h2>
        <p className="muted">This service needs its API token. The page keeps a session cookie, not the token.</p>
        <div className="field">
          <label htmlFor="token">API token</label>
          <input id="token" ref={input} type="password" autoComplete="current-password" autoFocus required aria-invalid={error !== null} aria-describedby="token-error" />
          {error && (
            <p className="error" id="token-error" role="alert">
              {error}
            </p>
          )}
        </div>
        <button type="submit" className="primary" disabled={sending}>
          Sign in
        </button>
      </form>
    </main>
  )
}
