// The last lines Claude wrote to stderr, kept so that a run that ends without a result can
// say why (a refused flag, a bad config, a crash). Bounded in lines and characters, and
// cleaned of secrets before anyone sees them: the values the run was given (MCP env and
// headers, secret-looking variables of Claude's environment) and whatever looks like a
// key or a token.
import { redacted } from "../domain/sessionOptions.ts"

const secretName = /KEY|TOKEN|SECRET|PASSW|CREDENTIAL|AUTH|COOKIE|SESSION/i

/** Shapes of credentials, whoever's they are. */
const secretShapes: ReadonlyArray<[RegExp, string]> = [
  [/\bsk-[A-Za-z0-9_-]{8,}/g, redacted],
  [/\b(?:gh[pousr]_|github_pat_|xox[abposr]-|glpat-)[A-Za-z0-9_-]{8,}/g, redacted],
  [/\bAKIA[0-9A-Z]{12,}/g, redacted],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{4,}/gi, `$1 ${redacted}`],
  // name=value, name: value, "name": "value" for secret-looking names
  [/\b([A-Za-z0-9_-]*(?:api[_-]?key|token|secret|passw(?:or)?d|authorization|credential)[A-Za-z0-9_-]*)(["']?\s*[:=]\s*["']?)(?!(?:Bearer|Basic)\s|\[redacted\])[^\s"',;]+/gi, `$1$2${redacted}`]
]

/** Literal values too short to be credentials would turn every "1" or "on" in the text into [redacted]. */
const minSecretLength = 6

export interface StderrTailOptions {
  /** Values to redact wherever they appear (the run's secrets, resolved). */
  readonly secrets: Iterable<string>
  readonly maxLines?: number
  readonly maxChars?: number
}

/** `secrets` longest first, so that a secret containing another is replaced whole. */
export const redactText = (text: string, secrets: ReadonlyArray<string>): string => {
  let out = text
  for (const s of secrets) out = out.split(s).join(redacted)
  for (const [shape, by] of secretShapes) out = out.replace(shape, by)
  return out
}

/** The values of secret-looking variables in Claude's environment. */
export const secretValuesOfEnv = (env: Readonly<Record<string, string | undefined>>): Array<string> =>
  Object.entries(env).flatMap(([k, v]) => (v !== undefined && secretName.test(k) ? [v] : []))

export const makeStderrTail = (options: StderrTailOptions) => {
  const maxLines = options.maxLines ?? 20
  const maxChars = options.maxChars ?? 2_000
  const secrets = [...new Set(options.secrets)].filter((s) => s.length >= minSecretLength).sort((a, b) => b.length - a.length)
  // Each line is redacted whole, before anything is cut from it (a cut could split a secret).
  const keep = (line: string) => {
    if (line.trim() === "") return
    const clean = redactText(line, secrets)
    lines.push(clean.length > maxChars ? `…${clean.slice(-(maxChars - 1))}` : clean)
    if (lines.length > maxLines) lines = lines.slice(-maxLines)
  }
  let lines: Array<string> = []
  let partial = ""
  return {
    push(chunk: string): void {
      const parts = (partial + chunk).split(/\r?\n/)
      partial = parts.pop() ?? ""
      for (const l of parts) keep(l)
      // One endless line must not grow without bound either.
      if (partial.length > 4 * maxChars) {
        keep(partial)
        partial = ""
      }
    },
    /** The tail, redacted; "" when Claude wrote nothing. */
    text(): string {
      const last = partial.trim() !== "" ? [redactText(partial, secrets)] : []
      const text = [...lines, ...last].slice(-maxLines).join("\n")
      return text.length > maxChars ? `…${text.slice(-(maxChars - 1))}` : text
    }
  }
}
