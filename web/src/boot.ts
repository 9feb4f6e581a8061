// Imported first by main.tsx: its body runs before the modules main.tsx imports after it.
import { startEarly } from "./early.ts"

startEarly(location.pathname)
