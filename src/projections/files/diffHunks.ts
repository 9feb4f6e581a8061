// Diff hunks of a file change, in the shape of src/workspaces/diff.ts's DiffHunk: from
// Claude Code's own structuredPatch when its tool result carries one (file line numbers),
// else worked out from an edit's old and new text (numbered from the snippet). Pure: no
// git, no I/O, so a projection can call it.
import type { DiffHunk, DiffLine } from "../../workspaces/diff.ts"
import { arr, num, obj, str } from "../projectedEvent.ts"

const header = (h: { oldStart: number; oldLines: number; newStart: number; newLines: number }): string =>
  `@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@`

/** Claude Code's structuredPatch (`{oldStart, oldLines, newStart, newLines, lines: ["-a", "+b", " c"]}`); null when absent. */
export const hunksOfStructuredPatch = (patch: unknown): ReadonlyArray<DiffHunk> | null => {
  if (!Array.isArray(patch)) return null
  return patch.map((raw) => {
    const p = obj(raw)
    const lines: Array<DiffLine> = arr(p.lines)
      .map((l) => str(l))
      .filter((l): l is string => l !== null && (l.startsWith("+") || l.startsWith("-") || l.startsWith(" ")))
      .map((l) => ({ kind: l.startsWith("+") ? "add" : l.startsWith("-") ? "del" : "context", text: l.slice(1) }))
    const h = { oldStart: num(p.oldStart), oldLines: num(p.oldLines), newStart: num(p.newStart), newLines: num(p.newLines) }
    return { ...h, header: header(h), lines }
  })
}

const linesOf = (text: string): Array<string> => (text === "" ? [] : text.replace(/\n$/, "").split("\n"))

/**
 * One hunk from `before` to `after`: the lines they share at the start and the end as
 * context, the rest removed and added. Not minimal inside the changed middle, but exact.
 */
export const hunkBetween = (before: string, after: string): DiffHunk => {
  const a = linesOf(before)
  const b = linesOf(after)
  let head = 0
  while (head < a.length && head < b.length && a[head] === b[head]) head++
  let tail = 0
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++
  const lines: Array<DiffLine> = [
    ...a.slice(0, head).map((text) => ({ kind: "context" as const, text })),
    ...a.slice(head, a.length - tail).map((text) => ({ kind: "del" as const, text })),
    ...b.slice(head, b.length - tail).map((text) => ({ kind: "add" as const, text })),
    ...a.slice(a.length - tail).map((text) => ({ kind: "context" as const, text }))
  ]
  const h = { oldStart: a.length === 0 ? 0 : 1, oldLines: a.length, newStart: b.length === 0 ? 0 : 1, newLines: b.length }
  return { ...h, header: header(h), lines }
}
