// Copies the repo's contract (../protos) and the vendored google/rpc protos
// into ./protos, the folder the npm package ships and loads at run time.
import { cpSync, existsSync, mkdirSync, rmSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const source = join(root, "..", "protos")
const vendor = join(root, "proto-vendor")
const target = join(root, "protos")

if (!existsSync(join(source, "loyalty", "v1", "loyalty.proto"))) {
  console.error(`copy-protos: ${source}/loyalty/v1/loyalty.proto not found`)
  process.exit(1)
}
rmSync(target, { recursive: true, force: true })
mkdirSync(target, { recursive: true })
cpSync(source, target, { recursive: true })
cpSync(vendor, target, { recursive: true })
console.log(`copy-protos: ${source} + ${vendor} -> ${target}`)
