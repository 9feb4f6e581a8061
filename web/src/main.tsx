// First: the first screen's reads leave before the rest is evaluated.
import "./boot.ts"
import { QueryClient, QueryClientProvider } from "@tanstack/react-query"
import { StrictMode } from "react"
import { createRoot } from "react-dom/client"
import { App } from "./App.tsx"
import { prefetchSession } from "./live.ts"
import { firstFilters, pendingApprovalsQuery, sessionsQuery } from "./screens/Sessions.tsx"
import "./styles.css"

const queryClient = new QueryClient({
  defaultOptions: { queries: { retry: 1, refetchOnWindowFocus: true, staleTime: 1000 } }
})

// The first screen's data is asked for now, not when its components mount: the first render
// (and, on a busy machine, hundreds of ms of it) then overlaps the round trips, which the
// profile of `npm run bench` showed starting only after it. The components join these reads.
void queryClient.prefetchQuery(pendingApprovalsQuery())
if (location.pathname === "/") void queryClient.prefetchInfiniteQuery(sessionsQuery(firstFilters))
const opened = /^\/sessions\/([^/]+)$/.exec(location.pathname)?.[1]
if (opened !== undefined) {
  prefetchSession(queryClient, decodeURIComponent(opened))
  // The session screen's chunk too (App loads it lazily: the same module, fetched once).
  void import("./screens/SessionView.tsx")
}

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <App />
    </QueryClientProvider>
  </StrictMode>
)
