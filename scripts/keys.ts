// npm run keys -- add <name> --role <role> | list | revoke <name>
// Manages the API keys file (AGENTLOG_KEYS_FILE, default <AGENTLOG_DATA_DIR>/keys.json).
import { resolve } from "node:path"
import { addKey, KeyFileError, readKeys, revokeKey } from "../src/principals/keyFile.ts"
import { keysFileOf } from "../src/principals/keyRing.ts"
import { isRole, roles } from "../src/principals/roles.ts"

const usage = `usage: npm run keys -- <command>
  add <name> --role <${roles.join("|")}>   make a key; it is printed once and never again
  list                                       names, roles, key ids, created and revoked times
  revoke <name>                              the name's key stops working at once
The keys file is AGENTLOG_KEYS_FILE, or keys.json in AGENTLOG_DATA_DIR (./data).`

const file = keysFileOf(process.env, resolve(process.env.AGENTLOG_DATA_DIR || "./data"))

const fail = (message: string): never => {
  process.stderr.write(`keys: ${message}\n`)
  process.exit(2)
}

const [command, ...rest] = process.argv.slice(2)
try {
  if (command === "add") {
    const name = rest[0]
    const i = rest.indexOf("--role")
    const role = i >= 0 ? rest[i + 1] : undefined
    if (!name || name.startsWith("--")) fail(`add needs a name\n${usage}`)
    if (!role || !isRole(role)) fail(`add needs --role ${roles.join("|")}`)
    const { key, stored } = addKey(file, name!, role as (typeof roles)[number])
    process.stderr.write(`key ${stored.id} for ${stored.name} (${stored.role}); it is shown only now:\n`)
    process.stdout.write(key + "\n")
  } else if (command === "list") {
    const keys = readKeys(file)
    if (keys.length === 0) process.stdout.write(`no keys in ${file}\n`)
    for (const k of keys)
      process.stdout.write(
        `${k.name.padEnd(20)} ${k.role.padEnd(9)} ${k.id}  created ${k.createdAt}${k.revokedAt ? `  revoked ${k.revokedAt}` : ""}\n`
      )
  } else if (command === "revoke") {
    if (!rest[0]) fail(`revoke needs a name\n${usage}`)
    const k = revokeKey(file, rest[0]!)
    process.stdout.write(`revoked key ${k.id} of ${k.name}\n`)
  } else if (command === "--help" || command === "help" || command === undefined) {
    process.stdout.write(usage + "\n")
  } else {
    fail(`unknown command ${command}\n${usage}`)
  }
} catch (e) {
  fail(e instanceof KeyFileError ? e.message : String(e))
}
