// Single-key shortcuts: ignored while typing in a field, so `j` in a prompt is a letter.
import { useEffect, useLayoutEffect, useRef } from "react"
import { replayEarlyKeys } from "./earlyKeys.ts"
import { typing } from "./typing.ts"

export type KeyMap = Record<string, (e: KeyboardEvent) => void>


export const useKeys = (map: KeyMap, enabled = true): void => {
  const ref = useRef(map)
  ref.current = map
  // A screen hidden behind a Suspense fallback (the next screen's code is loading) keeps its
  // passive effects but loses its layout effects: without this, keys typed into the coming
  // form would act on the hidden list (an `e` in the prompt archived a session).
  const shown = useRef(false)
  useLayoutEffect(() => {
    shown.current = true
    return () => {
      shown.current = false
    }
  }, [])
  useEffect(() => {
    if (!enabled) return
    const onKey = (e: KeyboardEvent) => {
      if (!shown.current || e.ctrlKey || e.metaKey || e.altKey || typing(e.target) || e.defaultPrevented) return
      const f = ref.current[e.key]
      if (f === undefined) return
      e.preventDefault()
      f(e)
    }
    window.addEventListener("keydown", onKey)
    replayEarlyKeys()
    return () => window.removeEventListener("keydown", onKey)
  }, [enabled])
}

/** Every shortcut of the page, for the `?` overlay. */
export const shortcuts: ReadonlyArray<readonly [string, string, string]> = [
  ["Sessions", "j / k", "move down / up (approvals first)"],
  ["Sessions", "Enter", "open the selected session"],
  ["Sessions", "c", "new session"],
  ["Sessions", "e", "archive / unarchive the selected session"],
  ["Sessions", "a / d", "allow / deny the selected approval"],
  ["Anywhere", "Ctrl/⌘ + K", "command palette: go anywhere, do what the screen offers, find a session"],
  ["Anywhere", "/", "search sessions"],
  ["Anywhere", "?", "this list"],
  ["Anywhere", "g then s / u", "go to sessions / audit"],
  ["Anywhere", "Esc", "close a dialog, leave a field"],
  ["New session", "Ctrl/⌘ + Enter", "launch"],
  ["Session", "a", "allow the first pending approval"],
  ["Session", "d", "deny it (a reason is asked)"],
  ["Session", "E", "edit its input, then allow"],
  ["Session", "i", "interrupt the running run"],
  ["Session", "r", "continue: focus the prompt box"],
  ["Session", "t / h / l", "transcript / history / timeline"],
  ["Session", "Ctrl/⌘ + Enter", "send the prompt (continue or fork)"]
]
