// Code with syntax colours: highlight.js core with the few languages a transcript shows
// most (the full build is ten times the size). Its output is escaped HTML.
import hljs from "highlight.js/lib/core"
import bash from "highlight.js/lib/languages/bash"
import diff from "highlight.js/lib/languages/diff"
import javascript from "highlight.js/lib/languages/javascript"
import json from "highlight.js/lib/languages/json"
import python from "highlight.js/lib/languages/python"
import typescript from "highlight.js/lib/languages/typescript"
import { useMemo } from "react"

hljs.registerLanguage("bash", bash)
hljs.registerLanguage("diff", diff)
hljs.registerLanguage("javascript", javascript)
hljs.registerLanguage("json", json)
hljs.registerLanguage("python", python)
hljs.registerLanguage("typescript", typescript)

const aliases: Record<string, string> = { sh: "bash", shell: "bash", zsh: "bash", js: "javascript", ts: "typescript", tsx: "typescript", jsx: "javascript", py: "python" }

export const languageOf = (name: string | undefined): string | undefined => {
  if (!name) return undefined
  const l = aliases[name] ?? name
  return hljs.getLanguage(l) ? l : undefined
}

/** By file extension, for Write/Edit. */
export const languageOfPath = (path: string): string | undefined => languageOf(/\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase())

// A virtualised transcript mounts the same entries again and again while scrolling: what
// was highlighted once is kept (the most recent ones, bounded).
const highlighted = new Map<string, string>()
const cacheSize = 2000
const highlight = (code: string, language: string, ignoreIllegals = false): string => {
  const key = `${language}\u0000${code}`
  let html = highlighted.get(key)
  if (html === undefined) {
    html = hljs.highlight(code, { language, ignoreIllegals }).value
    if (highlighted.size >= cacheSize) highlighted.delete(highlighted.keys().next().value ?? "")
  } else highlighted.delete(key)
  highlighted.set(key, html)
  return html
}

export const Code = ({ code, language, className }: { code: string; language?: string | undefined; className?: string }) => {
  const lang = languageOf(language)
  const html = useMemo(() => (lang && code.length < 200_000 ? highlight(code, lang) : undefined), [code, lang])
  return (
    <pre className={`code ${className ?? ""}`}>
      {html !== undefined ? <code className={`hljs language-${lang}`} dangerouslySetInnerHTML={{ __html: html }} /> : <code>{code}</code>}
    </pre>
  )
}

/** Highlights a line of source (for diffs), as escaped HTML. */
export const highlightLine = (line: string, language: string | undefined): string | undefined =>
  language ? highlight(line, language, true) : undefined
