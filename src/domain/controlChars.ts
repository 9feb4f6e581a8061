// Characters that change how text is shown rather than what it says: C0 and C1 controls
// (a C1 CSI starts a terminal escape), the Unicode line and paragraph separators (line
// breaks to some readers of a JSON line) and the bidi controls (text that reads otherwise
// than it is stored). Names refuse them; log lines escape them.
export const controlChars = "\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069"
