import { context, propagation, type TextMapSetter } from "@opentelemetry/api"
import type { Metadata } from "@grpc/grpc-js"

/**
 * Trace context across the gRPC hop: the active OpenTelemetry context (a Medusa
 * route's or workflow's span, when the app registers an OpenTelemetry SDK, e.g.
 * through Medusa's `registerOtel` in instrumentation.ts) goes into the call's
 * metadata as W3C `traceparent` (and `tracestate`, `baggage` when present), so the
 * loyalty server's span for the call joins the caller's trace.
 *
 * With no SDK registered the API's propagator is a no-op: nothing is added, and the
 * cost is one function call.
 */
const metadataSetter: TextMapSetter<Metadata> = {
  set(carrier, key, value) {
    carrier.set(key, value)
  },
}

/** Adds the active trace context to `metadata` (no-op without an OpenTelemetry SDK). */
export function injectTraceContext(metadata: Metadata): Metadata {
  propagation.inject(context.active(), metadata, metadataSetter)
  return metadata
}
