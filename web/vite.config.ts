// The dashboard's build (npm install / npm start run web/build.ts) and its dev server
// (npm run dev:web): hot reload here, the API proxied to a running agentlog.
import react from "@vitejs/plugin-react"
import { defineConfig } from "vite"

const target = process.env.AGENTLOG_URL ?? "http://127.0.0.1:7420"
const api = { target, changeOrigin: false, ws: false }

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, target: "es2022", chunkSizeWarningLimit: 800 },
  server: {
    host: "127.0.0.1",
    port: Number(process.env.AGENTLOG_WEB_PORT ?? 5173),
    proxy: { "/v1": api, "/openapi.json": api, "/healthz": api, "/readyz": api }
  }
})
