// Claude's and the user's text as markdown. rehype-sanitize drops raw HTML and unsafe
// URLs (a transcript is untrusted input: a tool result can contain anything).
import ReactMarkdown, { type Components } from "react-markdown"
import rehypeSanitize from "rehype-sanitize"
import { Code } from "./Code.tsx"

const components: Components = {
  code: ({ className, children }) => {
    const lang = /language-(\w+)/.exec(className ?? "")?.[1]
    const text = String(children ?? "")
    if (lang === undefined && !text.includes("\n")) return <code className="inline">{children}</code>
    return <Code code={text.replace(/\n$/, "")} language={lang} />
  },
  pre: ({ children }) => <>{children}</>,
  a: ({ href, children }) => (
    <a href={href} target="_blank" rel="noreferrer noopener">
      {children}
    </a>
  )
}

/** Anything markdown would render differently from plain paragraphs (or an HTML entity). */
const markup = /[*_`#[\]<>|~\\&]|^\s*(?:[-+]|\d+[.)])\s|^\s*=+\s*$|https?:|www\./m

/**
 * Most of a transcript is prose without markup: it is drawn as the paragraphs markdown would
 * make, without parsing it (the parse is what made scrolling a long transcript stutter).
 */
export const isPlain = (text: string): boolean => !markup.test(text)

export const Markdown = ({ text }: { text: string }) =>
  isPlain(text) ? (
    <div className="md">
      {text
        .split(/\n\s*\n/)
        .filter((p) => p.trim() !== "")
        .map((p, i) => (
          <p key={i}>{p.trim()}</p>
        ))}
    </div>
  ) : (
    <div className="md">
      <ReactMarkdown rehypePlugins={[rehypeSanitize]} components={components}>
        {text}
      </ReactMarkdown>
    </div>
  )
