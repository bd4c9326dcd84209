// The ErrorInfo reason -> MedusaError table, fed with real google.rpc.Status
// bytes in a grpc-status-details-bin trailer (reasons the current server
// cannot be made to return, such as FORBIDDEN, are covered here).
import { describe, it } from "node:test"
import assert from "node:assert/strict"
import { createRequire } from "node:module"
import { join } from "node:path"
import * as grpc from "@grpc/grpc-js"
import { ADAPTER_ROOT } from "./helpers/server.mjs"
import { MedusaError, pkg } from "./helpers/pkg.mjs"

const require = createRequire(import.meta.url)
const protobuf = require("protobufjs")

function statusTrailer({ code, message, reason, violations }) {
  const root = new protobuf.Root()
  const dir = join(ADAPTER_ROOT, "protos")
  root.resolvePath = (_o, t) => (t.startsWith("google/rpc") ? join(dir, t) : t)
  root.loadSync(["google/rpc/status.proto", "google/rpc/error_details.proto"], { keepCase: true })
  const Status = root.lookupType("google.rpc.Status")
  const ErrorInfo = root.lookupType("google.rpc.ErrorInfo")
  const BadRequest = root.lookupType("google.rpc.BadRequest")
  const details = [
    { type_url: "type.googleapis.com/google.rpc.ErrorInfo", value: ErrorInfo.encode({ reason, domain: "loyalty.v1" }).finish() },
  ]
  if (violations) {
    details.push({ type_url: "type.googleapis.com/google.rpc.BadRequest", value: BadRequest.encode({ field_violations: violations }).finish() })
  }
  const md = new grpc.Metadata()
  md.set("grpc-status-details-bin", Buffer.from(Status.encode({ code, message, details }).finish()))
  return Object.assign(new Error(`${code} ${message}`), { code, details: message, metadata: md })
}

const TABLE = [
  // reason, grpc code, Medusa type, HTTP status Medusa's error handler gives it
  ["INVALID_DATA", 3, "invalid_data", 400],
  ["NOT_FOUND", 5, "not_found", 404],
  ["NOT_ALLOWED", 9, "not_allowed", 400],
  ["DUPLICATE_ERROR", 6, "duplicate_error", 422],
  ["CONFLICT", 9, "conflict", 409],
  ["UNAUTHORIZED", 16, "unauthorized", 401],
  ["FORBIDDEN", 7, "forbidden", 403],
  ["UNAVAILABLE", 14, "unexpected_state", 500],
]

describe("ErrorInfo reason -> MedusaError", () => {
  for (const [reason, code, type, http] of TABLE) {
    it(`${reason} -> ${type} (${http})`, () => {
      const err = pkg.toMedusaError(statusTrailer({ code, message: `server says ${reason}`, reason }), { address: "127.0.0.1:50051", method: "X" })
      assert.ok(err instanceof MedusaError)
      assert.equal(err.type, type)
      assert.equal(err.message, `server says ${reason}`)
      assert.equal(err.reason, reason)
      assert.equal(err.grpcCode, code)
    })
  }

  it("BadRequest field violations are kept", () => {
    const err = pkg.toMedusaError(
      statusTrailer({ code: 3, message: "delta must be a non-zero number", reason: "INVALID_DATA", violations: [{ field: "delta", description: "delta must be a non-zero number" }] }),
      { address: "a:1", method: "AdjustPoints" }
    )
    assert.deepEqual(err.fieldViolations, [{ field: "delta", description: "delta must be a non-zero number", reason: undefined }])
  })

  it("a status without details falls back on the gRPC code", () => {
    const err = pkg.toMedusaError(Object.assign(new Error("x"), { code: 5, details: "nope", metadata: new grpc.Metadata() }), { address: "a:1", method: "M" })
    assert.equal(err.type, "not_found")
    assert.equal(err.message, "nope")
    const other = pkg.toMedusaError(Object.assign(new Error("x"), { code: 13, details: "boom", metadata: new grpc.Metadata() }), { address: "h:9", method: "M" })
    assert.equal(other.type, "unexpected_state")
    assert.match(other.message, /h:9/)
  })

  it("asMedusaError turns workflow.run()'s plain-object rejection back into a MedusaError", () => {
    const e = pkg.asMedusaError({ message: "delta must be a non-zero number", type: "invalid_data", name: "Error" })
    assert.ok(e instanceof MedusaError)
    assert.equal(e.type, "invalid_data")
    assert.equal(e.message, "delta must be a non-zero number")
  })
})
