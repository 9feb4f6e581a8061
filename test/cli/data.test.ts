// agentlog export, import and verify, as processes on stores on disk: an export imported
// into an empty store gives the same streams byte for byte and the same read models;
// importing again, or into a store that has part of it, adds nothing twice; a stream that
// differs is refused and named; verify passes a sound store and names what is wrong with
// a damaged one.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { agentlog, buildReadModels, eventCount, generate, readModelDigests, storeContents } from "./dataSupport.ts"

let root: string
let source: string
let exported: string
let lines: Array<string>

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "agentlog-data-"))
  source = join(root, "source")
  generate(source)
  await buildReadModels(source)
  exported = join(root, "all.ndjson")
  const r = await agentlog(["export", "--all", "--data-dir", source])
  expect([r.code, r.stderr]).toEqual([0, "exported 1200 events\n"])
  writeFileSync(exported, r.stdout)
  lines = r.stdout.trimEnd().split("\n")
}, 300_000)
afterAll(() => rmSync(root, { recursive: true, force: true }))

const freshDir = (name: string) => {
  const d = join(root, name)
  mkdirSync(d)
  return d
}

describe("agentlog export / import / verify", { timeout: 300_000 }, () => {
  it("export -> import into an empty store: every stream byte-identical, the same read models", async () => {
    expect(lines).toHaveLength(1200)
    const target = freshDir("roundtrip")
    const r = await agentlog(["import", exported, "--data-dir", target, "--json"])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toEqual({ added: 1200, alreadyPresent: 0, refused: [] })
    const [a, b] = [await storeContents(source), await storeContents(target)]
    expect(b.size).toBe(12)
    expect(b).toEqual(a)
    await buildReadModels(target)
    expect(readModelDigests(target, true)).toEqual(readModelDigests(source, true))

    // Some sessions only, and only from a time on.
    const [first, second] = [...a.keys()].map((s) => s.slice("session-".length))
    const some = await agentlog(["export", first!, second!, "--data-dir", source])
    expect(new Set(some.stdout.trimEnd().split("\n").map((l) => JSON.parse(l).stream))).toEqual(new Set([`session-${first}`, `session-${second}`]))
    const since = JSON.parse(lines[600]!).created as string
    const later = (await agentlog(["export", "--all", "--since", since, "--data-dir", source])).stdout.trimEnd().split("\n")
    expect(later).toEqual(lines.filter((l) => JSON.parse(l).created >= since))
    expect((await agentlog(["export", "--data-dir", source])).code).toBe(2)
  })

  it("importing twice, or into a store that holds part of the file, adds nothing twice", async () => {
    const target = freshDir("twice")
    const half = join(root, "half.ndjson")
    writeFileSync(half, lines.slice(0, 700).join("\n") + "\n")
    const r1 = await agentlog(["import", half, "--data-dir", target, "--json"])
    expect(JSON.parse(r1.stdout)).toEqual({ added: 700, alreadyPresent: 0, refused: [] })
    const r2 = await agentlog(["import", exported, "--data-dir", target, "--json"])
    expect([r2.code, JSON.parse(r2.stdout)]).toEqual([0, { added: 500, alreadyPresent: 700, refused: [] }])
    const r3 = await agentlog(["import", exported, "--data-dir", target])
    expect([r3.code, r3.stdout]).toEqual([0, "imported 0 events; 1200 were already there\n"])
    const contents = await storeContents(target)
    expect(eventCount(contents)).toBe(1200)
    expect(contents).toEqual(await storeContents(source))
  })

  it("a stream that conflicts with the store is refused and named; the others go in", async () => {
    const target = freshDir("conflict")
    const base = lines.map((l) => JSON.parse(l))
    const victim = base[400].stream as string
    const ofVictim = base.filter((e) => e.stream === victim)
    // The store has the victim's first three events, the file another third one.
    writeFileSync(join(root, "three.ndjson"), lines.filter((_, i) => base[i].stream === victim).slice(0, 3).join("\n") + "\n")
    expect((await agentlog(["import", join(root, "three.ndjson"), "--data-dir", target])).code).toBe(0)
    const other = structuredClone(base)
    const changed = other.find((e) => e.stream === victim && e.revision === 2)
    changed.id = "00000000-0000-4000-8000-000000000002"
    const conflicting = join(root, "conflicting.ndjson")
    writeFileSync(conflicting, other.map((e) => JSON.stringify(e)).join("\n") + "\n")

    const r = await agentlog(["import", conflicting, "--data-dir", target])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain(`refused ${victim}: revision 2: the store has event ${ofVictim[2].id}, the file 00000000-0000-4000-8000-000000000002`)
    const contents = await storeContents(target)
    expect(contents.get(victim)).toHaveLength(3)
    expect(eventCount(contents)).toBe(1200 - ofVictim.length + 3)

    // Same id, other content: refused as well.
    const edited = structuredClone(base)
    edited.find((e) => e.stream === victim && e.revision === 1).data.query = "something else"
    writeFileSync(conflicting, edited.map((e) => JSON.stringify(e)).join("\n") + "\n")
    const r2 = await agentlog(["import", conflicting, "--data-dir", target])
    expect(r2.code).toBe(1)
    expect(r2.stdout).toContain(`refused ${victim}: revision 1: the store has event ${ofVictim[1].id}, the file ${ofVictim[1].id} with other content`)
  })

  it("verify passes a sound store and names every kind of damage", async () => {
    const sound = await agentlog(["verify", source])
    expect([sound.code, sound.stdout]).toEqual([0, `${source}: 1200 events in 12 streams\nok\n`])

    const damaged = freshDir("damaged")
    for (const f of ["events.db", "read.db"]) copyFileSync(join(source, f), join(damaged, f))
    // A read model that is not what the events make.
    const read = new DatabaseSync(join(damaged, "read.db"))
    read.exec("UPDATE sessions SET title = 'tampered' WHERE rowid = (SELECT min(rowid) FROM sessions)")
    read.close()
    const tampered = await agentlog(["verify", damaged])
    expect([tampered.code, tampered.stdout.split("\n").filter((l) => l.startsWith("PROBLEM"))]).toEqual([
      1,
      ["PROBLEM: read model sessions: table sessions differs from a rebuild (12 rows on disk, 12 rebuilt); `npm run rebuild-projections` rebuilds it"]
    ])

    // Events missing or not matching their schema.
    const db = new DatabaseSync(join(damaged, "events.db"))
    const row = (position: number) => db.prepare("SELECT stream, revision, id, type FROM events WHERE position = ?").get(position) as { stream: string; revision: number; id: string; type: string }
    const gone = row(100)
    db.prepare("DELETE FROM events WHERE position = 100").run()
    const launched = db.prepare("SELECT id, stream FROM events WHERE type = 'SessionLaunched' LIMIT 1").get() as { id: string; stream: string }
    db.prepare("UPDATE events SET data = json_remove(data, '$.query') WHERE id = ?").run(launched.id)
    db.close()
    const r = await agentlog(["verify", damaged])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain("PROBLEM: positions 100..100 are missing")
    expect(r.stdout).toContain(`PROBLEM: stream ${gone.stream}: revision ${gone.revision + 1} at position`)
    expect(r.stdout).toContain(`PROBLEM: event ${launched.id} (${launched.stream}@0, SessionLaunched) does not decode`)
    expect(r.stdout).toMatch(/\d+ problem\(s\) found\n$/)

    // A row whose data is not JSON any more: named (and the read models cannot be rebuilt).
    const torn = new DatabaseSync(join(damaged, "events.db"))
    const t = torn.prepare("SELECT stream, revision, id FROM events WHERE position = 200").get() as { stream: string; revision: number; id: string }
    torn.exec("UPDATE events SET data = '{\"truncated' WHERE position = 200")
    torn.close()
    const r2 = await agentlog(["verify", damaged])
    expect(r2.code).toBe(1)
    expect(r2.stdout).toContain(`PROBLEM: event ${t.id} (${t.stream}@${t.revision}): data or metadata is not JSON`)
  })
})
