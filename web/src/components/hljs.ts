// highlight.js core with the few languages a transcript shows most (the full build is ten
// times the size), loaded on first use: the first screen draws without it (Code.tsx).
import hljs from "highlight.js/lib/core"
import bash from "highlight.js/lib/languages/bash"
import diff from "highlight.js/lib/languages/diff"
import javascript from "highlight.js/lib/languages/javascript"
import json from "highlight.js/lib/languages/json"
import python from "highlight.js/lib/languages/python"
import typescript from "highlight.js/lib/languages/typescript"

hljs.registerLanguage("bash", bash)
hljs.registerLanguage("diff", diff)
hljs.registerLanguage("javascript", javascript)
hljs.registerLanguage("json", json)
hljs.registerLanguage("python", python)
hljs.registerLanguage("typescript", typescript)

export default hljs
