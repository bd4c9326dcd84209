// Generates TypeScript types for the loyalty.v1 messages and service from the
// shipped contract (./protos, see copy-protos.mjs) into src/generated/, with
// @grpc/proto-loader's proto-loader-gen-types and the options the adapter
// loads the protos with at run time (src/modules/loyalty/protos.ts:
// keepCase, longs and enums as strings, defaults, oneofs). Run by `npm run
// build` before `medusa plugin:build`; the output is not committed.
import { execFileSync } from "node:child_process"
import { existsSync, rmSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const protos = join(root, "protos")
const out = join(root, "src", "generated")
const contract = join("loyalty", "v1", "loyalty.proto")

if (!existsSync(join(protos, contract))) {
  console.error(`gen-types: ${join(protos, contract)} not found (run scripts/copy-protos.mjs first)`)
  process.exit(1)
}
const require = createRequire(import.meta.url)
const bin = join(dirname(require.resolve("@grpc/proto-loader/package.json")), "build", "bin", "proto-loader-gen-types.js")
rmSync(out, { recursive: true, force: true })
execFileSync(
  process.execPath,
  [
    bin,
    "--keepCase",
    "--longs=String",
    "--enums=String",
    "--defaults",
    "--oneofs",
    "--grpcLib=@grpc/grpc-js",
    "--includeDirs",
    "protos",
    "--outDir",
    out,
    contract,
  ],
  { cwd: root, stdio: "inherit" }
)
console.log(`gen-types: ${contract} -> ${out}`)
