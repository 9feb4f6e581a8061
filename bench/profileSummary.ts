// Summarises a .cpuprofile (node --cpu-prof): self time by function and by file, and
// inclusive time for functions matching an optional pattern. Usage:
//   node bench/profileSummary.ts <file.cpuprofile> [top=25] [inclusive-pattern]
import { readFileSync } from "node:fs"

interface Node {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: Array<number>
}
interface Profile {
  nodes: Array<Node>
  samples: Array<number>
  timeDeltas: Array<number>
}

const [file, topArg, pattern] = process.argv.slice(2)
if (!file) {
  process.stderr.write("usage: node bench/profileSummary.ts <file.cpuprofile> [top] [pattern]\n")
  process.exit(2)
}
const top = Number(topArg ?? "25")
const p = JSON.parse(readFileSync(file, "utf8")) as Profile
const byId = new Map(p.nodes.map((n) => [n.id, n]))
const parent = new Map<number, number>()
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
const self = new Map<number, number>()
let total = 0
p.samples.forEach((id, i) => {
  const dt = p.timeDeltas[i] ?? 0
  total += dt
  self.set(id, (self.get(id) ?? 0) + dt)
})
const short = (url: string) => url.replace(/^file:\/\/\/work\/main\//, "").replace(/^.*node_modules\//, "nm/")
const label = (n: Node) => `${n.callFrame.functionName || "(anonymous)"} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`
const agg = (key: (n: Node) => string) => {
  const m = new Map<string, number>()
  for (const [id, t] of self) {
    const k = key(byId.get(id)!)
    m.set(k, (m.get(k) ?? 0) + t)
  }
  return [...m].sort((a, b) => b[1] - a[1])
}
const pct = (t: number) => `${((100 * t) / total).toFixed(1).padStart(5)}%`
console.log(`total ${(total / 1000).toFixed(0)} ms`)
console.log("\nself time by function:")
for (const [k, t] of agg(label).slice(0, top)) console.log(`${pct(t)}  ${k}`)
console.log("\nself time by file:")
for (const [k, t] of agg((n) => short(n.callFrame.url) || n.callFrame.functionName).slice(0, 15)) console.log(`${pct(t)}  ${k}`)
if (pattern) {
  const re = new RegExp(pattern)
  const incl = new Map<string, number>()
  for (const [id, t] of self) {
    const seen = new Set<string>()
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur)!
      const k = label(n)
      if (re.test(k) && !seen.has(k)) {
        seen.add(k)
        incl.set(k, (incl.get(k) ?? 0) + t)
      }
    }
  }
  console.log(`\ninclusive time of functions matching /${pattern}/:`)
  for (const [k, t] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(t)}  ${k}`)
}
