// Seeded, reproducible randomness for the bench: the same seed gives the same data,
// byte for byte, on every machine (no Math.random, no clock).

/** xoshiro128** over four 32-bit words, seeded through splitmix32. */
export class Rng {
  private a: number
  private b: number
  private c: number
  private d: number

  constructor(seed: number) {
    let s = seed >>> 0
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0
      let z = s
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
      return (z ^ (z >>> 16)) >>> 0
    }
    this.a = next()
    this.b = next()
    this.c = next()
    this.d = next()
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    const r = Math.imul(rotl(Math.imul(this.b, 5) >>> 0, 7), 9) >>> 0
    const t = (this.b << 9) >>> 0
    this.c ^= this.a
    this.d ^= this.b
    this.b ^= this.c
    this.a ^= this.d
    this.c ^= t
    this.d = rotl(this.d, 11)
    return r
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / 4294967296
  }

  /** Uniform integer in [min, max] (inclusive). */
  int(min: number, max: number): number {
    return min + Math.floor(this.float() * (max - min + 1))
  }

  pick<A>(items: ReadonlyArray<A>): A {
    return items[Math.floor(this.float() * items.length)]!
  }

  /** Picks by weight: `[[value, weight], …]`. */
  weighted<A>(items: ReadonlyArray<readonly [A, number]>): A {
    let total = 0
    for (const [, w] of items) total += w
    let x = this.float() * total
    for (const [v, w] of items) {
      x -= w
      if (x < 0) return v
    }
    return items[items.length - 1]![0]
  }

  /** A random (version 4 layout) lower-case UUID. */
  uuid(): string {
    const a = this.u32()
    const b = this.u32()
    const c = this.u32()
    const d = this.u32()
    return (
      word(a) + "-" + half(b >>> 16) + "-" + half(((b & 0x0fff) | 0x4000) >>> 0) + "-" +
      half(((c >>> 16) & 0x3fff) | 0x8000) + "-" + half(c & 0xffff) + word(d)
    )
  }

  /** Lower-case hex of `n` characters. */
  hex(n: number): string {
    let s = ""
    while (s.length < n) s += word(this.u32())
    return s.slice(0, n)
  }
}

const byteHex = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"))
const half = (x: number): string => byteHex[(x >>> 8) & 0xff]! + byteHex[x & 0xff]!
const word = (x: number): string => half(x >>> 16) + half(x & 0xffff)

const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0

const words =
  "the a to of and in is that for it with as on be this by file function test value error return should we can will not are from config data session event store read write line module type build run change check update fix add remove call path output input result because then when after before first next also new old case list item name key index query table page stream position record order".split(
    " "
  )

/** Plausible English-ish prose of about `chars` characters. */
export const prose = (rng: Rng, chars: number): string => {
  const out: Array<string> = []
  let n = 0
  let sentence = 0
  while (n < chars) {
    let w = rng.pick(words)
    if (sentence === 0) w = w[0]!.toUpperCase() + w.slice(1)
    sentence++
    if (sentence > 6 && rng.float() < 0.15) {
      w += "."
      sentence = 0
    }
    out.push(w)
    n += w.length + 1
  }
  return out.join(" ").slice(0, chars)
}

/** Plausible source code of about `chars` characters. */
export const code = (rng: Rng, chars: number): string => {
  const lines: Array<string> = []
  let n = 0
  while (n < chars) {
    const indent = "  ".repeat(rng.int(0, 3))
    const l = `${indent}${rng.pick(["const", "let", "if (", "return", "export const", "await"])} ${rng.pick(words)}${rng.pick(["Value", "Count", "Path", "Item", "State"])} = ${rng.pick(words)}(${rng.pick(words)}, ${rng.int(0, 999)})`
    lines.push(l)
    n += l.length + 1
  }
  return lines.join("\n").slice(0, chars)
}
