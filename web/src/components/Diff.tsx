// A file change as a unified diff, the way a pull request shows it: removed lines red,
// added green, unchanged context collapsed beyond three lines.
import { diffLines } from "diff"
import { useMemo } from "react"

interface Line {
  readonly type: "add" | "del" | "ctx" | "skip"
  readonly text: string
  readonly old?: number
  readonly new?: number
}

export const diffRows = (before: string, after: string, context = 3): ReadonlyArray<Line> => {
  const rows: Array<Line> = []
  let o = 1
  let n = 1
  for (const part of diffLines(before, after)) {
    const lines = part.value.replace(/\n$/, "").split("\n")
    if (part.added) for (const text of lines) rows.push({ type: "add", text, new: n++ })
    else if (part.removed) for (const text of lines) rows.push({ type: "del", text, old: o++ })
    else for (const text of lines) rows.push({ type: "ctx", text, old: o++, new: n++ })
  }
  // Collapse long runs of context.
  const out: Array<Line> = []
  for (let i = 0; i < rows.length; ) {
    if (rows[i]!.type !== "ctx") {
      out.push(rows[i++]!)
      continue
    }
    let j = i
    while (j < rows.length && rows[j]!.type === "ctx") j++
    const keepHead = i === 0 ? 0 : context
    const keepTail = j === rows.length ? 0 : context
    if (j - i > keepHead + keepTail + 1) {
      out.push(...rows.slice(i, i + keepHead))
      out.push({ type: "skip", text: `${j - i - keepHead - keepTail} unchanged lines` })
      out.push(...rows.slice(j - keepTail, j))
    } else out.push(...rows.slice(i, j))
    i = j
  }
  return out
}

export const Diff = ({ before, after, path }: { before: string; after: string; path?: string | undefined }) => {
  const rows = useMemo(() => diffRows(before, after), [before, after])
  const added = rows.filter((r) => r.type === "add").length
  const removed = rows.filter((r) => r.type === "del").length
  return (
    <figure className="diff">
      <figcaption>
        <span className="mono">{path ?? "change"}</span> <span className="add-count">+{added}</span>{" "}
        <span className="del-count">−{removed}</span>
      </figcaption>
      <table>
        <tbody>
          {rows.map((r, i) => (
            <tr key={i} className={`diff-${r.type}`}>
              <td className="ln">{r.old ?? ""}</td>
              <td className="ln">{r.new ?? ""}</td>
              <td className="sign">{r.type === "add" ? "+" : r.type === "del" ? "−" : ""}</td>
              <td className="text">{r.text}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  )
}
