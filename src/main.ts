// Entry point: \`npm start\`. Node's compile cache goes on before the service's modules load
// (src/serve.ts): compiling them (Effect, the Agent SDK, the type stripping of every .ts)
// was most of a start-up, and cached it took a third of the time (5.6 s against 1.9 s at
// load 10). The cache is Node's own (NODE_COMPILE_CACHE, else under the temp dir), keyed
// by each file's content; without a writable place it is simply off.
import { enableCompileCache } from "node:module"

enableCompileCache()
await import("./serve.ts")
