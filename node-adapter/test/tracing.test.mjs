// Trace context across the gRPC hop: a span active in Node (as a Medusa route's would
// be) is the parent of the loyalty server's span for the call; one trace id on both
// sides. Node side: @opentelemetry/sdk-trace-base's InMemorySpanExporter; server side:
// the real loyalty-server writing its spans as JSON lines (--otel-spans-file).
import { after, before, describe, it } from "node:test"
import assert from "node:assert/strict"
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createRequire } from "node:module"
import { context, propagation, trace } from "@opentelemetry/api"
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks"
import { W3CTraceContextPropagator } from "@opentelemetry/core"
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { serveHelp, startServer } from "./helpers/server.mjs"
import { makeService } from "./helpers/pkg.mjs"
import { ADAPTER_ROOT } from "./helpers/server.mjs"

const require = createRequire(import.meta.url)
const { injectTraceContext } = require(join(ADAPTER_ROOT, ".medusa", "server", "src", "tracing.js"))
const grpc = require("@grpc/grpc-js")

const SERVICE = "loyalty.v1.LoyaltyService"
const hasTraces = serveHelp().includes("--otel-spans-file")

/** The server's spans so far, waiting (up to 10 s) until `done(spans)` holds. */
async function serverSpans(file, done) {
  const deadline = Date.now() + 10000
  for (;;) {
    const spans = existsSync(file)
      ? readFileSync(file, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l))
      : []
    if (done(spans) || Date.now() > deadline) return spans
    await new Promise((r) => setTimeout(r, 50))
  }
}

const callSpan = (spans, method) => spans.filter((s) => s.kind === "SERVER" && s.attributes["rpc.method"] === method)

describe("trace context on every gRPC call", { skip: !hasTraces && "this loyalty-server has no --otel-spans-file" }, () => {
  let server
  let dir
  let spansFile
  let loyalty
  const exporter = new InMemorySpanExporter()
  let provider

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "loyalty-node-traces-"))
    spansFile = join(dir, "spans.jsonl")
    server = await startServer({ extraArgs: ["--otel-spans-file", spansFile] })
    loyalty = makeService({ address: server.address, timeoutMs: 10000 })
  })

  after(async () => {
    loyalty?.__hooks?.onApplicationShutdown?.()
    await server?.stop()
    trace.disable()
    context.disable()
    propagation.disable()
    await provider?.shutdown()
    rmSync(dir, { recursive: true, force: true })
  })

  it("adds nothing while no OpenTelemetry SDK is registered (the API is a no-op)", async () => {
    const metadata = injectTraceContext(new grpc.Metadata())
    assert.deepEqual(metadata.getMap(), {})
    await loyalty.getPointsBalance("cus_untraced")
    const spans = await serverSpans(spansFile, (s) => callSpan(s, "GetPointsBalance").length > 0)
    const [span] = callSpan(spans, "GetPointsBalance")
    assert.ok(span, "the server made a span of its own")
    assert.equal(span.parent_span_id, null)
  })

  it("a Node span is the parent of the server's span: one trace id across the hop", async () => {
    // What an app's OpenTelemetry SDK (Medusa's registerOtel) sets up globally.
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
    propagation.setGlobalPropagator(new W3CTraceContextPropagator())
    provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
    trace.setGlobalTracerProvider(provider)
    const tracer = trace.getTracer("medusa-route")

    const customer = `cus_traced_${Date.now()}`
    await tracer.startActiveSpan("POST /admin/loyalty/points", async (span) => {
      try {
        await loyalty.adjustPoints({ customer_id: customer, delta: 15, reason: "traced" })
        await loyalty.getPointsBalance(customer)
      } finally {
        span.end()
      }
    })

    const [route] = exporter.getFinishedSpans()
    assert.equal(route.name, "POST /admin/loyalty/points")
    const { traceId, spanId } = route.spanContext()
    const spans = await serverSpans(spansFile, (s) =>
      callSpan(s, "GetPointsBalance").some((x) => x.trace_id === traceId)
    )
    const adjust = callSpan(spans, "AdjustPoints").find((x) => x.attributes["loyalty.customer_id"] === customer)
    assert.ok(adjust, `no AdjustPoints span for ${customer}: ${JSON.stringify(spans)}`)
    assert.equal(adjust.trace_id, traceId, "the server span is in the Node span's trace")
    assert.equal(adjust.parent_span_id, spanId, "and its parent is the Node span")
    assert.equal(adjust.name, `${SERVICE}/AdjustPoints`)
    assert.equal(adjust.attributes["rpc.grpc.status_code"], 0)
    const balance = callSpan(spans, "GetPointsBalance").find((x) => x.trace_id === traceId)
    assert.equal(balance.parent_span_id, spanId)
    // The server's database work hangs under its call span, in the same trace.
    assert.ok(spans.some((s) => s.parent_span_id === adjust.span_id && s.trace_id === traceId))

    // Outside any span: no traceparent, a trace of the server's own.
    await loyalty.getPointsBalance(customer)
    const later = await serverSpans(spansFile, (s) => callSpan(s, "GetPointsBalance").length >= 3)
    const last = callSpan(later, "GetPointsBalance").at(-1)
    assert.notEqual(last.trace_id, traceId)
    assert.equal(last.parent_span_id, null)
  })
})
