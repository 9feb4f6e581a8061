// The command palette (Ctrl/⌘+K): every place and every action of the page by name. The
// page's own places are always there; a screen adds what can be done on it now
// (usePaletteActions), and typed text also finds sessions by title or prompt through the
// API's search.
import { useQuery } from "@tanstack/react-query"
import { useEffect, useId, useLayoutEffect, useMemo, useRef, useState } from "react"
import { client, ok } from "./api.ts"
import { navigate } from "./router.ts"

export interface PaletteAction {
  readonly id: string
  readonly group: string
  readonly label: string
  /** The shortcut that does the same, shown beside it. */
  readonly keys?: string
  readonly run: () => void
}

const registered = new Map<symbol, ReadonlyArray<PaletteAction>>()

/** Offers these actions in the palette while the calling screen is shown. */
export const usePaletteActions = (actions: ReadonlyArray<PaletteAction>): void => {
  const key = useRef(Symbol("palette"))
  // Updated on every render so the palette runs what the screen would run now.
  useLayoutEffect(() => {
    registered.set(key.current, actions)
  })
  useEffect(() => {
    const k = key.current
    return () => void registered.delete(k)
  }, [])
}

/** Each word typed appears in the label, in any order and case. */
export const matches = (label: string, text: string): boolean => {
  const l = label.toLowerCase()
  return text
    .toLowerCase()
    .split(/\s+/)
    .filter((w) => w !== "")
    .every((w) => l.includes(w))
}

export const Palette = ({ onClose, base }: { onClose: () => void; base: ReadonlyArray<PaletteAction> }) => {
  const ref = useRef<HTMLDialogElement>(null)
  const [text, setText] = useState("")
  const [active, setActive] = useState(0)
  const [search, setSearch] = useState("")
  const listId = useId()
  useEffect(() => {
    ref.current?.showModal()
  }, [])
  useEffect(() => {
    const t = setTimeout(() => setSearch(text.trim()), 120)
    return () => clearTimeout(t)
  }, [text])
  const found = useQuery({
    queryKey: ["sessions", "palette", search],
    queryFn: ({ signal }) => ok(client.GET("/v1/sessions", { params: { query: { q: search, limit: 8 } }, signal })),
    enabled: search.length >= 2,
    placeholderData: (prev) => prev
  })
  const actions = useMemo(() => {
    const screens = [...registered.values()].flat()
    const sessions: Array<PaletteAction> = (search.length >= 2 ? (found.data?.items ?? []) : []).map((s) => ({
      id: `session:${s.sessionId}`,
      group: "Session",
      label: `Open ${s.title ?? s.query.slice(0, 60)} (${s.status.replace("_", " ")})`,
      run: () => navigate(`/sessions/${s.sessionId}`)
    }))
    const mine = [...screens, ...base].filter((a) => matches(`${a.group} ${a.label}`, text))
    return [...mine, ...sessions]
  }, [base, text, search, found.data])
  const current = Math.min(active, Math.max(0, actions.length - 1))
  const run = (a: PaletteAction | undefined) => {
    if (!a) return
    ref.current?.close()
    onClose()
    a.run()
  }
  return (
    <dialog ref={ref} className="palette" aria-label="Command palette" onClose={onClose}>
      <input
        autoFocus
        role="combobox"
        aria-expanded="true"
        aria-controls={listId}
        aria-activedescendant={actions[current] ? `${listId}-${current}` : undefined}
        aria-label="Go to or do"
        placeholder="Go to, do, or find a session…"
        value={text}
        onChange={(e) => {
          setText(e.target.value)
          setActive(0)
        }}
        onKeyDown={(e) => {
          if (e.key === "ArrowDown") setActive(Math.min(actions.length - 1, current + 1))
          else if (e.key === "ArrowUp") setActive(Math.max(0, current - 1))
          else if (e.key === "Enter") run(actions[current])
          else return
          e.preventDefault()
        }}
      />
      <ul id={listId} role="listbox" aria-label="Commands">
        {actions.map((a, i) => (
          <li key={a.id} id={`${listId}-${i}`} role="option" aria-selected={i === current} onMouseMove={() => setActive(i)} onClick={() => run(a)}>
            <span className="group">{a.group}</span>
            <span>{a.label}</span>
            {a.keys && <kbd className="hint">{a.keys}</kbd>}
          </li>
        ))}
      </ul>
      {actions.length === 0 && <p className="empty">Nothing matches{search.length >= 2 && found.isFetching ? " yet…" : "."}</p>}
    </dialog>
  )
}
