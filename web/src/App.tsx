// The page's frame: the header (search, live state, new session), the routes, the `?`
// overlay, and the login when the service asks for one.
import { useQuery, useQueryClient } from "@tanstack/react-query"
import { lazy, Suspense, useEffect, useMemo, useRef, useState } from "react"
import { client, ok, onUnauthorized } from "./api.ts"
import { ConnectionState } from "./components/Connection.tsx"
import { shortcuts, useKeys } from "./keys.ts"
import { useListFeed } from "./live.ts"
import { Palette, type PaletteAction } from "./palette.tsx"
import { navigate, useLocation } from "./router.ts"
import { Login } from "./screens/Login.tsx"
import { link, SessionsScreen, usePendingApprovals } from "./screens/Sessions.tsx"

// The first screen ships without the transcript's markdown, highlighting and diffs.
const SessionView = lazy(() => import("./screens/SessionView.tsx").then((m) => ({ default: m.SessionView })))
const NewSessionScreen = lazy(() => import("./screens/NewSession.tsx").then((m) => ({ default: m.NewSessionScreen })))
const AuditScreen = lazy(() => import("./screens/Audit.tsx").then((m) => ({ default: m.AuditScreen })))

export const App = () => {
  const queryClient = useQueryClient()
  const auth = useQuery({ queryKey: ["web-session"], queryFn: ({ signal }) => ok(client.GET("/v1/web/session", { signal })), staleTime: Infinity, retry: 1 })
  useEffect(() => onUnauthorized(() => void queryClient.invalidateQueries({ queryKey: ["web-session"] })), [queryClient])
  // The page does not wait for this answer before asking for its data (one round trip less
  // on the first screen): without a token it is never needed, and with one a 401 brings it back.
  if (auth.error) return <p className="boot error">The service cannot be reached: {auth.error.message}</p>
  if (auth.data?.authRequired && !auth.data.authenticated)
    return (
      <Login
        onDone={() => {
          queryClient.setQueryData(["web-session"], { authRequired: true, authenticated: true })
          void queryClient.invalidateQueries()
        }}
      />
    )
  return <Shell />
}

const Shell = () => {
  const { path } = useLocation()
  const searchRef = useRef<HTMLInputElement>(null)
  const [help, setHelp] = useState(false)
  const [palette, setPalette] = useState(false)
  // Ctrl/⌘+K opens the palette from anywhere, a field included (single keys stay letters there).
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === "k") {
        e.preventDefault()
        setHelp(false)
        setPalette((p) => !p)
      }
    }
    window.addEventListener("keydown", onKey)
    return () => window.removeEventListener("keydown", onKey)
  }, [])
  const focusSearch = () => {
    if (path !== "/") navigate("/")
    setTimeout(() => searchRef.current?.focus(), 0)
  }
  const places = useMemo(
    (): ReadonlyArray<PaletteAction> => [
      { id: "go:sessions", group: "Go to", label: "Sessions", keys: "g s", run: () => navigate("/") },
      { id: "go:audit", group: "Go to", label: "Audit", keys: "g u", run: () => navigate("/audit") },
      { id: "go:new", group: "Do", label: "New session", keys: "c", run: () => navigate("/new") },
      { id: "do:search", group: "Do", label: "Search sessions", keys: "/", run: focusSearch },
      { id: "do:help", group: "Help", label: "Keyboard shortcuts", keys: "?", run: () => setHelp(true) }
    ],
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [path]
  )
  const [g, setG] = useState(false)
  const pending = usePendingApprovals()
  const queryClient = useQueryClient()
  const connection = useListFeed(() => {
    void queryClient.invalidateQueries({ queryKey: ["sessions"] })
    void queryClient.invalidateQueries({ queryKey: ["approvals"] })
  })
  useKeys({
    "?": () => setHelp((h) => !h),
    Escape: () => setHelp(false),
    c: () => path !== "/" && path !== "/new" && !path.startsWith("/sessions/") && navigate("/new"),
    "/": focusSearch,
    g: () => {
      setG(true)
      setTimeout(() => setG(false), 1000)
    },
    s: () => g && navigate("/"),
    u: () => g && navigate("/audit")
  })
  const session = /^\/sessions\/([0-9a-f-]{36})$/.exec(path)?.[1]
  const count = pending.data?.items.length ?? 0
  return (
    <>
      <a href="#content" className="skip">
        Skip to content
      </a>
      <header className="top">
        <h1>
          <a href="/" onClick={link("/")}>
            agentlog
          </a>
        </h1>
        <nav aria-label="Main">
          <a href="/" onClick={link("/")} aria-current={path === "/" ? "page" : undefined}>
            Sessions{count > 0 && <span className="chip waiting" aria-label={`${count} approvals waiting`}>{count}</span>}
          </a>
          <a href="/audit" onClick={link("/audit")} aria-current={path === "/audit" ? "page" : undefined}>
            Audit
          </a>
        </nav>
        <span className="spacer" />
        <ConnectionState connection={connection} title="the lists follow GET /v1/events/live" />
        <button type="button" className="quiet" onClick={() => setPalette(true)} title="Command palette">
          <kbd>Ctrl/⌘ K</kbd>
          <span className="sr-only"> command palette</span>
        </button>
        <button type="button" className="quiet" onClick={() => setHelp(true)} aria-label="Keyboard shortcuts">
          <kbd>?</kbd>
        </button>
        <button type="button" className="primary" onClick={() => navigate("/new")}>
          New session <kbd>c</kbd>
        </button>
      </header>
      <div id="content">
        <Suspense fallback={<p className="boot">Loading…</p>}>
          {path === "/new" ? (
            <NewSessionScreen />
          ) : path === "/audit" ? (
            <AuditScreen />
          ) : session ? (
            <SessionView key={session} sessionId={session} />
          ) : (
            <SessionsScreen searchRef={searchRef} />
          )}
        </Suspense>
      </div>
      {help && <Help onClose={() => setHelp(false)} />}
      {palette && <Palette base={places} onClose={() => setPalette(false)} />}
    </>
  )
}

const Help = ({ onClose }: { onClose: () => void }) => {
  const ref = useRef<HTMLDialogElement>(null)
  useEffect(() => {
    ref.current?.showModal()
  }, [])
  return (
    <dialog ref={ref} className="help" aria-labelledby="help-h" onClose={onClose}>
      <h2 id="help-h">Keyboard shortcuts</h2>
      <table>
        <tbody>
          {shortcuts.map(([where, key, what]) => (
            <tr key={where + key}>
              <td className="muted">{where}</td>
              <td>
                <kbd>{key}</kbd>
              </td>
              <td>{what}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <form method="dialog">
        <button type="submit" autoFocus>
          Close <kbd>Esc</kbd>
        </button>
      </form>
    </dialog>
  )
}
