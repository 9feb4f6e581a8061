// Key changes, recorded: the keys file decides who may call, the store keeps the history
// of it. A system stream (`agentlog-keys`, outside the session streams, so no read model
// or process manager sees it) gets KeyAdded and KeyRevoked for every change of the file
// that it does not have yet: at start-up, and whenever the file changes while the service
// runs (`npm run keys` edits the file, not the store). Each event's id is derived from the
// key and the change, so two instances on one store, or a retry, never record it twice.
// The events carry the key's public id, its owner, role and who ran the command: never
// the key, never its hash.
import { Effect, Stream } from "effect"
import { derivedId } from "../commands/sessionCommands.ts"
import type { AppendError, EventData, EventStoreShape, ReadError } from "../eventstore/eventStore.ts"
import type { StoredKey } from "./keyFile.ts"
import { type KeyRing } from "./keyRing.ts"

export const keysStream = "agentlog-keys"

type Change = { readonly type: "KeyAdded" | "KeyRevoked"; readonly key: StoredKey }

const changesOf = (keys: ReadonlyArray<StoredKey>): ReadonlyArray<Change> =>
  keys.flatMap((key): Array<Change> => [
    { type: "KeyAdded", key },
    ...(key.revokedAt !== undefined ? [{ type: "KeyRevoked" as const, key }] : [])
  ])

const eventOf = ({ type, key }: Change, recordedAt: string): EventData => {
  const added = type === "KeyAdded"
  const by = (added ? key.createdBy : key.revokedBy) ?? "keys-file"
  return {
    id: derivedId(keysStream, key.id, key.createdAt, type),
    type,
    data: added
      ? { keyId: key.id, name: key.name, role: key.role, at: key.createdAt, by }
      : { keyId: key.id, name: key.name, role: key.role, at: key.revokedAt!, by },
    metadata: { correlationId: key.id, schemaVersion: 1, recordedAt, source: "api", actor: by }
  }
}

/** Appends what the stream lacks of the keys' history; the number of events appended. */
export const recordKeyChanges = (
  store: EventStoreShape,
  keys: ReadonlyArray<StoredKey>,
  attempt = 0
): Effect.Effect<number, AppendError | ReadError> =>
  Effect.gen(function* () {
    const recorded = yield* store.readStream(keysStream).pipe(
      Stream.runFold(
        () => ({ ids: new Set<string>(), last: null as bigint | null }),
        (acc, e) => {
          acc.ids.add(e.id)
          acc.last = e.revision
          return acc
        }
      ),
      Effect.catchTag("StreamNotFound", () => Effect.succeed({ ids: new Set<string>(), last: null as bigint | null }))
    )
    const recordedAt = new Date().toISOString()
    const missing = changesOf(keys)
      .map((c) => eventOf(c, recordedAt))
      .filter((e) => !recorded.ids.has(e.id))
    if (missing.length === 0) return 0
    yield* store.append(keysStream, missing, recorded.last ?? "no_stream")
    return missing.length
  }).pipe(
    // Another instance recorded at the same time: read again and append what is still missing.
    Effect.catchTag("WrongExpectedVersion", (e) => (attempt < 3 ? recordKeyChanges(store, keys, attempt + 1) : Effect.fail(e)))
  )

/**
 * Records the file's changes now and then every `everyMs` when the file changed (the ring
 * re-reads it only then); stop() ends the polling. Failures are logged and tried again on
 * the next change or tick: recording the history never stands in the way of the API.
 */
export const startKeyRecorder = (
  store: EventStoreShape,
  ring: KeyRing,
  log: (message: string, fields: Record<string, unknown>) => void,
  everyMs = 1_000
): { readonly stop: () => void } => {
  let seen: ReadonlyArray<StoredKey> | undefined
  let running: Promise<void> = Promise.resolve()
  const tick = () => {
    running = running.then(async () => {
      const keys = ring.all()
      if (keys === seen) return
      const r = await Effect.runPromise(Effect.result(recordKeyChanges(store, keys)))
      if (r._tag === "Success") {
        seen = keys
        if (r.success > 0) log("key changes recorded", { stream: keysStream, events: r.success })
      } else log("key changes not recorded yet", { stream: keysStream, error: r.failure._tag })
    })
    return running
  }
  void tick()
  const timer = setInterval(tick, everyMs)
  timer.unref()
  return { stop: () => clearInterval(timer) }
}
