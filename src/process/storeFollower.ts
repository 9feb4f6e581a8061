// Follows chosen event types in the store from its head, resubscribing after a failure,
// until stopped. The supervisor uses it to hear of approvals decided and interrupts
// requested through another agentlog instance on the same store.
import { Effect, Fiber, Stream } from "effect"
import type { EventStoreShape, Position, RecordedEvent } from "../eventstore/eventStore.ts"
import { errorText, type Logger } from "../log.ts"

export interface StoreFollower {
  readonly stop: () => Promise<void>
}


export const followStore = async (
  store: EventStoreShape,
  eventTypes: ReadonlyArray<string>,
  onEvent: (e: RecordedEvent) => void,
  logger: Logger
): Promise<StoreFollower> => {
  let from: Position | "start" = (await Effect.runPromise(store.headPosition())) ?? "start"
  // After a failure it picks up after the last event it saw: nothing missed, nothing twice.
  const once = () =>
    store.subscribeAll({ from, filter: { eventTypes } }).pipe(
      Stream.runForEach((e) =>
        Effect.sync(() => {
          if (e._tag !== "RecordedEvent") return
          from = e.position
          onEvent(e)
        })
      )
    )
  const fiber = Effect.runFork(
    Effect.gen(function* () {
      while (true) {
        const r = yield* Effect.result(Effect.suspend(once))
        const why = r._tag === "Failure" ? errorText(r.failure) : "the subscription ended"
        logger.log("warn", `following ${eventTypes.join(", ")} in the store: resubscribing`, { error: why })
        yield* Effect.sleep(1_000)
      }
    })
  )
  return { stop: () => Effect.runPromise(Fiber.interrupt(fiber)).then(() => undefined) }
}
