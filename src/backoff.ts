// The one retry policy for transient store trouble: exponential from `baseMs`, doubling,
// never more than `capMs` between attempts.
import { Duration, Schedule } from "effect"

export const backoff = (baseMs: number, capMs: number) =>
  Schedule.min([Schedule.exponential(Duration.millis(baseMs)), Schedule.spaced(Duration.millis(capMs))])

/** The same, for at most `forMs` in all. */
export const backoffFor = (baseMs: number, capMs: number, forMs: number) =>
  Schedule.max([backoff(baseMs, capMs), Schedule.during(Duration.millis(forMs))])
