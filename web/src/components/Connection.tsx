import type { Connection } from "../live.ts"

/** Whether a live stream is following the record, or waiting to get back. */
export const ConnectionState = ({ connection, title }: { connection: Connection; title?: string }) => (
  <span className={`connection ${connection}`} role="status" aria-live="polite" title={title}>
    {connection === "live" ? "● live" : connection === "reconnecting" ? "○ reconnecting…" : "○ connecting…"}
  </span>
)
