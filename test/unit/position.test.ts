import { describe, expect, it } from "vitest"
import { comparePositions, decodePosition, encodePosition } from "../../src/eventstore/position.ts"

describe("position cursors", () => {
  it("round-trip through their text form", () => {
    for (const p of [{ commit: 0n, prepare: 0n }, { commit: 42n, prepare: 42n }, { commit: 1234n, prepare: 1200n }]) {
      expect(decodePosition(encodePosition(p))).toEqual(p)
    }
  })
  it("reject text we could not have issued", () => {
    for (const s of ["", "-1", "abc", "1-", "1-2-3", "1e5", "9".repeat(21)]) expect(decodePosition(s)).toBeNull()
  })
  it("order by commit, then prepare", () => {
    expect(comparePositions({ commit: 1n, prepare: 5n }, { commit: 2n, prepare: 0n })).toBe(-1)
    expect(comparePositions({ commit: 2n, prepare: 1n }, { commit: 2n, prepare: 0n })).toBe(1)
    expect(comparePositions({ commit: 3n, prepare: 3n }, { commit: 3n, prepare: 3n })).toBe(0)
  })
})
