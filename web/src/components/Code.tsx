// Code with syntax colours (hljs.ts). The highlighter is its own chunk, asked for when the
// first Code mounts: until it is there (a few ms on a quiet machine) code shows as plain
// text, and the first screen's script is smaller by its size (the bench's timeline of the
// first screen showed the script's evaluation as the largest part of the wait). Its output
// is escaped HTML.
import { useEffect, useMemo, useSyncExternalStore } from "react"

type Hljs = (typeof import("./hljs.ts"))["default"]
let loaded: Hljs | null = null
let loading: Promise<void> | undefined
const listeners = new Set<() => void>()
const load = () =>
  (loading ??= import("./hljs.ts").then((m) => {
    loaded = m.default
    listeners.forEach((l) => l())
  }))
const subscribe = (l: () => void) => {
  listeners.add(l)
  return () => {
    listeners.delete(l)
  }
}
const useHighlighter = (): Hljs | null => {
  useEffect(() => void load(), [])
  return useSyncExternalStore(subscribe, () => loaded)
}

/** The languages hljs.ts registers. */
const languages: ReadonlySet<string> = new Set(["bash", "diff", "javascript", "json", "python", "typescript"])
const aliases: Record<string, string> = { sh: "bash", shell: "bash", zsh: "bash", js: "javascript", ts: "typescript", tsx: "typescript", jsx: "javascript", py: "python" }

const languageOf = (name: string | undefined): string | undefined => {
  if (!name) return undefined
  const l = aliases[name] ?? name
  return languages.has(l) ? l : undefined
}

// A virtualised transcript mounts the same entries again and again while scrolling: what
// was highlighted once is kept (the most recent ones, bounded).
const highlighted = new Map<string, string>()
const cacheSize = 2000
const highlight = (hljs: Hljs, code: string, language: string): string => {
  const key = `${language}\u0000${code}`
  let html = highlighted.get(key)
  if (html === undefined) {
    html = hljs.highlight(code, { language }).value
    if (highlighted.size >= cacheSize) highlighted.delete(highlighted.keys().next().value ?? "")
  } else highlighted.delete(key)
  highlighted.set(key, html)
  return html
}

export const Code = ({ code, language, className }: { code: string; language?: string | undefined; className?: string }) => {
  const lang = languageOf(language)
  const hljs = useHighlighter()
  const html = useMemo(() => (hljs && lang && code.length < 200_000 ? highlight(hljs, code, lang) : undefined), [hljs, code, lang])
  return (
    <pre className={`code ${className ?? ""}`}>
      {html !== undefined ? <code className={`hljs language-${lang}`} dangerouslySetInnerHTML={{ __html: html }} /> : <code>{code}</code>}
    </pre>
  )
}
