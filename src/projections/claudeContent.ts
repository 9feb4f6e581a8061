// Reading the content blocks of Claude messages as recorded in ClaudeAssistantMessage /
// ClaudeUserMessage events (data.message is the SDK message; data.message.message the API message).
import { arr, obj, type JsonObject } from "./projectedEvent.ts"

/** The content blocks of a recorded Claude message ([] when it has none or only a string). */
export const contentBlocks = (eventData: JsonObject): ReadonlyArray<unknown> => arr(obj(obj(eventData.message).message).content)

/** Block types that ask for a tool: client tools, server tools and MCP tools. */
export const isToolUse = (block: JsonObject): boolean =>
  block.type === "tool_use" || block.type === "server_tool_use" || block.type === "mcp_tool_use"

/** The text of a tool result: a string as is, text blocks joined; null when it has none. */
export const toolResultText = (content: unknown): string | null => {
  if (typeof content === "string") return content
  const texts = arr(content)
    .map((b) => obj(b))
    .filter((b) => b.type === "text" && typeof b.text === "string")
    .map((b) => b.text as string)
  return texts.length > 0 ? texts.join("\n") : null
}
