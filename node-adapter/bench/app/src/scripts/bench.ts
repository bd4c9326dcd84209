// The benchmark inside Medusa: `medusa exec ./src/scripts/bench.ts`, started by
// bench/run.mjs once per module set (BENCH_MODULES=ours, then plugin), with its
// settings in BENCH_CONFIG (JSON) and its results written to BENCH_CONFIG.out.
//
// ours:   container.resolve("loyalty") / ("store_credit") are medusa-loyalty-grpc's
//         modules: adjustPoints, retrieveGiftCard and debitAccounts at each caller
//         count; the same three RPCs made by a direct @grpc/grpc-js client,
//         interleaved with the adapter's calls at 1 caller; then the ledger tiers.
// plugin: container.resolve("store_credit") is @medusajs/loyalty-plugin's own
//         module (MikroORM on Medusa's database): the ledger tiers.
// Ledger tiers (both): one account for debits and stats reads, one for credits,
// each grown to every tier's number of transactions; at each tier
// retrieveAccountStats (timed window), debitAccounts and creditAccounts (a
// fixed number of calls, so the account stays near the tier), at each caller
// count; then one caller alternating stats reads between an account left at
// the lowest tier and the debit account (flatness under the same load).
// The module's tables get a VACUUM (ANALYZE) after each bulk write.
import { randomUUID } from "crypto"
import { writeFileSync } from "fs"
import { dirname } from "path"
import { loadavg } from "os"
import { performance } from "perf_hooks"
import { Client } from "pg"
import type { ExecArgs } from "@medusajs/framework/types"
import type { ILoyaltyModuleService, IStoreCreditModuleService } from "medusa-loyalty-grpc"
import { closedLoop, interleaved, type Limit, type Op, type RowResult, type Side } from "./bench-measure"
import { directClient, type DirectMethod } from "./bench-direct"

type Mode = "ours" | "plugin"

/** What run.mjs passes in BENCH_CONFIG. */
type BenchConfig = {
  mode: Mode
  /** The result file. */
  out: string
  /** The repo's protos folder (the direct client's contract). */
  protos: string
  callers: number[]
  /** Measured window and warm-up of the timed rows, seconds. */
  seconds: number
  warmup: number
  /** Window of each interleaved adapter/direct comparison, seconds. */
  overhead_seconds: number
  /** Transactions on the tier accounts, ascending. */
  tiers: number[]
  /** Calls of a debit or credit row at a tier, by caller count. */
  tier_writes: Record<string, number>
  customers: number
  gift_cards: number
  spread_accounts: number
  /**
   * The database the module under test writes (ours: the loyalty server's;
   * the plugin: Medusa's), as a pg URL, and the tables to VACUUM (ANALYZE)
   * after each bulk write and before the rows that follow (null: all), as
   * pgbench and bench/run.py do, so autovacuum does not start in a window.
   */
  vacuum_url: string
  vacuum_tables: string[] | null
}

/** One store-credit movement, as the plugin's contract takes it (amount as a decimal string). */
type Entry = { account_id: string; amount: string; reference: string; reference_id: string }

/**
 * The part of the store_credit contract the tiers call; the plugin's module
 * and ours both have it (the plugin's module also has createAccountTransactions,
 * which grows its accounts, see grow()).
 */
type Ledger = {
  createStoreCreditAccounts(data: { currency_code: string; code: string }): Promise<{ id: string }>
  creditAccounts(data: Entry[]): Promise<unknown[]>
  debitAccounts(data: Entry[]): Promise<unknown[]>
  retrieveAccountStats(data: { account_id: string }): Promise<{ balance: number | string }>
  listAndCountAccountTransactions(filters: { account_id: string }, config: { take: number }): Promise<[unknown[], number]>
}
type PluginLedger = Ledger & {
  createAccountTransactions(data: (Entry & { type: "credit" })[]): Promise<unknown[]>
}

export type Row = RowResult & {
  surface: "adapter" | "plugin"
  op: string
  /** What the calls go to. */
  target: string
  /** The tier (its accounts' transactions when grown), and the account's transactions when the row started and ended. */
  tier: number | null
  tx_start: number | null
  tx_end: number | null
}

export type Overhead = {
  rpc: DirectMethod
  method: string
  adapter: Side
  direct: Side
  seconds: number
  p50_diff_ms: number
  mean_diff_ms: number
}

export type Growth = { account: string; method: string; transactions: number; seconds: number }

/** retrieveAccountStats on an account at the lowest tier and one at the highest, one caller alternating between them. */
export type StatsFlat = {
  low_tier: number
  high_tier: number
  /** The two accounts' transactions when measured. */
  low_tx: number
  high_tx: number
  low: Side
  high: Side
  seconds: number
  p50_ratio: number
  mean_ratio: number
}

