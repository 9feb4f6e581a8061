// The page's routes live in the URL path (the server answers index.html for them):
// /, /new, /sessions/:id (?tab=history&rev=N), /audit.
import { useSyncExternalStore } from "react"

const listeners = new Set<() => void>()
const notify = () => listeners.forEach((l) => l())
window.addEventListener("popstate", notify)

const subscribe = (l: () => void) => {
  listeners.add(l)
  return () => listeners.delete(l)
}
const snapshot = () => location.pathname + location.search

export const navigate = (to: string, replace = false): void => {
  if (to === snapshot()) return
  if (replace) history.replaceState(null, "", to)
  else history.pushState(null, "", to)
  notify()
}

export interface Location {
  readonly path: string
  readonly params: URLSearchParams
}

export const useLocation = (): Location => {
  const s = useSyncExternalStore(subscribe, snapshot)
  const u = new URL(s, "http://x")
  return { path: u.pathname, params: u.searchParams }
}
