// Progress of a long copy: a bar with events/s and ETA on a terminal (cli-progress), plain
// lines at every tenth of the way otherwise, so a log or a script sees how far it got.
import { SingleBar } from "cli-progress"

export interface Progress {
  /** `done` of the total are handled (copied or found already there). */
  update(done: number): void
  stop(): void
}

const formatRate = (n: number) => Math.round(n).toLocaleString("en-US")

export const progress = (what: string, total: number, out: (line: string) => void, tty = process.stdout.isTTY === true): Progress => {
  const started = performance.now()
  if (tty) {
    const bar = new SingleBar({
      format: `${what} [{bar}] {percentage}% | {value}/{total} events | {rate} events/s | ETA {eta_formatted}`,
      hideCursor: true,
      etaBuffer: 50,
      stream: process.stdout
    })
    bar.start(total, 0, { rate: "0" })
    return {
      update: (done) => bar.update(done, { rate: formatRate(done / Math.max((performance.now() - started) / 1000, 0.001)) }),
      stop: () => bar.stop()
    }
  }
  let printed = 0
  const line = (done: number) => {
    const s = Math.max((performance.now() - started) / 1000, 0.001)
    const rate = done / s
    const eta = rate > 0 ? Math.round((total - done) / rate) : 0
    out(`${what}: ${done}/${total} events (${total === 0 ? 100 : Math.floor((done / total) * 100)}%), ${formatRate(rate)} events/s, ETA ${eta}s`)
  }
  return {
    update: (done) => {
      const tenth = total === 0 ? 10 : Math.floor((done / total) * 10)
      if (tenth > printed) {
        printed = tenth
        line(done)
      }
    },
    stop: () => {
      if (printed < 10) line(total)
    }
  }
}
