// The service's core (real write side, projections and SupervisorLive) on a given store, with
// one TestClock given to the supervisor and kept by the runtime, so a test's
// `runtime.runPromise(TestClock.adjust(ms))` moves the supervisor's timers (one instance:
// layers are shared by reference). Used by the supervisor's clock tests.
import { Layer, ManagedRuntime } from "effect"
import { TestClock } from "effect/testing"
import { EventStore, type EventStoreShape } from "../../src/eventstore/eventStore.ts"
import { App, type AppSettings, coreLayer, SupervisorLive } from "../../src/service.ts"

export const testClockRuntime = (store: EventStoreShape, settings: AppSettings) => {
  const clock = TestClock.layer({ warningDelay: "1 hour" })
  return ManagedRuntime.make(
    Layer.merge(coreLayer({ store: Layer.succeed(EventStore)(store), supervisor: SupervisorLive.pipe(Layer.provide(clock)) }), clock).pipe(
      Layer.provide(Layer.succeed(App)(settings))
    )
  )
}