export type BenchResult = {
  mode: Mode
  started_at: string
  finished_at: string
  loadavg_start: number[]
  loadavg_end: number[]
  config: Omit<BenchConfig, "out" | "protos">
  grpc_js: { adapter: string | null; direct: string; same: boolean } | null
  rows: Row[]
  overhead: Overhead[]
  growth: Growth[]
  stats_flat: StatsFlat | null
  vacuum_seconds: number
}

const MAX_BATCH = 1000 // items per CreditAccounts call the server takes
/** The amounts the tiers move: decimal strings on the wire, cents for the bench's own bookkeeping. */
const GROW = { amount: "10.00", cents: 1000 } as const
const DEBIT = { amount: "0.01", cents: 1 } as const
const CREDIT = { amount: "1.00", cents: 100 } as const
type Amount = typeof GROW | typeof DEBIT | typeof CREDIT
const pick = <T>(list: T[]): T => list[Math.floor(Math.random() * list.length)]
const round = (x: number) => Number(x.toFixed(3))

export default async function bench({ container, args }: ExecArgs): Promise<void> {
  const config = JSON.parse(process.env.BENCH_CONFIG ?? "{}") as BenchConfig
  if (config.mode !== "ours" && config.mode !== "plugin") {
    throw new Error(`BENCH_CONFIG.mode must be "ours" or "plugin", not ${JSON.stringify(config.mode)} (args: ${args.join(" ")})`)
  }
  const stamp = `${Date.now().toString(36)}${randomUUID().slice(0, 4)}`
  const log = (line: string) => console.log(`[bench ${config.mode}] ${line}`)
  const { out, protos, ...shown } = config
  const result: BenchResult = {
    mode: config.mode,
    started_at: new Date().toISOString(),
    finished_at: "",
    loadavg_start: loadavg().map(round),
    loadavg_end: [],
    config: shown,
    grpc_js: null,
    rows: [],
    overhead: [],
    growth: [],
    stats_flat: null,
    vacuum_seconds: 0,
  }
  const surface = config.mode === "ours" ? "adapter" : "plugin"
  /** Measures one row; `tier` names the tier and reads its account's transactions now. */
  const row = async (op: string, target: string, callers: number, limit: Limit, call: Op, tier?: { tier: number; n: () => number }) => {
    const txStart = tier ? tier.n() : null
    const r = await closedLoop(call, callers, limit, "seconds" in limit ? config.warmup : 0)
    const done: Row = { surface, op, target, tier: tier?.tier ?? null, tx_start: txStart, tx_end: tier ? tier.n() : null, ...r }
    result.rows.push(done)
    log(`${op} ${target} x${callers}: ${r.ops} ops, ${r.ops_per_s}/s, p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms, errors ${r.errors}${r.first_error ? ` (${r.first_error})` : ""}`)
    return done
  }

  /** VACUUM (ANALYZE) of the module's tables (BenchConfig.vacuum_url). */
  const vacuum = async () => {
    const t0 = performance.now()
    const client = new Client({ connectionString: config.vacuum_url })
    await client.connect()
    try {
      await client.query(config.vacuum_tables ? `VACUUM (ANALYZE) ${config.vacuum_tables.map((t) => `"${t}"`).join(", ")}` : "VACUUM (ANALYZE)")
    } finally {
      await client.end()
    }
    result.vacuum_seconds = round(result.vacuum_seconds + (performance.now() - t0) / 1000)
  }

  if (config.mode === "ours") {
    await adapterRows(container.resolve<ILoyaltyModuleService>("loyalty"), container.resolve<IStoreCreditModuleService>("store_credit"))
  }
  await tierRows(container.resolve<Ledger>("store_credit"))

  result.finished_at = new Date().toISOString()
  result.loadavg_end = loadavg().map(round)
  writeFileSync(out, JSON.stringify(result, null, 2))
  log(`wrote ${out}`)

  /** Points, gift cards and store-credit debits through the adapter; the adapter against a direct client. */
  async function adapterRows(loyalty: ILoyaltyModuleService, storeCredit: IStoreCreditModuleService) {
    const address = process.env.LOYALTY_GRPC_ADDRESS ?? ""
    const token = process.env.LOYALTY_GRPC_TOKEN || undefined
    const adapterDir = dirname(require.resolve("medusa-loyalty-grpc"))
    const adapterGrpc = require.resolve("@grpc/grpc-js", { paths: [adapterDir] })
    const directGrpc = require.resolve("@grpc/grpc-js")
    result.grpc_js = { adapter: adapterGrpc, direct: directGrpc, same: adapterGrpc === directGrpc }

    await loyalty.getOptions() // dials the channel
    const t0 = performance.now()
    const customers = Array.from({ length: config.customers }, (_, k) => `bench_cus_${stamp}_${k}`)
    // Every customer gets a first adjustment, so the rows measure updates of existing accounts.
    const seeded = await closedLoop((i) => loyalty.adjustPoints({ customer_id: customers[i], delta: "1000", reason: "bench seed" }), 16, {
      count: customers.length,
    })
    if (seeded.errors) {
      throw new Error(`seeding ${customers.length} customers: ${seeded.errors} errors (${seeded.first_error})`)
    }
    const cards = await loyalty.createGiftCards(
      Array.from({ length: config.gift_cards }, () => ({ value: "100.00", currency_code: "usd" }))
    )
    const cardIds = cards.map((c) => c.id)
    const accounts = await storeCredit.createStoreCreditAccounts(
      Array.from({ length: config.spread_accounts }, (_, k) => ({ currency_code: "usd", code: `BENCH-SPREAD-${stamp}-${k}` }))
    )
    const accountIds = accounts.map((a) => a.id)
    await storeCredit.creditAccounts(accountIds.map((id, k) => ({ account_id: id, amount: "100000.00", reference: "bench", reference_id: `seed_${k}` })))
    await vacuum()
    log(`setup: ${customers.length} customers, ${cardIds.length} gift cards, ${accountIds.length} accounts in ${((performance.now() - t0) / 1000).toFixed(1)} s`)

    const adjust: Op = () =>
      loyalty.adjustPoints({ customer_id: pick(customers), delta: "1", reason: "bench", idempotency_key: randomUUID() })
    const retrieve: Op = () => loyalty.retrieveGiftCard(pick(cardIds))
    const debit: Op = (i) =>
      storeCredit.debitAccounts([{ account_id: pick(accountIds), amount: "0.01", reference: "bench", reference_id: `bench_${i}` }])
    for (const callers of config.callers) {
      await row("adjustPoints", `${customers.length} customers`, callers, { seconds: config.seconds }, adjust)
      await row("retrieveGiftCard", `${cardIds.length} gift cards`, callers, { seconds: config.seconds }, retrieve)
      await row("debitAccounts", `${accountIds.length} accounts`, callers, { seconds: config.seconds }, debit)
    }

    const direct = directClient(address, token, protos)
    try {
      const pairs: [DirectMethod, string, Op, Op][] = [
        [
          "AdjustPoints",
          "adjustPoints",
          adjust,
          () =>
            direct.call("AdjustPoints", {
              customer_id: pick(customers),
              delta: "1",
              reason: "bench",
              include_history: false,
              idempotency_key: randomUUID(),
            }),
        ],
        ["RetrieveGiftCard", "retrieveGiftCard", retrieve, () => direct.call("RetrieveGiftCard", { id: pick(cardIds) })],
        [
          "DebitAccounts",
          "debitAccounts",
          debit,
          (i) =>
            direct.call("DebitAccounts", {
              debits: [{ account_id: pick(accountIds), amount: "0.01", reference: "bench", reference_id: `direct_${i}` }],
            }),
        ],
      ]
      for (const [rpc, method, viaAdapter, viaDirect] of pairs) {
        const r = await interleaved(viaAdapter, viaDirect, config.overhead_seconds, config.warmup)
        const o: Overhead = {
          rpc,
          method,
          adapter: r.a,
          direct: r.b,
          seconds: r.seconds,
          p50_diff_ms: round(r.a.p50_ms - r.b.p50_ms),
          mean_diff_ms: round(r.a.mean_ms - r.b.mean_ms),
        }
        result.overhead.push(o)
        log(`overhead ${rpc}: adapter p50 ${o.adapter.p50_ms} ms, direct p50 ${o.direct.p50_ms} ms, +${o.p50_diff_ms} ms (mean +${o.mean_diff_ms} ms), errors ${r.a.errors}/${r.b.errors}`)
      }
    } finally {
      direct.close()
    }
  }

  /** The ledger tiers, on whichever store_credit module the app loaded. */
  async function tierRows(ledger: Ledger) {
    const debitAccount = (await ledger.createStoreCreditAccounts({ currency_code: "usd", code: `BENCH-DEBIT-${stamp}` })).id
    const creditAccount = (await ledger.createStoreCreditAccounts({ currency_code: "usd", code: `BENCH-CREDIT-${stamp}` })).id
    // Transactions and balance (in cents) each account should have, checked against the module.
    // Grown to the lowest tier only, for the interleaved flatness check at the highest.
    const lowAccount = (await ledger.createStoreCreditAccounts({ currency_code: "usd", code: `BENCH-LOW-${stamp}` })).id
    const count = { [debitAccount]: 0, [creditAccount]: 0, [lowAccount]: 0 }
    const cents = { [debitAccount]: 0, [creditAccount]: 0, [lowAccount]: 0 }
    let seq = 0
    const entry = (account: string, amount: string, what: string): Entry => ({
      account_id: account,
      amount,
      reference: "bench",
      reference_id: `${what}_${seq++}`,
    })

    /**
     * Adds `n` credits of 10.00 to `account`. Ours: creditAccounts, up to 1,000
     * items a call. The plugin: its service's createAccountTransactions (the
     * generated bulk create of its AccountTransaction model, type "credit"), the
     * same rows its creditAccounts writes, which the plugin's stats and debits
     * sum the same way; its creditAccounts takes ~3 ms per item (one account
     * read and one insert each), too slow to add 40,000 here.
     */
    const grow = async (account: string, n: number) => {
      const t0 = performance.now()
      const plugin = config.mode === "plugin"
      for (let done = 0; done < n; done += MAX_BATCH) {
        const items = Array.from({ length: Math.min(MAX_BATCH, n - done) }, () => entry(account, GROW.amount, "grow"))
        if (plugin) {
          await (ledger as PluginLedger).createAccountTransactions(items.map((e) => ({ ...e, type: "credit" as const })))
        } else {
          await ledger.creditAccounts(items)
        }
      }
      count[account] += n
      cents[account] += n * GROW.cents
      const seconds = round((performance.now() - t0) / 1000)
      result.growth.push({ account, method: plugin ? "createAccountTransactions" : "creditAccounts", transactions: n, seconds })
      log(`grew ${account} by ${n} transactions in ${seconds} s`)
    }
    /** The module's own count and stats agree with what the bench wrote (so its reads see every grown row). */
    const check = async (account: string) => {
      const [, n] = await ledger.listAndCountAccountTransactions({ account_id: account }, { take: 1 })
      if (n !== count[account]) {
        throw new Error(`account ${account} has ${n} transactions, the bench counted ${count[account]}`)
      }
      const { balance } = await ledger.retrieveAccountStats({ account_id: account })
      if (Math.round(Number(balance) * 100) !== cents[account]) {
        throw new Error(`account ${account} has a balance of ${balance}, the bench expected ${cents[account] / 100}`)
      }
    }
    const writes = (callers: number) => config.tier_writes[String(callers)] ?? 100
    // A write row adds its successful calls to the account; the next write row starts from there.
    const writeRow = async (op: "debitAccounts" | "creditAccounts", account: string, tier: number, callers: number, amount: Amount) => {
      const move = op === "debitAccounts" ? ledger.debitAccounts.bind(ledger) : ledger.creditAccounts.bind(ledger)
      const done = await row(op, `one account, ${tier.toLocaleString("en-US")} tx`, callers, { count: writes(callers) }, () => move([entry(account, amount.amount, op)]), {
        tier,
        n: () => count[account],
      })
      count[account] += done.ops
      cents[account] += (op === "debitAccounts" ? -1 : 1) * done.ops * amount.cents
      done.tx_end = count[account]
    }

    for (const tier of config.tiers) {
      for (const account of tier === config.tiers[0] ? [debitAccount, creditAccount, lowAccount] : [debitAccount, creditAccount]) {
        if (count[account] > tier) {
          throw new Error(`tier ${tier}: the account already has ${count[account]} transactions (tiers too close for tier_writes)`)
        }
        await grow(account, tier - count[account])
        await check(account)
      }
      await vacuum()
      const label = `one account, ${tier.toLocaleString("en-US")} tx`
      for (const callers of config.callers) {
        await row("retrieveAccountStats", label, callers, { seconds: config.seconds }, () => ledger.retrieveAccountStats({ account_id: debitAccount }), {
          tier,
          n: () => count[debitAccount],
        })
      }
      for (const callers of config.callers) {
        await writeRow("debitAccounts", debitAccount, tier, callers, DEBIT)
      }
      for (const callers of config.callers) {
        await writeRow("creditAccounts", creditAccount, tier, callers, CREDIT)
      }
      await check(debitAccount)
      await check(creditAccount)
    }

    // The flatness check: one caller alternating between the account at the lowest
    // tier and the one at the highest, so both reads see the same machine load.
    const low = config.tiers[0]
    const high = config.tiers[config.tiers.length - 1]
    const stats = (account: string): Op => () => ledger.retrieveAccountStats({ account_id: account })
    const r = await interleaved(stats(lowAccount), stats(debitAccount), config.overhead_seconds, config.warmup)
    result.stats_flat = {
      low_tier: low,
      high_tier: high,
      low_tx: count[lowAccount],
      high_tx: count[debitAccount],
      low: r.a,
      high: r.b,
      seconds: r.seconds,
      p50_ratio: round(r.b.p50_ms / r.a.p50_ms),
      mean_ratio: round(r.b.mean_ms / r.a.mean_ms),
    }
    log(`stats flat: p50 ${r.b.p50_ms} ms at ${count[debitAccount]} tx vs ${r.a.p50_ms} ms at ${count[lowAccount]} tx (x${result.stats_flat.p50_ratio})`)
  }
}
