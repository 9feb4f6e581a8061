// API keys as an operator manages them: through `npm run keys`'s script, with the file
// checked for what must never be in it (the key) and what must (its hash, 0600).
import { execFileSync, spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { readKeys } from "../../src/principals/keyFile.ts"
import { makeKeyRing } from "../../src/principals/keyRing.ts"
import { permits } from "../../src/principals/roles.ts"

let dir: string
let file: string
const script = join(import.meta.dirname, "../../scripts/keys.ts")

const keys = (...args: Array<string>) =>
  spawnSync(process.execPath, [script, ...args], { encoding: "utf8", env: { ...process.env, AGENTLOG_KEYS_FILE: file } })

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "agentlog-keys-"))
  file = join(dir, "sub", "keys.json")
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

describe("npm run keys", () => {
  it("adds a key, prints it once, stores only its hash in a private file, and it names its principal", () => {
    const r = keys("add", "alice", "--role", "approver")
    expect(r.status).toBe(0)
    const key = r.stdout.trim()
    expect(key).toMatch(/^al_[A-Za-z0-9_-]{43}$/)
    const text = readFileSync(file, "utf8")
    expect(text).not.toContain(key)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(makeKeyRing(file).principalFor(key)).toEqual({ name: "alice", role: "approver" })
    expect(makeKeyRing(file).principalFor(key + "x")).toBeUndefined()
    expect(keys("list").stdout).toMatch(/^alice\s+approver\s+[0-9a-f]{12}\s+created /m)
  })

  it("revokes: the key stops naming anyone, the listing says when", () => {
    const key = keys("add", "bob", "--role", "operator").stdout.trim()
    expect(keys("revoke", "bob").status).toBe(0)
    expect(makeKeyRing(file).principalFor(key)).toBeUndefined()
    expect(keys("list").stdout).toMatch(/^bob\s+operator\s+\S+\s+created \S+\s+revoked /m)
    // A new key for the same name after revoking is allowed; a second active one is not.
    expect(keys("add", "bob", "--role", "viewer").status).toBe(0)
    const again = keys("add", "bob", "--role", "viewer")
    expect(again.status).toBe(2)
    expect(again.stderr).toContain("bob already has a key")
  })

  it("refuses bad input with a message and exit 2, changing nothing", () => {
    for (const args of [["add", "carol"], ["add", "carol", "--role", "root"], ["add", "bad name", "--role", "viewer"], ["revoke", "nobody"], ["frobnicate"]]) {
      const r = keys(...args)
      expect(r.status, args.join(" ")).toBe(2)
      expect(r.stderr).toMatch(/^keys: /)
    }
    expect(readKeys(file)).toEqual([])
    expect(execFileSync(process.execPath, [script, "--help"], { encoding: "utf8" })).toContain("add <name> --role")
  })
})

describe("roles", () => {
  it("are ordered: each may do what the ones before it may, and no more", () => {
    expect(permits("viewer", "viewer")).toBe(true)
    expect(permits("viewer", "operator")).toBe(false)
    expect(permits("operator", "approver")).toBe(false)
    expect(permits("approver", "operator")).toBe(true)
    expect(permits("approver", "admin")).toBe(false)
    expect(permits("admin", "approver")).toBe(true)
  })
})
