// The dashboard's files (web/dist, built by `npm install` / `npm start`): assets by path,
// and index.html for the page's own routes (/, /new, /audit, /sessions/<id>), so they
// survive a reload. Served before auth: the page holds no data, it asks the API (which
// needs the token or the cookie) for everything. Any other path goes on to the API's 404.
import { readFileSync, statSync } from "node:fs"
import { extname, join } from "node:path"
import { fileURLToPath } from "node:url"
import type { MiddlewareHandler } from "hono"
import type { HttpEnv } from "./env.ts"

export const webDistDir = fileURLToPath(new URL("../../web/dist/", import.meta.url))

/** The page's routes (web/src/router.ts): answered with index.html. */
export const isPagePath = (path: string): boolean =>
  path === "/" || path === "/new" || path === "/audit" || /^\/sessions\/[0-9a-f-]{36}$/.test(path)

const types: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8"
}

// The page loads nothing from elsewhere (no CDN) and is never framed.
const pageHeaders = {
  "Content-Security-Policy":
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY"
} as const

const missing = `<!doctype html><html lang="en"><meta charset="utf-8"><title>agentlog</title>
<p>The dashboard is not built. Run <code>npm install</code> (or <code>npm run build:web</code>) and reload.
The API is under <a href="/openapi.json">/v1</a>.</p></html>`

interface File {
  readonly body: Uint8Array
  readonly type: string
}

const readIfFile = (path: string): File | undefined => {
  try {
    if (!statSync(path).isFile()) return undefined
    return { body: readFileSync(path), type: types[extname(path)] ?? "application/octet-stream" }
  } catch {
    return undefined
  }
}

export const webStatic = (dir: string = webDistDir): MiddlewareHandler<HttpEnv> => {
  // Hashed assets never change under a name; cache them in memory once read.
  const cache = new Map<string, File>()
  return async (c, next) => {
    const method = c.req.method
    if (method !== "GET" && method !== "HEAD") return next()
    const path = c.req.path
    if (!isPagePath(path)) {
      // Only files directly under dist/ or dist/assets/ (no dots, no deeper paths).
      const m = /^\/((?:assets\/)?[A-Za-z0-9_-][A-Za-z0-9_.-]*\.[a-z0-9]+)$/.exec(path)
      const rel = m?.[1]
      if (rel === undefined || rel.includes("..") || rel === "index.html") return next()
      const file = join(dir, rel)
      const found = cache.get(file) ?? readIfFile(file)
      if (found === undefined) return next()
      const immutable = rel.startsWith("assets/")
      if (immutable) cache.set(file, found)
      return new Response(method === "HEAD" ? null : (found.body as Uint8Array<ArrayBuffer>), {
        status: 200,
        headers: {
          "Content-Type": found.type,
          "Cache-Control": immutable ? "public, max-age=31536000, immutable" : "no-cache",
          "X-Content-Type-Options": "nosniff"
        }
      })
    }
    // The page itself is re-read each time: a rebuild shows on reload without a restart.
    const index = readIfFile(join(dir, "index.html"))
    return new Response(method === "HEAD" ? null : index === undefined ? missing : (index.body as Uint8Array<ArrayBuffer>), {
      status: index === undefined ? 503 : 200,
      headers: { ...pageHeaders, "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache" }
    })
  }
}
