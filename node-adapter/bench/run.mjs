// The Medusa-path benchmark (issue 18), after bench/run.sh built and installed
// the apps: a fresh Medusa database and a fresh loyalty database on the local
// PostgreSQL, the real loyalty-server on the latter (migrated first), Medusa's
// migrations with the official plugin's modules, then `medusa exec
// ./src/scripts/bench.ts` in bench/app twice: with medusa-loyalty-grpc's
// modules (BENCH_MODULES=ours) and with @medusajs/loyalty-plugin's own
// (BENCH_MODULES=plugin). Prints the tables and the targets, writes
// <out>/<UTC stamp>.json and .md, and drops both databases (also on failure).
// Exits non-zero when the run fails, not when a target is missed.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { cpus, loadavg } from "node:os"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { randomBytes } from "node:crypto"
import { execFileSync } from "node:child_process"
import { medusaTestApp, PG_ADMIN_URL, REPO_PROTOS } from "../test/helpers/medusa-app.mjs"

const BENCH = dirname(fileURLToPath(import.meta.url))

/**
 * @typedef {{
 *   callers: number[], seconds: number, warmup: number, overhead_seconds: number,
 *   tiers: number[], tier_writes: Record<string, number>,
 *   customers: number, gift_cards: number, spread_accounts: number,
 * }} Profile
 */

/** @type {Record<"full" | "quick", Profile>} */
export const PROFILES = {
  full: {
    callers: [1, 16],
    seconds: 3,
    warmup: 0.5,
    overhead_seconds: 4,
    tiers: [2000, 20000],
    tier_writes: { 1: 100, 16: 160 },
    customers: 1000,
    gift_cards: 100,
    spread_accounts: 100,
  },
  quick: {
    callers: [1, 16],
    seconds: 0.3,
    warmup: 0.1,
    overhead_seconds: 0.4,
    tiers: [100, 400],
    tier_writes: { 1: 10, 16: 32 },
    customers: 50,
    gift_cards: 10,
    spread_accounts: 10,
  },
}

/** The bars of issue 18. */
export const TARGETS = { debit_ratio_min: 5, stats_flat_max: 1.2, overhead_max_ms: 0.5 }

const USAGE = `usage: node bench/run.mjs [--quick] [--out DIR]   (run it through bench/run.sh)
  --quick    small counts, short windows (what the suite runs)
  --out DIR  where the JSON and Markdown go (default node-adapter/bench/results)`

/** @param {string[]} argv */
function parseArgs(argv) {
  const opts = { quick: false, out: join(BENCH, "results") }
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k]
    if (a === "--quick") opts.quick = true
    else if (a === "--out") opts.out = resolve(argv[++k] ?? "")
    else if (a === "--help" || a === "-h") {
      console.log(USAGE)
      process.exit(0)
    } else {
      console.error(`unknown option ${a}\n${USAGE}`)
      process.exit(2)
    }
  }
  return opts
}

/** The commit the run measured, and whether the server's or the adapter's sources had uncommitted changes. */
function repoState() {
  const git = (...args) => execFileSync("git", args, { cwd: join(BENCH, "..", ".."), encoding: "utf8" }).trim()
  try {
    return { commit: git("rev-parse", "HEAD"), uncommitted: git("status", "--porcelain", "--", "server", "node-adapter/src").split("\n").filter(Boolean) }
  } catch {
    return { commit: null, uncommitted: [] }
  }
}

/** The loyalty server's SQLAlchemy URL for database `name` on the server of PG_ADMIN_URL. */
function loyaltyDatabaseUrl(name) {
  const u = new URL(PG_ADMIN_URL)
  const auth = u.username ? `${u.username}${u.password ? `:${u.password}` : ""}@` : ""
  return `postgresql+psycopg://${auth}${u.host}/${name}`
}

const fmt = (x, digits = 0) =>
  x === null || x === undefined || Number.isNaN(x) ? "" : Number(x).toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })
const ms = (x) => fmt(x, 2)
const signed = (x) => `${x >= 0 ? "+" : ""}${ms(x)}`

/**
 * The targets, from both halves of a run.
 * @param {any} ours the BENCH_MODULES=ours result
 * @param {any} plugin the BENCH_MODULES=plugin result
 * @param {Profile} profile
 */
