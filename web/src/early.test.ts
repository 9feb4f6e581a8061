import { QueryClient } from "@tanstack/react-query"
import { afterEach, describe, expect, it, vi } from "vitest"

afterEach(() => vi.restoreAllMocks())

const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200, headers: { "content-type": "application/json" } })

describe("the first screen's reads, sent before the page is evaluated", () => {
  it("are the requests the list's queries make: each is answered by the early one, none is sent twice", async () => {
    const fetch = vi.spyOn(globalThis, "fetch").mockImplementation(async (input) => {
      const url = typeof input === "string" ? input : input instanceof Request ? input.url : String(input)
      return url.includes("/v1/approvals") ? json({ items: [], nextCursor: null }) : json({ items: [], nextCursor: null })
    })
    const { startEarly } = await import("./early.ts")
    const { firstFilters, pendingApprovalsQuery, sessionsQuery } = await import("./screens/Sessions.tsx")
    startEarly("/")
    expect(fetch).toHaveBeenCalledTimes(2)
    const queryClient = new QueryClient()
    await queryClient.fetchQuery(pendingApprovalsQuery())
    await queryClient.fetchInfiniteQuery(sessionsQuery(firstFilters))
    expect(fetch).toHaveBeenCalledTimes(2)
    // Taken once: the next read goes to the service.
    await queryClient.fetchQuery({ ...pendingApprovalsQuery(), staleTime: 0 })
    expect(fetch).toHaveBeenCalledTimes(3)
  })
})
