import { configDefaults, defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The crash and load suites have scripts of their own (npm run test:crash, test:load).
    exclude: [...configDefaults.exclude, "test/crash/**", "test/load/**"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start real `claude` processes; two cores in CI.
    pool: "forks",
    maxWorkers: 2
  }
})
