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

/** The server's ErrorInfo.reason -> Medusa's error type (DESIGN.md table). */
const REASON_TO_TYPE: Record<string, string> = {
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

/** Decodes google.rpc.Status (ErrorInfo, BadRequest) from the trailer, if any. */
export function decodeStatusDetails(error: Partial<ServiceError>): StatusDetails | undefined {
  const raw = error.metadata?.get("grpc-status-details-bin")?.[0]
  if (!raw || typeof raw === "string") {
    return undefined
  }
  const { Status, ErrorInfo, BadRequest } = loadRpcTypes()
  let status: any
  try {
    status = Status.toObject(Status.decode(raw), { defaults: true })
  } catch {
    return undefined
  }
  const details: StatusDetails = {
    code: status.code,
    message: status.message,
    fieldViolations: [],
  }
  for (const any of status.details ?? []) {
    const typeName = String(any.type_url ?? any.typeUrl ?? "").split("/").pop()
    try {
      if (typeName === "google.rpc.ErrorInfo" && !details.errorInfo) {
        const info: any = ErrorInfo.toObject(ErrorInfo.decode(any.value), { defaults: true })
        details.errorInfo = {
          reason: info.reason,
          domain: info.domain,
          metadata: { ...(info.metadata ?? {}) },
        }
      } else if (typeName === "google.rpc.BadRequest") {
        const bad: any = BadRequest.toObject(BadRequest.decode(any.value), { defaults: true })
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
  if (error instanceof MedusaError || MedusaError.isMedusaError(error as any)) {
    return error as MedusaError
  }
  const err = (error ?? {}) as Partial<ServiceError>
  const code = typeof err.code === "number" ? err.code : GrpcStatus.UNKNOWN
  const details = decodeStatusDetails(err)
  const info = details?.errorInfo
  const serverMessage = details?.message || err.details || err.message || "Unknown gRPC error"

  if (info && REASON_TO_TYPE[info.reason]) {
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
    const e = error as Record<string, any>
    const type = typeof e.type === "string" ? e.type : MedusaError.Types.UNEXPECTED_STATE
    const message = typeof e.message === "string" ? e.message : JSON.stringify(error)
    const medusaError = new MedusaError(type, message, e.code)
    return medusaError
  }
  return new MedusaError(MedusaError.Types.UNEXPECTED_STATE, String(error))
}
