// A clock for the components that show how long ago or how long left.
import { useEffect, useState } from "react"

/** A tick every `ms` (for "waiting 1m12s" and "expires in"). */
export const useNow = (ms = 1000): number => {
  const [now, setNow] = useState(Date.now())
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms)
    return () => clearInterval(t)
  }, [ms])
  return now
}
