// Encoding an answer with its schema, cheaply. The answers' schemas transform nothing
// (Type is Encoded), so encoding is checking the body and keeping only the fields the
// schema names. Schema.decodeUnknownSync does exactly that, but through Effect's general
// parser (an Effect per field, issues collected on the way): on a page of 50 sessions it
// was about 40% of a read route's CPU. This compiles the schema's AST once into a plain
// function that does the same checks (types, literals, the schema's own filters: UUIDs,
// date-times, integer ranges) and the same field selection. When that function finds
// anything it does not accept, the schema's own decoder has the last word: it throws the
// descriptive error (a logged 500: a row that does not fit is a bug), or, had this been
// stricter than the schema, returns the schema's answer. A schema with a node this does
// not know (a transformation, a declaration, a record with named fields) is decoded by
// the schema's decoder every time.
import { Schema, SchemaAST } from "effect"

const mismatch: unique symbol = Symbol("mismatch")
type Compiled = (v: unknown) => unknown

const noOptions = {}

const passes = (checks: SchemaAST.Checks, v: unknown, ast: SchemaAST.AST): boolean => {
  for (const check of checks) {
    if (check._tag === "FilterGroup") {
      if (!passes(check.checks, v, ast)) return false
    } else if (check.run(v, ast, noOptions) !== undefined) return false
  }
  return true
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v)

const compileNode = (ast: SchemaAST.AST): Compiled | null => {
  switch (ast._tag) {
    case "String":
      return (v) => (typeof v === "string" ? v : mismatch)
    case "Number":
      return (v) => (typeof v === "number" ? v : mismatch)
    case "Boolean":
      return (v) => (typeof v === "boolean" ? v : mismatch)
    case "Null":
      return (v) => (v === null ? v : mismatch)
    case "Unknown":
    case "Any":
      return (v) => v
    case "Literal": {
      const literal = ast.literal
      return (v) => (v === literal ? v : mismatch)
    }
    case "Union": {
      const members = ast.types.map(compile)
      if (members.some((m) => m === null)) return null
      const ms = members as Array<Compiled>
      return (v) => {
        for (const m of ms) {
          const out = m(v)
          if (out !== mismatch) return out
        }
        return mismatch
      }
    }
    case "Arrays": {
      if (ast.elements.length !== 0 || ast.rest.length !== 1) return null
      const item = compile(ast.rest[0]!)
      if (item === null) return null
      return (v) => {
        if (!Array.isArray(v)) return mismatch
        const out = new Array<unknown>(v.length)
        for (let i = 0; i < v.length; i++) if ((out[i] = item(v[i])) === mismatch) return mismatch
        return out
      }
    }
    case "Objects": {
      if (ast.propertySignatures.length === 0) {
        // Record(String, Unknown): any JSON object, as it is.
        const [index, ...others] = ast.indexSignatures
        if (index === undefined || others.length > 0) return null
        if (index.parameter._tag !== "String" || index.parameter.checks !== undefined) return null
        if (index.type._tag !== "Unknown" || index.type.checks !== undefined) return null
        return (v) => (isRecord(v) ? v : mismatch)
      }
      if (ast.indexSignatures.length > 0) return null
      const fields: Array<{ name: string; optional: boolean; value: Compiled }> = []
      for (const p of ast.propertySignatures) {
        const value = compile(p.type)
        if (value === null || typeof p.name !== "string") return null
        fields.push({ name: p.name, optional: SchemaAST.isOptional(p.type), value })
      }
      return (v) => {
        if (!isRecord(v)) return mismatch
        const out: Record<string, unknown> = {}
        for (const f of fields) {
          const x = v[f.name]
          if (x === undefined) {
            // An absent optional key is left out; anything else undefined is for the schema to judge.
            if (f.optional && !Object.hasOwn(v, f.name)) continue
            return mismatch
          }
          if ((out[f.name] = f.value(x)) === mismatch) return mismatch
        }
        return out
      }
    }
    default:
      return null
  }
}

const compile = (ast: SchemaAST.AST): Compiled | null => {
  if (ast.encoding !== undefined || ("encodingChecks" in ast && ast.encodingChecks !== undefined)) return null
  const node = compileNode(ast)
  if (node === null) return null
  const checks = ast.checks
  if (checks === undefined || checks.length === 0) return node
  return (v) => {
    const out = node(v)
    return out === mismatch || !passes(checks, out, ast) ? mismatch : out
  }
}

/** `Schema.decodeUnknownSync(schema)` for an answer's schema, same result, without the general parser's cost. */
export const answerEncoder = (schema: Schema.Top): ((body: unknown) => unknown) => {
  const decode = Schema.decodeUnknownSync(schema as Schema.Decoder<unknown>)
  const fast = compile(schema.ast)
  if (fast === null) return decode
  return (body) => {
    const out = fast(body)
    return out === mismatch ? decode(body) : out
  }
}

/** The compiled check of a schema, null when it has a node the compiler leaves to the schema's decoder. */
export const compiledAnswer = (schema: Schema.Top): ((body: unknown) => unknown) | null => {
  const c = compile(schema.ast)
  return c === null ? null : (body) => {
    const out = c(body)
    return out === mismatch ? undefined : out
  }
}
