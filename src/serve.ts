// The service's process (loaded by src/main.ts): reads the environment and runs AppLive in
// a ManagedRuntime until SIGTERM/SIGINT, which closes it cleanly. Start-up problems end
// the process with a clear message.
import { Effect, Layer, ManagedRuntime } from "effect"
import { ConfigError, loadConfig } from "./config.ts"
import { errorText, makeLogger } from "./log.ts"
import { App, AppLive, Http } from "./service.ts"

const fail = (message: string): never => {
  process.stderr.write(`agentlog: ${message}\n`)
  process.exit(1)
}

let config
try {
  config = loadConfig()
} catch (e) {
  fail(e instanceof ConfigError ? e.message : String(e))
}
const logger = makeLogger(config!.logLevel)
const runtime = ManagedRuntime.make(AppLive.pipe(Layer.provide(Layer.succeed(App)({ config: config!, logger }))))

// Signals are handled from the start: one that arrives while the service is still starting
// stops it as soon as it is up, cleanly (closing the runtime waits for the start).
let stopping: Promise<void> | undefined
const stop = () =>
  (stopping ??= runtime.dispose().then(
    () => {
      logger.log("info", "stopped")
      process.exit(0)
    },
    (e: unknown) => {
      logger.log("error", "shutdown failed", { error: errorText(e) })
      process.exit(1)
    }
  ))

let signals = 0
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    // A second signal means "now": the record stays consistent, runs are abandoned at next start.
    if (++signals > 1) process.exit(130)
    logger.log("info", "signal received", { signal })
    void stop()
  })
}

await runtime.runPromise(Effect.asVoid(Http)).catch((e: unknown) => {
  if (signals === 0) fail(`could not start: ${errorText(e)}`)
})
