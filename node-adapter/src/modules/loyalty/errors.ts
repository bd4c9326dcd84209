import { MedusaError } from "@medusajs/framework/utils"
import { status as GrpcStatus, type ServiceError } from "@grpc/grpc-js"
import { loadRpcTypes } from "./protos"

/** The google.rpc.ErrorInfo the server attaches to every error. */
export type ErrorInfo = {
  reason: string
  domain: string
  metadata: Record<string, string>
}

/** One google.rpc.BadRequest field violation. */
export type FieldViolation = { field: string; description: string; reason?: string }

/** What the `grpc-status-details-bin` trailer carried, decoded. */
export type StatusDetails = {
  code: number
  message: string
  errorInfo?: ErrorInfo
  fieldViolations: FieldViolation[]
}

/**
 * The server's ErrorInfo.reason -> Medusa's error type (DESIGN.md table): the
 * one place the reasons are named. `ErrorReason` and ERROR_REASONS are derived
 * from it.
 */
export const REASON_TO_TYPE = {
  INVALID_DATA: MedusaError.Types.INVALID_DATA,
  NOT_FOUND: MedusaError.Types.NOT_FOUND,
  NOT_ALLOWED: MedusaError.Types.NOT_ALLOWED,
  DUPLICATE_ERROR: MedusaError.Types.DUPLICATE_ERROR,
  CONFLICT: MedusaError.Types.CONFLICT,
  UNAUTHORIZED: MedusaError.Types.UNAUTHORIZED,
  FORBIDDEN: MedusaError.Types.FORBIDDEN,
  UNAVAILABLE: MedusaError.Types.UNEXPECTED_STATE,
  // The service is saturated (RESOURCE_EXHAUSTED): a transient state, retry later.
  BUSY: MedusaError.Types.UNEXPECTED_STATE,
} as const satisfies Record<string, string>

/** An ErrorInfo.reason the server sends. */
export type ErrorReason = keyof typeof REASON_TO_TYPE

export const ERROR_REASONS = Object.keys(REASON_TO_TYPE) as ErrorReason[]

export function isErrorReason(reason: string | undefined): reason is ErrorReason {
  return reason !== undefined && Object.prototype.hasOwnProperty.call(REASON_TO_TYPE, reason)
}

/** Fallback when a status carries no ErrorInfo (a proxy, or a transport error). */
const CODE_TO_TYPE: Partial<Record<number, string>> = {
  [GrpcStatus.INVALID_ARGUMENT]: MedusaError.Types.INVALID_DATA,
  [GrpcStatus.OUT_OF_RANGE]: MedusaError.Types.INVALID_DATA,
  [GrpcStatus.NOT_FOUND]: MedusaError.Types.NOT_FOUND,
  [GrpcStatus.FAILED_PRECONDITION]: MedusaError.Types.NOT_ALLOWED,
  [GrpcStatus.ALREADY_EXISTS]: MedusaError.Types.DUPLICATE_ERROR,
  [GrpcStatus.ABORTED]: MedusaError.Types.CONFLICT,
  [GrpcStatus.UNAUTHENTICATED]: MedusaError.Types.UNAUTHORIZED,
  [GrpcStatus.PERMISSION_DENIED]: MedusaError.Types.FORBIDDEN,
}

/** google.rpc.Status, ErrorInfo and BadRequest as protobufjs's toObject gives them (keepCase). */
type RpcStatus = {
  code: number
  message: string
  details?: { type_url?: string; typeUrl?: string; value?: Uint8Array }[]
}
type RpcErrorInfo = { reason: string; domain: string; metadata?: Record<string, string> }
type RpcBadRequest = { field_violations?: { field: string; description: string; reason?: string }[] }