export function evaluate(ours, plugin, profile) {
  const low = profile.tiers[0]
  const high = profile.tiers[profile.tiers.length - 1]
  const find = (res, op, tier, callers) => res.rows.find((r) => r.op === op && r.tier === tier && r.callers === callers)
  const debit = profile.callers.map((callers) => {
    const o = find(ours, "debitAccounts", high, callers)
    const p = find(plugin, "debitAccounts", high, callers)
    const ratio = o && p && p.ops_per_s > 0 ? o.ops_per_s / p.ops_per_s : null
    return { callers, tier: high, ours_ops_per_s: o?.ops_per_s ?? null, plugin_ops_per_s: p?.ops_per_s ?? null, ratio, met: ratio !== null && ratio >= TARGETS.debit_ratio_min }
  })
  // Flatness: the interleaved read of the two accounts (one caller, same moments); the
  // tier rows' p50s, measured a minute or more apart, are shown next to it.
  const flat = (res) => {
    const f = res.stats_flat
    const sequential = profile.callers.map((callers) => {
      const a = find(res, "retrieveAccountStats", low, callers)
      const b = find(res, "retrieveAccountStats", high, callers)
      return { callers, p50_low_ms: a?.p50_ms ?? null, p50_high_ms: b?.p50_ms ?? null, ratio: a && b && a.p50_ms > 0 ? b.p50_ms / a.p50_ms : null }
    })
    return {
      low_tier: low,
      high_tier: high,
      low_tx: f?.low_tx ?? null,
      high_tx: f?.high_tx ?? null,
      p50_low_ms: f?.low.p50_ms ?? null,
      p50_high_ms: f?.high.p50_ms ?? null,
      ratio: f?.p50_ratio ?? null,
      mean_ratio: f?.mean_ratio ?? null,
      sequential,
    }
  }
  const oursFlat = flat(ours)
  const overhead = ours.overhead.map((o) => ({
    rpc: o.rpc,
    p50_diff_ms: o.p50_diff_ms,
    mean_diff_ms: o.mean_diff_ms,
    met: o.p50_diff_ms <= TARGETS.overhead_max_ms && o.mean_diff_ms <= TARGETS.overhead_max_ms,
  }))
  return {
    bars: TARGETS,
    debit_rate: debit,
    stats_flat: { ...oursFlat, met: oursFlat.ratio !== null && oursFlat.ratio <= TARGETS.stats_flat_max },
    plugin_stats_growth: flat(plugin),
    overhead,
    met: [...debit, ...overhead].every((t) => t.met) && oursFlat.ratio !== null && oursFlat.ratio <= TARGETS.stats_flat_max,
  }
}

