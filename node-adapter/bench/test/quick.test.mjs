// The Medusa-path benchmark in quick mode, as scripts/test.sh runs it after
// installing the plugin app: `bench/run.sh --quick --no-build` runs end to
// end (its own databases, the real loyalty-server on PostgreSQL, both Medusa
// apps through `medusa exec`) and reports every row with calls and no errors.
// Its timings and whether the targets are met are not checked.
import { test } from "node:test"
import assert from "node:assert/strict"
import { spawn } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { PG_ADMIN_URL } from "../../test/helpers/medusa-app.mjs"
import { PROFILES } from "../run.mjs"

const BENCH = join(dirname(fileURLToPath(import.meta.url)), "..")
const profile = PROFILES.quick

/** Runs a command to completion: { code, output }; kills its process group after timeoutMs. */
function run(cmd, args, timeoutMs) {
  return new Promise((done) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], detached: true })
    let output = ""
    child.stdout.on("data", (d) => (output += d))
    child.stderr.on("data", (d) => (output += d))
    const timer = setTimeout(() => {
      output += `\n(killed after ${timeoutMs} ms)`
      try {
        process.kill(-child.pid, "SIGKILL")
      } catch {}
    }, timeoutMs)
    child.on("exit", (code) => {
      clearTimeout(timer)
      done({ code, output })
    })
  })
}

test("bench/run.sh --quick: every row has calls and no errors, the tables and targets are written, the databases are gone", { timeout: 200000 }, async (t) => {
  const out = mkdtempSync(join(tmpdir(), "medusa-loyalty-bench-quick-"))
  t.after(() => rmSync(out, { recursive: true, force: true }))
  const { code, output } = await run(join(BENCH, "run.sh"), ["--quick", "--no-build", "--out", out], 180000)
  assert.equal(code, 0, `bench/run.sh --quick failed:\n${output.slice(-4000)}`)

  const files = readdirSync(out)
  const json = files.filter((f) => f.endsWith("-quick.json"))
  assert.equal(json.length, 1, `one JSON result in ${out}: ${files.join(", ")}`)
  assert.ok(files.includes(json[0].replace(/\.json$/, ".md")), "the Markdown tables next to it")
  const report = JSON.parse(readFileSync(join(out, json[0]), "utf8"))
  assert.equal(report.quick, true)
  assert.equal(report.machine.loadavg_start.length, 3)

  const rows = { adapter: report.ours.rows, plugin: report.plugin.rows }
  const find = (surface, op, tier, callers) => rows[surface].filter((r) => r.op === op && r.tier === tier && r.callers === callers)
  const expected = []
  for (const callers of profile.callers) {
    for (const op of ["adjustPoints", "retrieveGiftCard", "debitAccounts"]) expected.push(["adapter", op, null, callers])
    for (const surface of ["adapter", "plugin"]) {
      for (const tier of profile.tiers) {
        for (const op of ["retrieveAccountStats", "debitAccounts", "creditAccounts"]) expected.push([surface, op, tier, callers])
      }
    }
  }
  for (const [surface, op, tier, callers] of expected) {
    const found = find(surface, op, tier, callers)
    const name = `${surface} ${op} tier=${tier} callers=${callers}`
    assert.equal(found.length, 1, `one row ${name}`)
    const [r] = found
    assert.equal(r.surface, surface)
    assert.equal(r.errors, 0, `${name}: ${r.first_error}`)
    assert.ok(r.ops > 0 && r.ops_per_s > 0 && r.p50_ms > 0 && r.p99_ms >= r.p50_ms, `${name}: ${JSON.stringify(r)}`)
    if (tier !== null && op !== "retrieveAccountStats") {
      assert.equal(r.ops, profile.tier_writes[callers], `${name}: the fixed number of calls`)
      assert.equal(r.tx_end - r.tx_start, r.ops, `${name}: each call added one transaction`)
    }
    if (tier !== null) assert.ok(r.tx_start >= tier, `${name} starts at ${r.tx_start} transactions`)
  }
  assert.equal(rows.adapter.length + rows.plugin.length, expected.length, "no other rows")

  assert.deepEqual(report.ours.overhead.map((o) => o.rpc), ["AdjustPoints", "RetrieveGiftCard", "DebitAccounts"])
  for (const o of report.ours.overhead) {
    for (const side of ["adapter", "direct"]) {
      assert.equal(o[side].errors, 0, `${o.rpc} ${side}: ${o[side].first_error}`)
      assert.ok(o[side].ops > 0 && o[side].p50_ms > 0, `${o.rpc} ${side}: ${JSON.stringify(o[side])}`)
    }
    assert.ok(Number.isFinite(o.p50_diff_ms) && Number.isFinite(o.mean_diff_ms))
  }
  assert.ok(report.ours.grpc_js?.adapter && report.ours.grpc_js?.direct)

  const { targets } = report
  assert.equal(targets.debit_rate.length, profile.callers.length)
  assert.equal(targets.overhead.length, 3)
  for (const item of [...targets.debit_rate, targets.stats_flat, ...targets.overhead]) {
    assert.equal(typeof item.met, "boolean", JSON.stringify(item))
  }
  for (const d of targets.debit_rate) assert.ok(d.ratio > 0, JSON.stringify(d))
  for (const res of [report.ours, report.plugin]) {
    const f = res.stats_flat
    assert.ok(f && f.low.ops > 0 && f.high.ops > 0 && f.low.errors === 0 && f.high.errors === 0, `${res.mode} stats_flat: ${JSON.stringify(f)}`)
    assert.equal(f.low_tx, profile.tiers[0], `${res.mode}: the low account stayed at the lowest tier`)
    assert.ok(f.high_tx >= profile.tiers[profile.tiers.length - 1])
  }
  for (const f of [targets.stats_flat, targets.plugin_stats_growth]) {
    assert.ok(f.ratio > 0 && f.sequential.every((q) => q.ratio > 0), JSON.stringify(f))
  }
  assert.ok(report.ours.vacuum_seconds > 0 && report.plugin.vacuum_seconds > 0, "both modules' tables were vacuumed")
  assert.equal(report.plugin.growth.every((g) => g.method === "createAccountTransactions"), true)

  const md = readFileSync(join(out, json[0].replace(/\.json$/, ".md")), "utf8")
  for (const heading of ["**Through the adapter**", "**What the adapter adds per call**", "**Store credit on one account", "**Targets**"]) {
    assert.ok(md.includes(heading), `the Markdown has ${heading}`)
  }

  const pg = createRequire(join(BENCH, "..", "plugin-app", "package.json"))("pg")
  const client = new pg.Client({ connectionString: PG_ADMIN_URL })
  await client.connect()
  try {
    const names = [report.databases.medusa, report.databases.loyalty]
    const left = await client.query("SELECT datname FROM pg_database WHERE datname = ANY($1)", [names])
    assert.deepEqual(left.rows, [], `the bench dropped ${names.join(" and ")}`)
  } finally {
    await client.end()
  }
})
