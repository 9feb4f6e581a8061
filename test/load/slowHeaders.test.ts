// npm run test:load — the slow-header attack on loopback: thousands of connections without a
// token, each sending one header line a second and never finishing, against the real service
// process. Authorised reads and a launch keep being answered during it, and the service's
// open file descriptors stay bounded by AGENTLOG_MAX_CONNECTIONS instead of growing with the
// attack (about 21,000 such sockets once reached the fd limit).
import { connect, type Socket } from "node:net"
import { readdirSync } from "node:fs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { closeOfflineWorld, openOfflineWorld, type OfflineWorld } from "../support/offlineWorld.ts"
import { startServiceProcess, type ServiceProcess } from "../support/serviceProcess.ts"

const attackers = Number(process.env.AGENTLOG_SLOW_HEADER_SOCKETS ?? 3000)
const maxConnections = 300
const token = "slow-header-test-token-0123456789"

let world: OfflineWorld
let service: ServiceProcess | undefined
const sockets = new Set<Socket>()

beforeAll(async () => {
  world = await openOfflineWorld("slowhdr")
})
afterAll(async () => {
  for (const s of sockets) s.destroy()
  await closeOfflineWorld(world, service)
})

const fdsOf = (pid: number) => readdirSync(`/proc/${pid}/fd`).length

/** Opens a connection that dribbles header lines forever; resolves once it is open (or refused). */
const slowHeaders = (port: number) =>
  new Promise<void>((resolve) => {
    const socket = connect(port, "127.0.0.1")
    sockets.add(socket)
    let timer: NodeJS.Timeout | undefined
    const done = () => {
      clearInterval(timer)
      sockets.delete(socket)
      resolve()
    }
    socket.once("error", done)
    socket.once("close", done)
    socket.once("connect", () => {
      socket.write("GET /v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\n")
      let n = 0
      timer = setInterval(() => socket.write(`X-Slow-${n++}: 1\r\n`), 1_000)
      resolve()
    })
  })

describe("the slow-header attack", () => {
  it("keeps authorised requests answered and the service's fds bounded", async () => {
    service = await startServiceProcess({
      dataDir: world.dataDir,
      claude: world.claude,
      env: { AGENTLOG_API_TOKEN: token, AGENTLOG_MAX_CONNECTIONS: String(maxConnections), AGENTLOG_MAX_CONNECTIONS_PER_CLIENT: "200" }
    })
    const port = Number(new URL(service.url).port)
    const pid = service.child.pid!
    const baseline = fdsOf(pid)
    const authed = async (path: string, init: RequestInit = {}) => {
      const r = await fetch(`${service!.url}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }
      })
      await r.arrayBuffer()
      return r.status
    }

    let maxFds = baseline
    const statuses: Array<number> = []
    for (let opened = 0; opened < attackers; opened += 250) {
      await Promise.all(Array.from({ length: 250 }, () => slowHeaders(port)))
      maxFds = Math.max(maxFds, fdsOf(pid))
      statuses.push(await authed("/v1/sessions?limit=5"))
    }
    statuses.push(await authed("/v1/sessions", { method: "POST", body: JSON.stringify({ query: "still here", cwd: world.claude.cwd }) }))
    statuses.push(await authed("/v1/sessions?limit=5"))
    maxFds = Math.max(maxFds, fdsOf(pid))
    console.log(
      `load: ${attackers} slow-header connections; ${sockets.size} still open client-side; service fds ${baseline} before, at most ${maxFds} during (cap ${maxConnections}); ${statuses.length} authorised requests: ${[...new Set(statuses)].join(",")}`
    )
    expect(statuses.every((s) => s === 200 || s === 202)).toBe(true)
    expect(maxFds).toBeLessThanOrEqual(baseline + maxConnections + 20)
  })
})
