// Closed-loop drivers and their statistics, for bench.ts (run by `medusa exec`).
import { performance } from "perf_hooks"

/** One call of a measured operation; `i` counts the calls of this row, `caller` is 0..callers-1. */
export type Op = (i: number, caller: number) => Promise<unknown>

/** How long a row runs: a window of measured time, or a fixed number of calls. */
export type Limit = { seconds: number } | { count: number }

/** Latencies of one set of calls, in milliseconds. */
export type Latency = { p50_ms: number; p99_ms: number; mean_ms: number; max_ms: number }

/** One measured row. */
export type RowResult = Latency & {
  callers: number
  ops: number
  errors: number
  first_error: string | null
  seconds: number
  ops_per_s: number
}

const round = (x: number, digits = 3): number => Number(x.toFixed(digits))

/** p50, p99 (nearest rank), mean and max of `samples` (ms); zeros for none. */
export function latency(samples: number[]): Latency {
  if (!samples.length) {
    return { p50_ms: 0, p99_ms: 0, mean_ms: 0, max_ms: 0 }
  }
  const sorted = Float64Array.from(samples).sort()
  const rank = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]
  const sum = sorted.reduce((a, b) => a + b, 0)
  return {
    p50_ms: round(rank(0.5)),
    p99_ms: round(rank(0.99)),
    mean_ms: round(sum / sorted.length),
    max_ms: round(sorted[sorted.length - 1]),
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : typeof e === "object" && e && "message" in e ? String(e.message) : String(e)
}

/**
 * `callers` concurrent callers, each calling `op` again as soon as its last
 * call returned (a closed loop), first for `warmupSeconds` (not counted),
 * then until `limit`: the window closes (calls started before it ends
 * count), or `count` calls were started. A failed call counts as an error
 * (its latency is not recorded) and the caller goes on.
 */
export async function closedLoop(op: Op, callers: number, limit: Limit, warmupSeconds = 0): Promise<RowResult> {
  let i = 0
  if (warmupSeconds > 0) {
    const warmEnd = performance.now() + warmupSeconds * 1000
    await Promise.all(
      Array.from({ length: callers }, async (_, caller) => {
        while (performance.now() < warmEnd) {
          await op(i++, caller).catch(() => undefined)
        }
      })
    )
  }
  const samples: number[] = []
  let errors = 0
  let firstError: string | null = null
  let started = 0
  const t0 = performance.now()
  const end = "seconds" in limit ? t0 + limit.seconds * 1000 : Infinity
  const max = "count" in limit ? limit.count : Infinity
  await Promise.all(
    Array.from({ length: callers }, async (_, caller) => {
      while (started < max && performance.now() < end) {
        started++
        const c0 = performance.now()
        try {
          await op(i++, caller)
          samples.push(performance.now() - c0)
        } catch (e) {
          errors++
          firstError ??= message(e)
        }
      }
    })
  )
  const seconds = (performance.now() - t0) / 1000
  return {
    callers,
    ops: samples.length,
    errors,
    first_error: firstError,
    seconds: round(seconds),
    ops_per_s: round(samples.length / seconds, 1),
    ...latency(samples),
  }
}

/** One side of an interleaved comparison. */
export type Side = Latency & { ops: number; errors: number; first_error: string | null }

/**
 * One caller alternating between `a` and `b` (a, b, a, b, ...) for
 * `seconds` after `warmupSeconds`, so both see the same server, network and
 * machine load at the same moments. Returns each side's latencies.
 */
export async function interleaved(a: Op, b: Op, seconds: number, warmupSeconds = 0): Promise<{ a: Side; b: Side; seconds: number }> {
  let i = 0
  const warmEnd = performance.now() + warmupSeconds * 1000
  while (performance.now() < warmEnd) {
    await a(i++, 0).catch(() => undefined)
    await b(i++, 0).catch(() => undefined)
  }
  const sides = [a, b].map((op) => ({ op, samples: [] as number[], errors: 0, firstError: null as string | null }))
  const t0 = performance.now()
  const end = t0 + seconds * 1000
  while (performance.now() < end) {
    for (const side of sides) {
      const c0 = performance.now()
      try {
        await side.op(i++, 0)
        side.samples.push(performance.now() - c0)
      } catch (e) {
        side.errors++
        side.firstError ??= message(e)
      }
    }
  }
  const [sa, sb] = sides.map((s) => ({ ops: s.samples.length, errors: s.errors, first_error: s.firstError, ...latency(s.samples) }))
  return { a: sa, b: sb, seconds: round((performance.now() - t0) / 1000) }
}
