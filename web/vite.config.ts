// The dashboard's build (npm install / npm start run web/build.ts) and its dev server
// (npm run dev:web): hot reload here, the API proxied to a running agentlog.
import react from "@vitejs/plugin-react"
import { defineConfig, type Plugin } from "vite"

/**
 * index.html preloads the app's chunk (main.tsx and what it imports): boot.ts, the entry,
 * imports it only after it has drawn the first screen, and the download and the compile
 * should not wait for that.
 */
const preloadApp = (): Plugin => ({
  name: "agentlog-preload-app",
  apply: "build",
  transformIndexHtml: {
    order: "post",
    handler: (_html, ctx) => {
      const chunks = Object.values(ctx.bundle ?? {}).flatMap((c) => (c.type === "chunk" ? [c] : []))
      const app = chunks.find((c) => c.facadeModuleId?.endsWith("/src/main.tsx"))
      if (app === undefined) throw new Error("the app's chunk (src/main.tsx) is not in the build")
      const entry = chunks.find((c) => c.isEntry)
      // What the entry imports statically is in index.html already.
      const there = new Set([entry?.fileName, ...(entry?.imports ?? [])])
      return [app.fileName, ...app.imports.filter((f) => !there.has(f))].map((f) => ({
        tag: "link",
        attrs: { rel: "modulepreload", crossorigin: true, href: `/${f}` },
        injectTo: "head" as const
      }))
    }
  }
})

const target = process.env.AGENTLOG_URL ?? "http://127.0.0.1:7420"
const api = { target, changeOrigin: false, ws: false }

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react(), preloadApp()],
  // AGENTLOG_WEB_MINIFY=0 keeps the functions' names, for a readable profile of the page (bench/webProfile.ts).
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, minify: process.env.AGENTLOG_WEB_MINIFY !== "0", target: "es2022", chunkSizeWarningLimit: 800 },
  server: {
    host: "127.0.0.1",
    port: Number(process.env.AGENTLOG_WEB_PORT ?? 5173),
    proxy: { "/v1": api, "/openapi.json": api, "/healthz": api, "/readyz": api }
  }
})
