// npm run test:browser: the page and the service driven in Debian's Chromium through
// playwright-core. Kept out of `npm test` (it needs /usr/bin/chromium, which .ci/run installs).
import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/browser/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    maxWorkers: 1
  }
})
