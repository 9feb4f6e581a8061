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
    const h = (n: number) => n.toString(16).padStart(8, "0")
    const w0 = h(this.u32())
    const w1 = h(this.u32())
    const w2 = h(((this.u32() & 0x0fffffff) | 0x40000000) >>> 0)
    const w3 = h(((this.u32() & 0x3fffffff) | 0x80000000) >>> 0)
    const x = w0 + w1 + w2 + w3
    return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(16, 20)}-${x.slice(24, 28)}-${x.slice(12, 16)}${x.slice(20, 24)}${x.slice(28, 32)}`
  }

  /** Lower-case hex of `n` characters. */
  hex(n: number): string {
    let s = ""
    while (s.length < n) s += this.u32().toString(16).padStart(8, "0")
    return s.slice(0, n)
  }
}

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
