// isoTime passes a text already in toISOString's form through untouched (the fast path of
// every rebuild). It must answer exactly what parsing and printing would.
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { isoTime } from "../../src/projections/projectedEvent.ts"

const slow = (v: string | Date): string | null => {
  const d = v instanceof Date ? v : new Date(v)
  const t = d.getTime()
  return !Number.isFinite(t) || t < -62167219200000 || t > 253402300799999 ? null : d.toISOString()
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0")

describe("isoTime", () => {
  it("answers what parsing and printing answers, for texts shaped like times and a few out of range", () => {
    const text = fc
      .tuple(
        fc.integer({ min: 0, max: 9999 }),
        fc.integer({ min: 0, max: 13 }),
        fc.integer({ min: 0, max: 32 }),
        fc.integer({ min: 0, max: 24 }),
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 0, max: 999 })
      )
      .map(([y, mo, d, h, mi, s, ms]) => `${pad(y, 4)}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(s)}.${pad(ms, 3)}Z`)
    fc.assert(
      fc.property(text, (v) => {
        expect(isoTime(v)).toBe(slow(v))
      }),
      { numRuns: 20_000 }
    )
  })

  it("puts other forms of a time into the canonical one, and refuses what is not a time", () => {
    expect(isoTime("2026-02-29T00:00:00.000Z")).toBe(slow("2026-02-29T00:00:00.000Z"))
    expect(isoTime("2026-11-30T10:00:00Z")).toBe("2026-11-30T10:00:00.000Z")
    expect(isoTime("2026-11-30T11:00:00+01:00")).toBe("2026-11-30T10:00:00.000Z")
    expect(isoTime(new Date(0))).toBe("1970-01-01T00:00:00.000Z")
    expect(isoTime("yesterday")).toBeNull()
    expect(isoTime(12)).toBeNull()
  })
})
