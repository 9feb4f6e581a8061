import { cleanup, render } from "@testing-library/react"
import { afterEach, expect, it, vi } from "vitest"
import { keepEarlyKeys } from "./earlyKeys.ts"
import { useKeys } from "./keys.ts"

afterEach(cleanup)

const Shortcuts = ({ onKey }: { onKey: (key: string) => void }) => {
  useKeys({ c: () => onKey("c"), j: () => onKey("j") })
  return null
}

it("keys pressed before the shortcuts listen reach them once they do, but not what was typed into a field", async () => {
  keepEarlyKeys()
  // The first screen is drawn, the app is not evaluated yet.
  const field = document.createElement("input")
  document.body.append(field)
  window.dispatchEvent(new KeyboardEvent("keydown", { key: "j", bubbles: true }))
  field.dispatchEvent(new KeyboardEvent("keydown", { key: "c", bubbles: true }))
  window.dispatchEvent(new KeyboardEvent("keydown", { key: "c", bubbles: true }))
  const got: Array<string> = []
  render(<Shortcuts onKey={(k) => got.push(k)} />)
  await vi.waitFor(() => expect(got).toEqual(["j", "c"]))
  // Kept once: later keys go to the shortcuts directly, and the early ones are not given again.
  window.dispatchEvent(new KeyboardEvent("keydown", { key: "j", bubbles: true }))
  render(<Shortcuts onKey={(k) => got.push(`second ${k}`)} />)
  window.dispatchEvent(new KeyboardEvent("keydown", { key: "c", bubbles: true }))
  expect(got).toEqual(["j", "c", "j", "c", "second c"])
  field.remove()
})
