// Keys pressed before the app's shortcuts listen. boot.ts draws the first screen before the
// app is evaluated, so a person who presses `c` (or `j`, `a`) as soon as the list is there
// would otherwise be ignored. They are kept from the start and dispatched again once the
// first shortcuts listen (useKeys), after that commit's other effects. A key typed into a
// field is a letter, never a shortcut: it is not kept.
import { typing } from "./typing.ts"

let kept: Array<KeyboardEvent> | undefined

const keep = (e: KeyboardEvent) => {
  if (!typing(e.target)) kept?.push(e)
}

export const keepEarlyKeys = (): void => {
  kept = []
  window.addEventListener("keydown", keep)
}

export const replayEarlyKeys = (): void => {
  if (kept === undefined) return
  const keys = kept
  kept = undefined
  window.removeEventListener("keydown", keep)
  setTimeout(() => {
    for (const e of keys) {
      const { key, code, ctrlKey, metaKey, altKey, shiftKey } = e
      window.dispatchEvent(new KeyboardEvent("keydown", { key, code, ctrlKey, metaKey, altKey, shiftKey, bubbles: true, cancelable: true }))
    }
  }, 0)
}