/** The tables, as Markdown. */
export function markdown(report) {
  const { ours, plugin, targets, profile } = report
  const lines = []
  const push = (...l) => lines.push(...l)
  push(
    `Run ${report.started_at} (${report.quick ? "quick" : "full"}), ${report.machine.cpus} cores (${report.machine.cpu_model}), ` +
      `load average ${report.machine.loadavg_start.join(" ")} at the start and ${report.machine.loadavg_end.join(" ")} at the end; ` +
      `node ${report.machine.node}; loyalty-server with its default workers on PostgreSQL, same box; ` +
      `commit ${report.repo.commit?.slice(0, 7) ?? "?"}${report.repo.uncommitted.length ? ` with uncommitted changes in ${report.repo.uncommitted.length} file(s) of server/ or node-adapter/src` : ""}.`,
    "",
    `**Through the adapter** (\`container.resolve("loyalty")\` / \`("store_credit")\` in \`medusa exec\`), closed loop, ${profile.seconds} s per row after ${profile.warmup} s of warm-up:`,
    "",
    "| operation | on | callers | calls | ops/s | p50 ms | p99 ms | errors |",
    "|---|---|---:|---:|---:|---:|---:|---:|"
  )
  for (const r of ours.rows.filter((r) => r.tier === null)) {
    push(`| ${r.op} | ${r.target} | ${r.callers} | ${fmt(r.ops)} | ${fmt(r.ops_per_s)} | ${ms(r.p50_ms)} | ${ms(r.p99_ms)} | ${r.errors} |`)
  }
  push(
    "",
    `**What the adapter adds per call**: one caller alternating adapter call / direct @grpc/grpc-js call (same proto, same process, same server) for ${profile.overhead_seconds} s per RPC:`,
    "",
    "| RPC | calls each | adapter p50 ms | direct p50 ms | added p50 ms | adapter mean ms | direct mean ms | added mean ms |",
    "|---|---:|---:|---:|---:|---:|---:|---:|"
  )
  for (const o of ours.overhead) {
    push(
      `| ${o.rpc} | ${fmt(Math.min(o.adapter.ops, o.direct.ops))} | ${ms(o.adapter.p50_ms)} | ${ms(o.direct.p50_ms)} | ${signed(o.p50_diff_ms)} | ${ms(o.adapter.mean_ms)} | ${ms(o.direct.mean_ms)} | ${signed(o.mean_diff_ms)} |`
    )
  }
  push(
    "",
    `**Store credit on one account with N transactions: this adapter against the official plugin's own module** (retrieveAccountStats: ${profile.seconds} s windows; ` +
      `debitAccounts and creditAccounts: ${Object.entries(profile.tier_writes).map(([c, n]) => `${n} calls at ${c} caller${c === "1" ? "" : "s"}`).join(", ")}, ` +
      "so the account stays near N; one item per call):",
    "",
    "| operation | N | callers | adapter ops/s | adapter p50 ms | adapter p99 ms | plugin ops/s | plugin p50 ms | plugin p99 ms | adapter / plugin |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  )
  for (const r of ours.rows.filter((r) => r.tier !== null)) {
    const p = plugin.rows.find((x) => x.op === r.op && x.tier === r.tier && x.callers === r.callers)
    const ratio = p && p.ops_per_s > 0 ? `${fmt(r.ops_per_s / p.ops_per_s, 1)}x` : ""
    push(
      `| ${r.op} | ${fmt(r.tier)} | ${r.callers} | ${fmt(r.ops_per_s)} | ${ms(r.p50_ms)} | ${ms(r.p99_ms)} | ${fmt(p?.ops_per_s)} | ${ms(p?.p50_ms)} | ${ms(p?.p99_ms)} | ${ratio} |`
    )
  }
  const growth = plugin.growth.reduce((s, g) => s + g.seconds, 0)
  push(
    "",
    `The plugin's accounts were grown with its service's \`createAccountTransactions\` (${fmt(plugin.growth.reduce((s, g) => s + g.transactions, 0))} credit rows in ${fmt(growth, 1)} s), ours with \`creditAccounts\` (1,000 items a call).`,
    "",
    "**Targets**:",
    ""
  )
  for (const d of targets.debit_rate) {
    push(`- ${d.met ? "met" : "NOT met"}: debitAccounts at ${fmt(d.tier)} tx, ${d.callers} caller${d.callers === 1 ? "" : "s"}: adapter ${fmt(d.ours_ops_per_s)}/s vs plugin ${fmt(d.plugin_ops_per_s)}/s = ${fmt(d.ratio, 1)}x (bar: >= ${TARGETS.debit_ratio_min}x)`)
  }
  const f = targets.stats_flat
  const p = targets.plugin_stats_growth
  const seq = (x) => x.sequential.map((q) => `${fmt(q.ratio, 2)} at ${q.callers} caller${q.callers === 1 ? "" : "s"}`).join(", ")
  push(
    `- ${f.met ? "met" : "NOT met"}: retrieveAccountStats flat: adapter p50 ${ms(f.p50_high_ms)} ms on the account with ${fmt(f.high_tx)} tx vs ${ms(f.p50_low_ms)} ms on the one with ${fmt(f.low_tx)} = ${fmt(f.ratio, 2)} ` +
      `(one caller alternating between the two; bar: <= ${TARGETS.stats_flat_max}). The plugin, measured the same way: ${ms(p.p50_high_ms)} vs ${ms(p.p50_low_ms)} ms = ${fmt(p.ratio, 2)}. ` +
      `From the tier rows above (p50 at ${fmt(f.high_tier)} / at ${fmt(f.low_tier)}, measured apart): adapter ${seq(f)}; plugin ${seq(p)}`
  )
  for (const o of targets.overhead) {
    push(`- ${o.met ? "met" : "NOT met"}: adapter overhead, ${o.rpc}: ${signed(o.p50_diff_ms)} ms p50, ${signed(o.mean_diff_ms)} ms mean (bar: <= ${TARGETS.overhead_max_ms} ms)`)
  }
  return lines.join("\n") + "\n"
}

async function main() {
  const opts = parseArgs(process.argv.slice(2))
  const profile = PROFILES[opts.quick ? "quick" : "full"]
  const started = new Date()
  const stamp = started.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z")
  const app = medusaTestApp(import.meta.url, "bench", { app: join(BENCH, "app"), database: "medusa_loyalty_bench" })
  const loyaltyDb = `loyalty_bench_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`
  const machine = { cpus: cpus().length, cpu_model: cpus()[0]?.model ?? "", node: process.version, loadavg_start: loadavg().map((x) => Number(x.toFixed(2))), loadavg_end: [] }
  const timeoutMs = opts.quick ? 180000 : 900000
  const phase = (what) => console.log(`bench: ${what} (${((Date.now() - started.getTime()) / 1000).toFixed(0)} s)`)
  console.log(`bench: ${opts.quick ? "quick" : "full"} run; Medusa database ${app.DB_NAME}, loyalty database ${loyaltyDb}; logs in ${app.LOG_DIR}`)

  /** @type {Record<string, any>} */
  const results = {}
  /** @type {Record<string, number>} seconds each step took */
  const timings = {}
  /** @template T @param {string} name @param {() => Promise<T>} fn @returns {Promise<T>} */
  const timed = async (name, fn) => {
    const t0 = Date.now()
    try {
      return await fn()
    } finally {
      timings[name] = (Date.now() - t0) / 1000
    }
  }
  let failure
  try {
    // The loyalty server starts (migrate, serve) while Medusa's database is migrated.
    phase("loyalty-server migrate + serve on PostgreSQL, and medusa db:migrate (the plugin's modules)")
    const serverStarted = timed("loyalty_server_start", async () => {
      await app.pgAdmin(`CREATE DATABASE "${loyaltyDb}"`)
      await app.startLoyaltyServer({ databaseUrl: loyaltyDatabaseUrl(loyaltyDb), extraArgs: ["--log-level", "WARNING"] })
    })
    const migrated = timed("medusa_db_migrate", async () => {
      await app.createDatabase()
      await app.medusaCli("db-migrate", ["db:migrate", "--skip-scripts"], { env: app.env({ BENCH_MODULES: "plugin" }), timeoutMs })
    })
    const [server, migration] = await Promise.allSettled([serverStarted, migrated])
    for (const step of [server, migration]) if (step.status === "rejected") throw step.reason
    for (const mode of ["ours", "plugin"]) {
      phase(`medusa exec bench.ts, BENCH_MODULES=${mode}`)
      const out = app.log(`${mode}-result.json`)
      const vacuum =
        mode === "ours"
          ? { vacuum_url: PG_ADMIN_URL.replace(/\/[^/]*$/, `/${loyaltyDb}`), vacuum_tables: null }
          : { vacuum_url: app.DATABASE_URL, vacuum_tables: ["store_credit_account", "store_credit_account_transaction"] }
      const config = { mode, out, protos: REPO_PROTOS, ...vacuum, ...profile }
      const output = await timed(`medusa_exec_${mode}`, () =>
        app.medusaCli(`exec-${mode}`, ["exec", "./src/scripts/bench.ts"], {
          env: app.env({ BENCH_MODULES: mode, BENCH_CONFIG: JSON.stringify(config) }),
          timeoutMs,
        })
      )
      for (const line of output.split("\n")) if (line.startsWith("[bench ")) console.log(`  ${line}`)
      results[mode] = JSON.parse(readFileSync(out, "utf8"))
    }
  } catch (e) {
    failure = e
  } finally {
    phase("stopping the server, dropping the databases")
    await app.loyaltyServer?.stop().catch(() => undefined)
    await app.dropDatabase().catch((e) => console.error(`bench: could not drop ${app.DB_NAME}: ${e.message}`))
    await app
      .pgAdmin(`DROP DATABASE IF EXISTS "${loyaltyDb}" WITH (FORCE)`)
      .catch((e) => console.error(`bench: could not drop ${loyaltyDb}: ${e.message}`))
  }
  if (failure) {
    console.error(`bench: failed: ${failure?.stack ?? failure}`)
    process.exit(1)
  }

  machine.loadavg_end = loadavg().map((x) => Number(x.toFixed(2)))
  const report = {
    started_at: started.toISOString(),
    finished_at: new Date().toISOString(),
    quick: opts.quick,
    profile,
    machine,
    repo: repoState(),
    databases: { medusa: app.DB_NAME, loyalty: loyaltyDb },
    timings,
    targets: evaluate(results.ours, results.plugin, profile),
    ours: results.ours,
    plugin: results.plugin,
  }
  const md = markdown(report)
  mkdirSync(opts.out, { recursive: true })
  const base = join(opts.out, `${stamp}${opts.quick ? "-quick" : ""}`)
  writeFileSync(`${base}.json`, JSON.stringify(report, null, 2))
  writeFileSync(`${base}.md`, md)
  console.log(`\n${md}\nbench: wrote ${base}.json and ${base}.md (${((Date.now() - started.getTime()) / 1000).toFixed(0)} s)`)
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main()
}
