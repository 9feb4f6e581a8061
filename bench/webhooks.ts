// Issue 14: a slow webhook receiver must not slow the API or the recording. The same
// sequential workload (create a draft: one append; every tenth request also a list read)
// runs against a service with no webhook, then against one whose webhook (subscribed to
// every draft event) goes to a receiver that takes a second to answer each delivery. The
// figure is the API's p50 and p99 with the slow receiver against the same without it; the
// receiver's backlog at the end shows the deliveries were indeed held up.
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { join } from "node:path"
import { rmSync } from "node:fs"
import { startService } from "./scale.ts"
import { fmt, percentile, type Row } from "./table.ts"

export interface WebhooksBenchOptions {
  readonly dir: string
  readonly requests: number
  readonly log: (line: string) => void
}

const slowReceiver = async (delayMs: number) => {
  let received = 0
  const server = createServer((req, res) => {
    req.resume()
    req.on("end", () => {
      received++
      setTimeout(() => res.writeHead(204).end(), delayMs)
    })
  })
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received: () => received,
    close: () => {
      server.closeAllConnections()
      return new Promise<void>((r) => server.close(() => r()))
    }
  }
}

const timed = async (url: string, method: string, path: string, json?: unknown): Promise<number> => {
  const t = performance.now()
  const r = await fetch(`${url}${path}`, {
    method,
    headers: json === undefined ? {} : { "content-type": "application/json" },
    ...(json === undefined ? {} : { body: JSON.stringify(json) })
  })
  await r.arrayBuffer()
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status}`)
  return performance.now() - t
}

const phase = async (o: WebhooksBenchOptions, name: string, receiverUrl: string | undefined) => {
  const dataDir = join(o.dir, `webhooks-${name}`)
  rmSync(dataDir, { recursive: true, force: true })
  const svc = await startService(dataDir, join(o.dir, `service-webhooks-${name}.log`), undefined)
  try {
    if (receiverUrl !== undefined)
      await timed(svc.url, "POST", "/v1/webhooks", { url: receiverUrl, events: ["DraftCreated"], secret: "bench-secret-0123456789" })
    // Warm-up, not counted.
    for (let i = 0; i < 20; i++) await timed(svc.url, "POST", "/v1/drafts", { query: `warm-up ${i}` })
    const writes: Array<number> = []
    const reads: Array<number> = []
    const t0 = performance.now()
    for (let i = 0; i < o.requests; i++) {
      writes.push(await timed(svc.url, "POST", "/v1/drafts", { query: `draft ${i}` }))
      if (i % 10 === 0) reads.push(await timed(svc.url, "GET", "/v1/sessions?limit=20"))
    }
    const seconds = (performance.now() - t0) / 1000
    const result = { p50: percentile(writes, 50), p99: percentile(writes, 99), readP50: percentile(reads, 50), rate: o.requests / seconds }
    o.log(
      `  ${name}: draft p50 ${fmt.ms(result.p50)}, p99 ${fmt.ms(result.p99)}; list p50 ${fmt.ms(result.readP50)}; ${fmt.rate(result.rate, "drafts/s")}`
    )
    return result
  } finally {
    await svc.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

export const runWebhooksBench = async (o: WebhooksBenchOptions): Promise<Array<Row>> => {
  o.log(`webhooks: ${o.requests} drafts (and a list read every tenth), without a webhook, then with one whose receiver takes 1 s per delivery`)
  const baseline = await phase(o, "none", undefined)
  const receiver = await slowReceiver(1_000)
  try {
    const slow = await phase(o, "slow-receiver", receiver.url)
    const backlog = o.requests + 20 - receiver.received()
    o.log(`  the slow receiver got ${receiver.received()} deliveries of ${o.requests + 20} while the workload ran (backlog ${backlog})`)
    const ratio = Math.max(slow.p50 / baseline.p50, slow.p99 / baseline.p99)
    return [
      {
        item: 14,
        what: `API with a webhook to a receiver taking 1 s per delivery (draft append p50/p99, list p50, rate; backlog ${backlog})`,
        figure: `${fmt.ms(slow.p50)} / ${fmt.ms(slow.p99)}, list ${fmt.ms(slow.readP50)}, ${fmt.rate(slow.rate, "drafts/s")}`,
        baseline: `no webhook: ${fmt.ms(baseline.p50)} / ${fmt.ms(baseline.p99)}, list ${fmt.ms(baseline.readP50)}, ${fmt.rate(baseline.rate, "drafts/s")}`,
        ratio: fmt.ratio(ratio),
        goal: "the worse of p50 and p99 ratios <= 1.5x",
        pass: ratio <= 1.5
      }
    ]
  } finally {
    await receiver.close()
  }
}
