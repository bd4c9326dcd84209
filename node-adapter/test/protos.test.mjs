// The protos the package ships must be the repo's contract, byte for byte.
import { describe, it } from "node:test"
import assert from "node:assert/strict"
import { readFileSync, readdirSync, statSync, existsSync } from "node:fs"
import { join, relative } from "node:path"
import { ADAPTER_ROOT } from "./helpers/server.mjs"

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name)
    return statSync(p).isDirectory() ? files(p) : [p]
  })
}

const repoProtos = join(ADAPTER_ROOT, "..", "protos")
const shipped = join(ADAPTER_ROOT, "protos")

describe("shipped protos", () => {
  it("every .proto of the repo's protos/ is shipped unchanged", () => {
    const sources = files(repoProtos).filter((f) => f.endsWith(".proto"))
    assert.ok(sources.length > 0, `no .proto under ${repoProtos}`)
    for (const src of sources) {
      const rel = relative(repoProtos, src)
      const copy = join(shipped, rel)
      assert.ok(existsSync(copy), `${rel} is missing from the package's protos/ (run npm run build)`)
      assert.ok(readFileSync(copy).equals(readFileSync(src)), `${rel} differs from ../protos/${rel}: rebuild the package`)
    }
  })

  it("the package ships nothing under loyalty/ that the repo does not have", () => {
    for (const copy of files(join(shipped, "loyalty"))) {
      const rel = relative(shipped, copy)
      assert.ok(existsSync(join(repoProtos, rel)), `${rel} is shipped but not in ../protos`)
    }
  })

  it("the vendored google/rpc protos are shipped too", () => {
    for (const rel of ["google/rpc/status.proto", "google/rpc/error_details.proto"]) {
      assert.ok(readFileSync(join(shipped, rel)).equals(readFileSync(join(ADAPTER_ROOT, "proto-vendor", rel))), rel)
    }
  })
})
