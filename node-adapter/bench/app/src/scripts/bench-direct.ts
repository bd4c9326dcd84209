// A direct gRPC client for bench.ts: @grpc/grpc-js and @grpc/proto-loader with
// the repo's proto (the contract the adapter ships a copy of), the loader
// options the adapter uses, a bearer token and a deadline, and nothing else:
// no request conversion, no error mapping, no trace context, no response
// conversion. What the adapter adds per call is its time minus this one's.
import { join } from "path"
import * as grpc from "@grpc/grpc-js"
import * as protoLoader from "@grpc/proto-loader"
import type { LoyaltyWire } from "medusa-loyalty-grpc"

/** The RPCs the comparison makes. */
export type DirectMethod = "AdjustPoints" | "RetrieveGiftCard" | "DebitAccounts"

type Unary = (
  request: unknown,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response: unknown) => void
) => grpc.ClientUnaryCall

export type DirectClient = {
  call<M extends DirectMethod>(method: M, request: LoyaltyWire.RequestOf<M>): Promise<LoyaltyWire.ResponseOf<M>>
  close(): void
}

export function directClient(address: string, token: string | undefined, protosDir: string, timeoutMs = 10_000): DirectClient {
  const definition = protoLoader.loadSync(join(protosDir, "loyalty", "v1", "loyalty.proto"), {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
    includeDirs: [protosDir],
  })
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    loyalty: { v1: { LoyaltyService: grpc.ServiceClientConstructor } }
  }
  const client = new loaded.loyalty.v1.LoyaltyService(address, grpc.credentials.createInsecure())
  const unary = client as unknown as Record<DirectMethod, Unary>
  return {
    call<M extends DirectMethod>(method: M, request: LoyaltyWire.RequestOf<M>) {
      const metadata = new grpc.Metadata()
      if (token) {
        metadata.set("authorization", `Bearer ${token}`)
      }
      return new Promise<LoyaltyWire.ResponseOf<M>>((resolve, reject) => {
        unary[method].call(client, request, metadata, { deadline: Date.now() + timeoutMs }, (error, response) =>
          error ? reject(error) : resolve(response as LoyaltyWire.ResponseOf<M>)
        )
      })
    },
    close: () => client.close(),
  }
}
