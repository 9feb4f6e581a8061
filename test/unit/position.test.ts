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
  it("stop at the largest signed 64-bit integer, where both stores' positions stop", () => {
    expect(decodePosition("9223372036854775807")).toEqual({ commit: 2n ** 63n - 1n, prepare: 2n ** 63n - 1n })
    for (const s of ["9223372036854775808", "18446744073709551615", "1-9223372036854775808", "9223372036854775808-1"])
      expect(decodePosition(s)).toBeNull()
  })
  it("order by commit, then prepare", () => {
    expect(comparePositions({ commit: 1n, prepare: 5n }, { commit: 2n, prepare: 0n })).toBe(-1)
    expect(comparePositions({ commit: 2n, prepare: 1n }, { commit: 2n, prepare: 0n })).toBe(1)
    expect(comparePositions({ commit: 3n, prepare: 3n }, { commit: 3n, prepare: 3n })).toBe(0)
  })
})
