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

export const Code = ({ code, language, className }: { code: string; language?: string | undefined; className?: string }) => {
  const lang = languageOf(language)
  const html = useMemo(() => (lang && code.length < 200_000 ? hljs.highlight(code, { language: lang }).value : undefined), [code, lang])
  return (
    <pre className={`code ${className ?? ""}`}>
      {html !== undefined ? <code className={`hljs language-${lang}`} dangerouslySetInnerHTML={{ __html: html }} /> : <code>{code}</code>}
    </pre>
  )
}

/** Highlights a line of source (for diffs), as escaped HTML. */
export const highlightLine = (line: string, language: string | undefined): string | undefined =>
  language ? hljs.highlight(line, { language, ignoreIllegals: true }).value : undefined
