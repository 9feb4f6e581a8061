// Writes src/http/api.generated.ts: the TypeScript types openapi-typescript generates from
// the service's OpenAPI document, which the project's own clients (the page, the command,
// the tests' typed flow) import. `npm run api:types` after changing a route or a schema;
// test/api/generatedClient.test.ts fails while the file is stale.
import { writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { buildOpenApi } from "../src/http/openapi.ts"
import { generatedTypes } from "../test/api/generatedTypes.ts"

const target = fileURLToPath(new URL("../src/http/api.generated.ts", import.meta.url))
writeFileSync(target, await generatedTypes(buildOpenApi()))
console.log(`wrote ${target}`)
