// npm run test:crash: the crash suite (kill -9 of the service process at many points, torn
// and damaged files). Kept out of `npm test`; .ci/run runs it after the unit and API suites.
// The seeded random kills (randomKills.test.ts) are only collected when CRASH_RANDOM=N is
// set: not part of CI, and not a skipped test either.
import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/crash/**/*.test.ts"],
    exclude: process.env.CRASH_RANDOM ? [] : ["test/crash/randomKills.test.ts"],
    testTimeout: 240_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: 1
  }
})
