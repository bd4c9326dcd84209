import { existsSync } from "fs"
import { dirname, join } from "path"
import * as grpc from "@grpc/grpc-js"
import * as protoLoader from "@grpc/proto-loader"
import * as protobuf from "protobufjs"
import type { ProtoGrpcType } from "./wire"

const CONTRACT = join("loyalty", "v1", "loyalty.proto")

/**
 * The folder holding the shipped protos: `<package>/protos`. Found by walking
 * up from this file, so it works from `src/` (ts-node) and from the built
 * `.medusa/server/src/` alike.
 */
export function protosDir(): string {
  let dir = __dirname
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, "protos")
    if (existsSync(join(candidate, CONTRACT))) {
      return candidate
    }
    const parent = dirname(dir)
    if (parent === dir) {
      break
    }
    dir = parent
  }
  throw new Error(
    `medusa-loyalty-grpc: cannot find protos/${CONTRACT} above ${__dirname}; the package is incomplete`
  )
}

/** Options of @grpc/proto-loader: snake_case names as in the contract. */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
}

/** The client constructor of loyalty.v1.LoyaltyService, typed by the generated ProtoGrpcType. */
export type LoyaltyServiceConstructor = ProtoGrpcType["loyalty"]["v1"]["LoyaltyService"]

let serviceCtor: LoyaltyServiceConstructor | undefined

/** The generated client constructor of loyalty.v1.LoyaltyService (loaded once). */
export function loadLoyaltyService(): LoyaltyServiceConstructor {
  if (!serviceCtor) {
    const dir = protosDir()
    const definition = protoLoader.loadSync(join(dir, CONTRACT), {
      ...LOADER_OPTIONS,
      includeDirs: [dir],
    })
    // The loader's result is untyped (GrpcObject); its shape is the generated ProtoGrpcType.
    const pkg = grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType
    serviceCtor = pkg.loyalty.v1.LoyaltyService
  }
  return serviceCtor
}

type RpcTypes = { Status: protobuf.Type; ErrorInfo: protobuf.Type; BadRequest: protobuf.Type }
let rpcTypes: RpcTypes | undefined

/** google.rpc.Status, ErrorInfo and BadRequest, for decoding error details. */
export function loadRpcTypes(): RpcTypes {
  if (!rpcTypes) {
    const dir = protosDir()
    const root = new protobuf.Root()
    root.resolvePath = (_origin: string, target: string) => {
      const local = join(dir, target)
      return existsSync(local) ? local : target
    }
    root.loadSync([join("google", "rpc", "status.proto"), join("google", "rpc", "error_details.proto")], {
      keepCase: true,
    })
    // google/protobuf/any.proto is one of protobufjs's bundled common types.
    rpcTypes = {
      Status: root.lookupType("google.rpc.Status"),
      ErrorInfo: root.lookupType("google.rpc.ErrorInfo"),
      BadRequest: root.lookupType("google.rpc.BadRequest"),
    }
  }
  return rpcTypes
}
