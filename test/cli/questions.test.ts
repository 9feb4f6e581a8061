// Claude's questions at the terminal: what a typed line answers, and --answer's form.
import { describe, expect, it } from "vitest"
import { CliError } from "../../src/cli/client.ts"
import { answerOf, parseAnswers, questionsOf } from "../../src/cli/questions.ts"

const input = {
  questions: [
    { question: "Which color?", header: "Color", multiSelect: false, options: [{ label: "Red" }, { label: "Blue" }] },
    { question: "Which sizes?", header: "Size", multiSelect: true, options: [{ label: "S" }, { label: "M" }, { label: "L" }] }
  ]
}

describe("questions at the terminal", () => {
  it("reads AskUserQuestion's questions, and nothing from another tool or shape", () => {
    const qs = questionsOf("AskUserQuestion", input)!
    expect(qs.map((q) => [q.question, q.multiSelect, q.options])).toEqual([
      ["Which color?", false, ["Red", "Blue"]],
      ["Which sizes?", true, ["S", "M", "L"]]
    ])
    expect(questionsOf("Bash", input)).toBeUndefined()
    expect(questionsOf("AskUserQuestion", { questions: [{ question: "q", options: [{}] }] })).toBeUndefined()
  })

  it("answers by number, several where the question allows, or in words", () => {
    const [color, sizes] = questionsOf("AskUserQuestion", input)!
    expect(answerOf(color!, "2")).toBe("Blue")
    expect(answerOf(color!, "1,2")).toBeUndefined()
    expect(answerOf(color!, "3")).toBeUndefined()
    expect(answerOf(sizes!, "1, 3")).toBe("S, L")
    expect(answerOf(color!, "  green, please ")).toBe("green, please")
    expect(answerOf(color!, "   ")).toBeUndefined()
  })

  it("takes --answer as QUESTION=ANSWER", () => {
    expect(parseAnswers(["Which color?=Blue", "a=b=c"])).toEqual({ "Which color?": "Blue", "a=b": "c" })
    expect(() => parseAnswers(["no equals"])).toThrow(CliError)
    expect(() => parseAnswers(["=x"])).toThrow(CliError)
  })
})
