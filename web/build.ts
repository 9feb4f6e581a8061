// Builds the dashboard into web/dist. `npm install` runs it (postinstall) and `npm start`
// runs it with --if-stale: a missing build, or sources newer than the build, are built;
// an up-to-date build costs one directory walk. web/dist is never committed.
import { existsSync, readdirSync, statSync } from "node:fs"
import { join } from "node:path"

const webDir = import.meta.dirname
const built = join(webDir, "dist", "index.html")

const newest = (path: string): number => {
  const s = statSync(path)
  if (!s.isDirectory()) return s.mtimeMs
  let max = s.mtimeMs
  for (const name of readdirSync(path)) {
    if (name.endsWith(".test.tsx") || name.endsWith(".test.ts")) continue
    max = Math.max(max, newest(join(path, name)))
  }
  return max
}

const sources = ["src", "index.html", "vite.config.ts", "../package-lock.json"].map((p) => join(webDir, p)).filter(existsSync)

export const isStale = (): boolean =>
  !existsSync(built) || Math.max(...sources.map(newest)) > statSync(built).mtimeMs

if (!process.argv.includes("--if-stale") || isStale()) {
  let vite: typeof import("vite")
  try {
    vite = await import("vite")
  } catch {
    // Installed without dev dependencies: the API still works, the page says how to build it.
    console.error("agentlog: vite is not installed; the dashboard is not built (npm install builds it)")
    process.exit(0)
  }
  // Always the production build: under vitest (NODE_ENV=test, the browser suite builds the page)
  // Vite kept that NODE_ENV and bundled React's development build, which --if-stale then served
  // to `npm start` and to the bench (175 KB of script instead of 112, every render slower).
  process.env.NODE_ENV = "production"
  await vite.build({ configFile: join(webDir, "vite.config.ts"), mode: "production", logLevel: "warn" })
  console.error("agentlog: dashboard built into web/dist")
}
