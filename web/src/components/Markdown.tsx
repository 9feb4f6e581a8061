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

export const Markdown = ({ text }: { text: string }) => (
  <div className="md">
    <ReactMarkdown rehypePlugins={[rehypeSanitize]} components={components}>
      {text}
    </ReactMarkdown>
  </div>
)
