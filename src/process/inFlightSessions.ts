// Which sessions had a run queued or in flight according to the store: the ones whose last
// lifecycle event opened a run that nothing closed. Only lifecycle events are read, so the
// store skips the bulk of Claude's messages.
import { Effect, Stream } from "effect"
import { sessionIdOf, streamPrefix } from "../domain/streamName.ts"
import type { EventStoreShape, ReadError } from "../eventstore/eventStore.ts"

const opening = ["SessionLaunched", "SessionForked", "ContinueRequested", "RunStarted"]
const closing = ["RunCompleted", "RunFailed", "RunInterrupted", "RunAbandoned"]

export const inFlightSessions = (store: EventStoreShape): Effect.Effect<ReadonlyArray<string>, ReadError> => {
  const last = new Map<string, string>()
  return store.readAll({ filter: { streamPrefix: [streamPrefix], eventTypes: [...opening, ...closing] } }).pipe(
    Stream.runForEach((e) => Effect.sync(() => last.set(e.stream, e.type))),
    Effect.map(() =>
      [...last].flatMap(([stream, type]) => {
        const sessionId = opening.includes(type) ? sessionIdOf(stream) : null
        return sessionId ? [sessionId] : []
      })
    )
  )
}
