// npm run test:load: reads under load (autocannon) while sessions run. Kept out of `npm test`;
// .ci/run runs it after the crash suite. AGENTLOG_LOAD_SECONDS sets the seconds per route (4).
import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/load/**/*.test.ts"],
    testTimeout: 180_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: 1
  }
})
