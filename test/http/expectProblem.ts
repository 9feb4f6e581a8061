// An error check that names the problem: its status, its type (the slug a client switches
// on) and, for validation failures, which parts of the request it blames.
import { expect } from "vitest"
import { problemOf } from "./httpHarness.ts"

export const expectProblem = async (
  r: Response,
  status: number,
  slug: string,
  blamed?: ReadonlyArray<string>
): Promise<Record<string, unknown>> => {
  const p = await problemOf(r)
  expect({ status: r.status, type: p.type }, JSON.stringify(p)).toEqual({ status, type: `urn:agentlog:problem:${slug}` })
  expect(p.status).toBe(status)
  if (blamed !== undefined) expect((p.errors as Array<{ path: string }>).map((e) => e.path).sort()).toEqual([...blamed].sort())
  return p
}
