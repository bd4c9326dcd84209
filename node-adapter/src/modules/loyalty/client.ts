import { readFileSync } from "fs"
import * as grpc from "@grpc/grpc-js"
import { MedusaError } from "@medusajs/framework/utils"
import { toMedusaError } from "./errors"
import { loadLoyaltyService } from "./protos"
import { injectTraceContext } from "../../tracing"
import type { LoyaltyMethod, LoyaltyServiceClient, RequestOf, ResponseOf } from "./wire"

export type TlsOptions =
  | boolean
  | {
      /** PEM text, a Buffer, or a path to a PEM file. Unset: the system roots. */
      ca?: string | Buffer
      /** Client certificate for mutual TLS (PEM text, Buffer or path). */
      cert?: string | Buffer
      /** Client private key for mutual TLS (PEM text, Buffer or path). */
      key?: string | Buffer
      /** Overrides the name checked against the server certificate. */
      serverName?: string
    }

export type LoyaltyGrpcOptions = {
  /** host:port of loyalty-server. Default: LOYALTY_ADDRESS or 127.0.0.1:50051. */
  address?: string
  /** Sent as `authorization: Bearer <token>` on every call. Default: LOYALTY_TOKEN. */
  token?: string
  /** TLS settings; unset or false: plaintext. */
  tls?: TlsOptions
  /** Deadline of every call, in milliseconds. Default: LOYALTY_TIMEOUT_MS or 10000. */
  timeoutMs?: number
}

export const DEFAULT_ADDRESS = "127.0.0.1:50051"
export const DEFAULT_TIMEOUT_MS = 10_000

/**
 * The environment names: LOYALTY_ + the option in upper snake case, as the server
 * (`--listen` -> LOYALTY_LISTEN) and the `loyalty` CLI (LOYALTY_ADDRESS, LOYALTY_TOKEN) read
 * theirs. The LOYALTY_GRPC_* names this adapter read before still work, second.
 */
function env(name: "ADDRESS" | "TOKEN" | "TIMEOUT_MS"): string | undefined {
  return process.env[`LOYALTY_${name}`] || process.env[`LOYALTY_GRPC_${name}`] || undefined
}

/** The options with every default applied. */
export type ResolvedLoyaltyGrpcOptions = {
  address: string
  token: string | undefined
  tls: TlsOptions
  timeoutMs: number
}

/** One unary method of a grpc-js client, called with metadata, options and a callback. */
type UnaryMethod = (
  request: unknown,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response: unknown) => void
) => grpc.ClientUnaryCall

export function resolveOptions(options: LoyaltyGrpcOptions = {}): ResolvedLoyaltyGrpcOptions {
  const timeout = Number(options.timeoutMs ?? env("TIMEOUT_MS") ?? DEFAULT_TIMEOUT_MS)
  return {
    address: options.address || env("ADDRESS") || DEFAULT_ADDRESS,
    token: options.token ?? env("TOKEN"),
    tls: options.tls ?? false,
    timeoutMs: Number.isFinite(timeout) && timeout > 0 ? timeout : DEFAULT_TIMEOUT_MS,
  }
}

function pem(value: string | Buffer | undefined): Buffer | undefined {
  if (value === undefined || value === null || value === "") {
    return undefined
  }
  if (Buffer.isBuffer(value)) {
    return value
  }
  return value.includes("-----BEGIN") ? Buffer.from(value) : readFileSync(value)
}

/**
 * One lazily created gRPC client. Nothing is loaded or dialled before the
 * first call, so a Medusa app boots (db:migrate, exec, user) with the
 * loyalty server down; a call made while it is down fails with a MedusaError
 * naming the address.
 */
export class LoyaltyGrpcClient {
  readonly address: string
  readonly timeoutMs: number
  private readonly token?: string
  private readonly tls: TlsOptions
  private client?: LoyaltyServiceClient

  constructor(options: LoyaltyGrpcOptions = {}) {
    const resolved = resolveOptions(options)
    this.address = resolved.address
    this.timeoutMs = resolved.timeoutMs
    this.token = resolved.token
    this.tls = resolved.tls
  }

  private credentials(): grpc.ChannelCredentials {
    if (!this.tls) {
      return grpc.credentials.createInsecure()
    }
    if (this.tls === true) {
      return grpc.credentials.createSsl()
    }
    return grpc.credentials.createSsl(pem(this.tls.ca) ?? null, pem(this.tls.key) ?? null, pem(this.tls.cert) ?? null)
  }

  private getClient(): LoyaltyServiceClient {
    if (!this.client) {
      const Ctor = loadLoyaltyService()
      const channelOptions: grpc.ChannelOptions = {}
      if (this.tls && typeof this.tls === "object" && this.tls.serverName) {
        channelOptions["grpc.ssl_target_name_override"] = this.tls.serverName
        channelOptions["grpc.default_authority"] = this.tls.serverName
      }
      this.client = new Ctor(this.address, this.credentials(), channelOptions)
    }
    return this.client
  }

  /** Calls one unary method; every failure comes back as a MedusaError. */
  call<M extends LoyaltyMethod>(
    method: M,
    request: RequestOf<M>,
    opts: { timeoutMs?: number } = {}
  ): Promise<ResponseOf<M>> {
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs
    const ctx = { address: this.address, method, timeoutMs }
    let client: LoyaltyServiceClient
    try {
      client = this.getClient()
    } catch (e) {
      return Promise.reject(
        new MedusaError(
          MedusaError.Types.UNEXPECTED_STATE,
          `Loyalty gRPC client for ${this.address} could not be created: ${(e as Error).message}`
        )
      )
    }
    const metadata = new grpc.Metadata()
    if (this.token) {
      metadata.set("authorization", `Bearer ${this.token}`)
    }
    injectTraceContext(metadata)
    const deadline = new Date(Date.now() + timeoutMs)
    // The generated client declares each method with four overloads; this is the one used.
    const unary = client as unknown as Record<M, UnaryMethod>
    return new Promise<ResponseOf<M>>((resolve, reject) => {
      try {
        unary[method].call(client, request, metadata, { deadline }, (error, response) => {
          if (error) {
            reject(toMedusaError(error, ctx))
          } else {
            resolve(response as ResponseOf<M>)
          }
        })
      } catch (e) {
        // Serialization of a malformed request throws synchronously.
        reject(
          new MedusaError(MedusaError.Types.INVALID_DATA, `Invalid ${method} request: ${(e as Error).message}`)
        )
      }
    })
  }

  close(): void {
    this.client?.close()
    this.client = undefined
  }
}
