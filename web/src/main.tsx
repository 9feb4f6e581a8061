// The app, evaluated after boot.ts (the entry) has sent the first screen's reads and, on `/`,
// drawn the list from them.
import { QueryClient, QueryClientProvider } from "@tanstack/react-query"
import { StrictMode } from "react"
import { createRoot } from "react-dom/client"
import { App } from "./App.tsx"
import { prefetchSession } from "./live.ts"
import { firstFilters, pendingApprovalsQuery, sessionsQuery } from "./screens/Sessions.tsx"

const queryClient = new QueryClient({
  defaultOptions: { queries: { retry: 1, refetchOnWindowFocus: true, staleTime: 1000 } }
})

// The first screen's data is asked for now, not when its components mount: the first render
// (and, on a busy machine, hundreds of ms of it) then overlaps the round trips, which the
// profile of `npm run bench` showed starting only after it. The components join these reads.
const firstReads = [queryClient.prefetchQuery(pendingApprovalsQuery())]
if (location.pathname === "/") firstReads.push(queryClient.prefetchInfiniteQuery(sessionsQuery(firstFilters)))
const opened = /^\/sessions\/([^/]+)$/.exec(location.pathname)?.[1]
if (opened !== undefined) {
  prefetchSession(queryClient, decodeURIComponent(opened))
  // The session screen's chunk too (App loads it lazily: the same module, fetched once).
  void import("./screens/SessionView.tsx")
}

const root = document.getElementById("root")!
// boot.ts drew the list from these answers: React's first commit (which replaces that markup)
// has the same rows, so the screen does not blink empty. They are in, so this is the JSON parse.
if (root.firstChild !== null) await Promise.all(firstReads)
createRoot(root).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <App />
    </QueryClientProvider>
  </StrictMode>
)
