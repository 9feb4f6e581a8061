// Entry point: `npm start`. Reads the environment, starts the service, and stops it
// cleanly on SIGTERM/SIGINT. Start-up problems end the process with a clear message.
import { ConfigError, loadConfig } from "./config.ts"
import { errorText, makeLogger } from "./log.ts"
import { type RunningService, startService } from "./service.ts"

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

// Signals are handled from the start: one that arrives while the service is still starting
// (or in the instant between "listening" and here) stops it as soon as it is up, cleanly.
let service: RunningService | undefined
let stopRequested = false
const stop = (svc: RunningService) =>
  svc.stop().then(
    () => process.exit(0),
    (e: unknown) => {
      logger.log("error", "shutdown failed", { error: errorText(e) })
      process.exit(1)
    }
  )

let signals = 0
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    // A second signal means "now": the record stays consistent, runs are abandoned at next start.
    if (++signals > 1) process.exit(130)
    logger.log("info", "signal received", { signal })
    if (service) void stop(service)
    else stopRequested = true
  })
}

service = await startService(config!, logger).catch((e: unknown) => fail(`could not start: ${errorText(e)}`))
if (stopRequested) void stop(service)
