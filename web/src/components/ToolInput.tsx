// What a tool call asks for, in the form a person reads fastest: the Bash command, the
// Edit/Write as a diff, anything else as pretty-printed JSON.
import { pretty } from "../format.ts"
import { Code } from "./Code.tsx"
import { Diff } from "./Diff.tsx"

type Obj = Record<string, unknown>
const s = (v: unknown): string => (typeof v === "string" ? v : "")

export const ToolInput = ({ toolName, input }: { toolName: string; input: unknown }) => {
  const i = (input ?? {}) as Obj
  if (toolName === "Bash" && typeof i.command === "string")
    return (
      <div className="tool-input">
        {typeof i.description === "string" && <p className="muted">{i.description}</p>}
        <Code code={i.command} language="bash" className="command" />
      </div>
    )
  if (toolName === "Edit" && typeof i.old_string === "string")
    return <Diff before={s(i.old_string)} after={s(i.new_string)} path={s(i.file_path)} />
  if (toolName === "MultiEdit" && Array.isArray(i.edits))
    return (
      <>
        {(i.edits as Array<Obj>).map((e, n) => (
          <Diff key={n} before={s(e.old_string)} after={s(e.new_string)} path={s(i.file_path)} />
        ))}
      </>
    )
  if (toolName === "Write" && typeof i.content === "string")
    return <Diff before="" after={i.content} path={s(i.file_path)} />
  return <Code code={pretty(input)} language="json" />
}

export const ToolOutput = ({ toolName, text, isError }: { toolName: string; text: string; isError: boolean }) => {
  if (text === "") return <p className="muted">(no output)</p>
  const shown = text.length > 20_000 ? `${text.slice(0, 20_000)}\n… (${text.length - 20_000} more characters)` : text
  return <Code code={shown} className={`${isError ? "error-output" : "output"} ${toolName === "Bash" ? "terminal" : ""}`} />
}
