// The bench's one table: a row per figure, with its baseline (measured in the same run),
// the ratio between them, the goal of issue 7 and whether it was met.

export interface Row {
  /** Issue item, 1–6. */
  readonly item: number
  readonly what: string
  readonly figure: string
  readonly baseline?: string
  readonly ratio?: string
  readonly goal?: string
  /** undefined: no goal. */
  readonly pass?: boolean
}

export const fmt = {
  rate: (perSecond: number, unit = "ev/s") => `${Math.round(perSecond).toLocaleString("en-US")} ${unit}`,
  ms: (ms: number) => (ms >= 100 ? `${ms.toFixed(0)} ms` : ms >= 10 ? `${ms.toFixed(1)} ms` : `${ms.toFixed(2)} ms`),
  mb: (bytes: number) => `${(bytes / 1048576).toFixed(0)} MB`,
  ratio: (r: number) => (r >= 10 ? `${r.toFixed(0)}x` : `${r.toFixed(2)}x`),
  pct: (r: number) => `${r >= 0 ? "+" : ""}${(r * 100).toFixed(1)}%`
}

export const percentile = (values: ReadonlyArray<number>, p: number): number => {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i]!
}

export const median = (values: ReadonlyArray<number>): number => percentile(values, 50)

export const renderTable = (rows: ReadonlyArray<Row>): string => {
  const header = ["#", "measure", "figure", "baseline (same run)", "ratio", "goal", "result"]
  const cells = rows.map((r) => [
    String(r.item),
    r.what,
    r.figure,
    r.baseline ?? "",
    r.ratio ?? "",
    r.goal ?? "",
    r.pass === undefined ? "" : r.pass ? "pass" : "MISS"
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)))
  const line = (c: ReadonlyArray<string>) => `| ${c.map((x, i) => x.padEnd(widths[i]!)).join(" | ")} |`
  return [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...cells.map(line)].join("\n")
}