/** Decodes google.rpc.Status (ErrorInfo, BadRequest) from the trailer, if any. */
export function decodeStatusDetails(error: Partial<ServiceError>): StatusDetails | undefined {
  const raw = error.metadata?.get("grpc-status-details-bin")?.[0]
  if (!raw || typeof raw === "string") {
    return undefined
  }
  const { Status, ErrorInfo, BadRequest } = loadRpcTypes()
  let status: RpcStatus
  try {
    status = Status.toObject(Status.decode(raw), { defaults: true }) as RpcStatus
  } catch {
    return undefined
  }
  const details: StatusDetails = {
    code: status.code,
    message: status.message,
    fieldViolations: [],
  }
  for (const detail of status.details ?? []) {
    const typeName = String(detail.type_url ?? detail.typeUrl ?? "").split("/").pop()
    try {
      if (typeName === "google.rpc.ErrorInfo" && !details.errorInfo) {
        const info = ErrorInfo.toObject(ErrorInfo.decode(detail.value ?? new Uint8Array()), { defaults: true }) as RpcErrorInfo
        details.errorInfo = {
          reason: info.reason,
          domain: info.domain,
          metadata: { ...(info.metadata ?? {}) },
        }
      } else if (typeName === "google.rpc.BadRequest") {
        const bad = BadRequest.toObject(BadRequest.decode(detail.value ?? new Uint8Array()), {
          defaults: true,
        }) as RpcBadRequest
        for (const v of bad.field_violations ?? []) {
          details.fieldViolations.push({ field: v.field, description: v.description, reason: v.reason || undefined })
        }
      }
    } catch {
      // An undecodable detail is skipped: the status code and message still hold.
    }
  }
  return details
}

/** The error every adapter call throws: a MedusaError plus what the server said. */
export class LoyaltyGrpcError extends MedusaError {
  grpcCode: number
  reason?: string
  fieldViolations: FieldViolation[]
  address: string

  constructor(
    type: string,
    message: string,
    extra: { grpcCode: number; reason?: string; fieldViolations?: FieldViolation[]; address: string }
  ) {
    super(type, message)
    this.name = "LoyaltyGrpcError"
    this.grpcCode = extra.grpcCode
    this.reason = extra.reason
    this.fieldViolations = extra.fieldViolations ?? []
    this.address = extra.address
  }
}

/**
 * Turns a grpc-js error into a MedusaError. The server's message is kept as
 * it is; transport failures (server down, deadline) name the address.
 */
export function toMedusaError(
  error: unknown,
  ctx: { address: string; method: string; timeoutMs?: number }
): MedusaError {
  if (error instanceof MedusaError || MedusaError.isMedusaError(error)) {
    return error
  }
  const err = (error ?? {}) as Partial<ServiceError>
  const code = typeof err.code === "number" ? err.code : GrpcStatus.UNKNOWN
  const details = decodeStatusDetails(err)
  const info = details?.errorInfo
  const serverMessage = details?.message || err.details || err.message || "Unknown gRPC error"

  if (info && isErrorReason(info.reason)) {
    return new LoyaltyGrpcError(REASON_TO_TYPE[info.reason], serverMessage, {
      grpcCode: code,
      reason: info.reason,
      fieldViolations: details?.fieldViolations,
      address: ctx.address,
    })
  }
  if (code === GrpcStatus.UNAVAILABLE) {
    return new LoyaltyGrpcError(
      MedusaError.Types.UNEXPECTED_STATE,
      `Loyalty gRPC server at ${ctx.address} is unreachable (${ctx.method}): ${serverMessage}`,
      { grpcCode: code, address: ctx.address }
    )
  }
  if (code === GrpcStatus.DEADLINE_EXCEEDED) {
    return new LoyaltyGrpcError(
      MedusaError.Types.UNEXPECTED_STATE,
      `Loyalty gRPC call ${ctx.method} to ${ctx.address} exceeded its deadline` +
        (ctx.timeoutMs ? ` of ${ctx.timeoutMs} ms` : ""),
      { grpcCode: code, address: ctx.address }
    )
  }
  const type = CODE_TO_TYPE[code] ?? MedusaError.Types.UNEXPECTED_STATE
  return new LoyaltyGrpcError(
    type,
    type === MedusaError.Types.UNEXPECTED_STATE
      ? `Loyalty gRPC call ${ctx.method} to ${ctx.address} failed: ${serverMessage}`
      : serverMessage,
    { grpcCode: code, reason: info?.reason, fieldViolations: details?.fieldViolations, address: ctx.address }
  )
}

/**
 * `workflow.run()` rejects with a plain serialized object, not an Error.
 * Turn such a rejection back into a MedusaError so Medusa's error handler
 * keeps its type and message.
 */
export function asMedusaError(error: unknown): unknown {
  if (error instanceof Error) {
    return error
  }
  if (error && typeof error === "object") {
    const e = error as Record<string, unknown>
    const type = typeof e.type === "string" ? e.type : MedusaError.Types.UNEXPECTED_STATE
    const message = typeof e.message === "string" ? e.message : JSON.stringify(error)
    const medusaError = new MedusaError(type, message, e.code as string | undefined)
    return medusaError
  }
  return new MedusaError(MedusaError.Types.UNEXPECTED_STATE, String(error))
}
