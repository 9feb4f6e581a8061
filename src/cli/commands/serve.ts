import { existsSync } from "node:fs"
import { command } from "../command.ts"

export const serve = command({
  usage: "agentlog serve [--port N] [--host ADDR] [--data-dir DIR] [--store sqlite|esdb://...]",
  summary: "run the service in this process (what npm start runs; configured by AGENTLOG_* variables, see docs/configuration.md)",
  options: { port: { type: "string" }, host: { type: "string" }, "data-dir": { type: "string" }, store: { type: "string" } },
  run: async ({ flags }) => {
    // The flags stand for the service's environment variables (which stay the reference).
    const asEnv = { AGENTLOG_PORT: flags.port, AGENTLOG_HOST: flags.host, AGENTLOG_DATA_DIR: flags["data-dir"], AGENTLOG_EVENTSTORE: flags.store }
    for (const [variable, value] of Object.entries(asEnv)) if (value !== undefined) process.env[variable] = value
    if (!existsSync(new URL("../../../web/dist/index.html", import.meta.url)))
      process.stderr.write("agentlog: the dashboard is not built (npm run build:web); the API runs without it\n")
    // The service's own entry point: it reads the environment, starts, and ends this
    // process itself on SIGTERM/SIGINT (cleanly) or a start-up failure (with a message).
    await import("../../main.ts")
    return new Promise<number>(() => {})
  }
})
