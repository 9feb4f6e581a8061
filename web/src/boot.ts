// The page's entry, a small script: it sends the first screen's reads (early.ts), and on `/`
// draws the session list from their answers (firstScreen.ts) before it evaluates the app
// (main.tsx: React, the query client, the router, the screens). The bench's timeline of the
// list with 100,000 sessions showed the answers in during that evaluation, then React's first
// render, before anything was on screen. The app's chunk is fetched and compiled meanwhile
// (index.html preloads it, vite.config.ts); only its evaluation waits for the draw.
import "./styles.css"
import { keepEarlyKeys } from "./earlyKeys.ts"
import { startEarly } from "./early.ts"
import { drawFirstScreen } from "./firstScreen.ts"

/** How long the app waits for the first screen's answers before it is evaluated anyway. */
const drawWaitMs = 500

let app: Promise<unknown> | undefined
const loadApp = () => (app ??= import("./main.tsx"))

keepEarlyKeys()
const { approvals, sessions } = startEarly(location.pathname)
const root = document.getElementById("root")
if (sessions !== undefined && root !== null) {
  const waited = setTimeout(loadApp, drawWaitMs)
  void drawFirstScreen(root, sessions, approvals).finally(() => {
    clearTimeout(waited)
    void loadApp()
  })
} else void loadApp()
