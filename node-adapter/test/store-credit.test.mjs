// Every method of the `store_credit` module service against a real
// loyalty-server process, constructed as Medusa constructs it
// (new Service(deps, options)). Nothing is mocked.
import { after, before, describe, it } from "node:test"
import assert from "node:assert/strict"
import { createRequire } from "node:module"
import { join } from "node:path"
import { ADAPTER_ROOT, freePort } from "./helpers/server.mjs"
import {
  assertMedusaError,
  BigNumber,
  MedusaError,
  makeService,
  makeStoreCreditService,
  pkg,
  rejection,
  startLiveServices,
  stopLiveServices,
  storeCreditModuleExport,
} from "./helpers/pkg.mjs"

const require = createRequire(import.meta.url)

let live = {}
let server
let sc
let loyalty
let seq = 0
/** A name no other test uses. */
const uid = (prefix) => `${prefix}${process.pid}x${++seq}`

before(async () => {
  live = await startLiveServices()
  ;({ server, sc, loyalty } = live)
})

after(() => stopLiveServices(live))

const raw = (value) => ({ value, precision: 20 })

/** A new anonymous account with a code. */
const newAccount = (extra = {}) => sc.createStoreCreditAccounts({ code: uid("SC-"), currency_code: "usd", ...extra })

/** balance, credits, debits of an account as exact strings. */
async function exactStats(accountId) {
  const s = await sc.retrieveAccountStats({ account_id: accountId })
  return [s.raw_balance.value, s.raw_credits.value, s.raw_debits.value]
}

describe("store_credit module shape", () => {
  it("is a Medusa module under the key store_credit, with the plugin's aliases and linkable keys", () => {
    const mod = storeCreditModuleExport.default
    assert.equal(typeof mod.service, "function")
    const joiner = mod.service.prototype.__joinerConfig()
    assert.equal(joiner.serviceName, "store_credit")
    assert.deepEqual(joiner.primaryKeys, ["id"])
    assert.deepEqual(
      joiner.alias.map((a) => [a.name, a.entity, a.args.methodSuffix]),
      [
        [["store_credit_account", "store_credit_accounts"], "StoreCreditAccount", "StoreCreditAccounts"],
        [["account_transaction", "account_transactions"], "AccountTransaction", "AccountTransactions"],
      ]
    )
    assert.deepEqual(joiner.linkableKeys, {
      store_credit_account_id: "StoreCreditAccount",
      account_transaction_id: "AccountTransaction",
    })
    assert.match(joiner.schema, /type StoreCreditAccount \{[^}]*balance: Float![^}]*transactions: \[AccountTransaction\]!/s)
    assert.deepEqual(storeCreditModuleExport.linkable.storeCreditAccount.toJSON(), {
      linkable: "store_credit_account_id",
      primaryKey: "id",
      serviceName: "store_credit",
      field: "storeCreditAccount",
      entity: "StoreCreditAccount",
    })
    assert.equal(storeCreditModuleExport.linkable.accountTransaction.toJSON().serviceName, "store_credit")
  })

  it("is exported as medusa-loyalty-grpc/store-credit and from the package root; loyalty is unchanged", () => {
    const viaExports = require("medusa-loyalty-grpc/store-credit")
    assert.equal(viaExports.default.service, storeCreditModuleExport.default.service)
    assert.equal(pkg.StoreCreditModule.service, storeCreditModuleExport.default.service)
    assert.equal(pkg.STORE_CREDIT_MODULE, "store_credit")
    assert.equal(pkg.LoyaltyModule.service.prototype.__joinerConfig().serviceName, "loyalty")
    assert.equal(require("medusa-loyalty-grpc/module").default.service, pkg.LoyaltyModule.service)
  })

  it("has every method the plugin's workflows, routes and Query call on store_credit", () => {
    const calledByThePlugin = [
      "createStoreCreditAccounts",
      "updateStoreCreditAccounts",
      "retrieveStoreCreditAccount",
      "listStoreCreditAccounts",
      "listAndCountStoreCreditAccounts",
      "deleteStoreCreditAccounts",
      "softDeleteStoreCreditAccounts",
      "restoreStoreCreditAccounts",
      "creditAccounts",
      "debitAccounts",
      "retrieveAccountStats",
      "listAccountTransactions",
      "listAndCountAccountTransactions",
      "retrieveAccountTransaction",
      "deleteTransactions",
      "deleteAccountTransactions",
      "deleteGiftCards",
      "restoreGiftCards",
    ]
    for (const name of calledByThePlugin) {
      assert.equal(typeof sc[name], "function", name)
    }
  })

  it("a call made while the server is down is unexpected_state naming the address", async () => {
    const dead = `127.0.0.1:${await freePort()}`
    const down = makeStoreCreditService({ address: dead, timeoutMs: 2000 })
    try {
      const err = await rejection(down.retrieveAccountStats({ account_id: "sc_acc_x" }))
      assertMedusaError(err, "unexpected_state", new RegExp(`Loyalty gRPC server at ${dead.replace(/\./g, "\\.")} is unreachable \\(RetrieveAccountStats\\)`))
      // Nothing to do means no call at all (these would fail the same way otherwise).
      assert.deepEqual(await down.createStoreCreditAccounts([]), [])
      assert.deepEqual(await down.creditAccounts([]), [])
      assert.deepEqual(await down.debitAccounts([]), [])
      assert.equal(await down.deleteTransactions([]), undefined)
      assert.equal(await down.deleteStoreCreditAccounts({ id: [] }), undefined)
      assert.equal(await down.softDeleteStoreCreditAccounts([]), undefined)
      assert.equal(await down.deleteGiftCards({ id: [] }), undefined)
    } finally {
      await down.__hooks.onApplicationShutdown()
    }
  })
})

describe("accounts", () => {
  it("createStoreCreditAccounts: one object in, one account out, shaped as the plugin's", async () => {
    const customer = uid("cus_one_")
    const account = await sc.createStoreCreditAccounts({ customer_id: customer, currency_code: "USD", metadata: { tier: "gold", n: 2 } })
    assert.ok(!Array.isArray(account))
    assert.match(account.id, /^sc_acc_[0-9A-HJKMNP-TV-Z]{26}$/)
    assert.equal(account.customer_id, customer)
    assert.equal(account.code, null)
    assert.equal(account.currency_code, "usd")
    assert.deepEqual(account.metadata, { tier: "gold", n: 2 })
    for (const field of ["balance", "credits", "debits"]) {
      assert.equal(account[field], 0)
      assert.deepEqual(account[`raw_${field}`], raw("0"))
    }
    assert.equal(account.gift_card_id, null)
    assert.ok(account.created_at instanceof Date)
    assert.ok(account.updated_at instanceof Date)
    assert.equal(account.deleted_at, null)
  })

  it("createStoreCreditAccounts: a list in, a list out in order; all or nothing", async () => {
    const code = uid("SC-MANY-")
    const customer = uid("cus_many_")
    const accounts = await sc.createStoreCreditAccounts([
      { customer_id: customer, currency_code: "usd" },
      { code, currency_code: "eur" },
    ])
    assert.ok(Array.isArray(accounts))
    assert.deepEqual(
      accounts.map((a) => [a.customer_id, a.code, a.currency_code]),
      [
        [customer, null, "usd"],
        [null, code, "eur"],
      ]
    )
    // One live account per (customer, currency), codes unique: the whole call is refused.
    const other = uid("SC-OTHER-")
    const dup = await rejection(
      sc.createStoreCreditAccounts([
        { code: other, currency_code: "usd" },
        { customer_id: customer, currency_code: "usd" },
      ])
    )
    assertMedusaError(dup, "duplicate_error")
    const dupCode = await rejection(sc.createStoreCreditAccounts({ code, currency_code: "usd" }))
    assertMedusaError(dupCode, "duplicate_error")
    assert.deepEqual(await sc.listStoreCreditAccounts({ code: other }), [])
    // Bad input is the server's invalid_data; a non-object never reaches the wire.
    assertMedusaError(await rejection(sc.createStoreCreditAccounts({ currency_code: "" })), "invalid_data")
    assertMedusaError(await rejection(sc.createStoreCreditAccounts([null])), "invalid_data")
  })

  it("retrieveStoreCreditAccount by id, with select; an unknown id is not_found", async () => {
    const account = await newAccount({ metadata: { a: 1 } })
    const read = await sc.retrieveStoreCreditAccount(account.id)
    assert.deepEqual(read, account)
    const selected = await sc.retrieveStoreCreditAccount(account.id, { select: ["code", "balance"] })
    assert.deepEqual(selected, { id: account.id, code: account.code, balance: 0, raw_balance: raw("0") })
    assertMedusaError(await rejection(sc.retrieveStoreCreditAccount("sc_acc_missing")), "not_found", /sc_acc_missing/)
  })

  it("listStoreCreditAccounts / listAndCount: id, customer_id, currency_code, code ($in too), q, skip/take/order, take: null", async () => {
    const tag = uid("L")
    const customers = [`cus_${tag}_a`, `cus_${tag}_b`]
    const created = await sc.createStoreCreditAccounts([
      { customer_id: customers[0], currency_code: "usd" },
      { customer_id: customers[1], currency_code: "usd" },
      { customer_id: customers[0], currency_code: "eur" },
      { code: `SC-${tag}-X`, currency_code: "usd" },
    ])
    const ids = created.map((a) => a.id)

    const [byCustomer, count] = await sc.listAndCountStoreCreditAccounts({ customer_id: customers[0] })
    assert.equal(count, 2)
    assert.deepEqual(byCustomer.map((a) => a.id).sort(), [ids[0], ids[2]].sort())
    const usd = await sc.listStoreCreditAccounts({ customer_id: { $in: customers }, currency_code: "usd" })
    assert.deepEqual(usd.map((a) => a.id).sort(), [ids[0], ids[1]].sort())
    assert.deepEqual((await sc.listStoreCreditAccounts({ code: `SC-${tag}-X` })).map((a) => a.id), [ids[3]])
    assert.deepEqual((await sc.listStoreCreditAccounts({ id: [ids[1], ids[3]] })).map((a) => a.id).sort(), [ids[1], ids[3]].sort())
    const [searched, searchedCount] = await sc.listAndCountStoreCreditAccounts({ q: tag.toLowerCase() })
    assert.equal(searchedCount, 4)
    assert.equal(searched.length, 4)

    // Pages, order, count ignoring skip/take.
    const [page, total] = await sc.listAndCountStoreCreditAccounts({ id: ids }, { skip: 1, take: 2, order: { id: "ASC" } })
    assert.equal(total, 4)
    assert.deepEqual(page.map((a) => a.id), [...ids].sort().slice(1, 3))
    const desc = await sc.listStoreCreditAccounts({ id: ids }, { order: "-id" })
    assert.deepEqual(desc.map((a) => a.id), [...ids].sort().reverse())
    // take: null is Medusa's "no limit": every page.
    const all = await sc.listStoreCreditAccounts({ id: ids }, { take: null, select: ["id"] })
    assert.deepEqual(all.map((a) => Object.keys(a)), [["id"], ["id"], ["id"], ["id"]])

    assertMedusaError(await rejection(sc.listStoreCreditAccounts({ created_at: { $gt: "2020-01-01" } })), "invalid_data", /Unsupported store credit account filter: created_at/)
    assertMedusaError(await rejection(sc.listStoreCreditAccounts({ id: { $ne: "x" } })), "invalid_data", /Unsupported operator in store credit account filter "id"/)
    assertMedusaError(await rejection(sc.listStoreCreditAccounts({}, { order: { nope: "ASC" } })), "invalid_data")
    assertMedusaError(await rejection(sc.listStoreCreditAccounts({}, { relations: ["customer"] })), "invalid_data", /relation: customer/)
  })

  it("updateStoreCreditAccounts: one or many; every passed key in the mask, null clears; currency fixed once money moved", async () => {
    const account = await newAccount()
    const customer = uid("cus_upd_")
    const updated = await sc.updateStoreCreditAccounts({ id: account.id, customer_id: customer, metadata: { note: "vip" } })
    assert.ok(!Array.isArray(updated))
    assert.equal(updated.customer_id, customer)
    assert.equal(updated.code, account.code)
    assert.deepEqual(updated.metadata, { note: "vip" })
    const [cleared] = await sc.updateStoreCreditAccounts([{ id: account.id, code: null, metadata: null }])
    assert.equal(cleared.code, null)
    assert.equal(cleared.metadata, null)
    assert.equal(cleared.customer_id, customer)
    // Currency may change while the account has no transactions.
    const gbp = await sc.updateStoreCreditAccounts({ id: account.id, currency_code: "gbp" })
    assert.equal(gbp.currency_code, "gbp")
    await sc.creditAccounts([{ account_id: account.id, amount: 5, reference: "order", reference_id: "o" }])
    assertMedusaError(await rejection(sc.updateStoreCreditAccounts({ id: account.id, currency_code: "usd" })), "not_allowed", /currency_code cannot change/)
    // Keys the server does not update are refused there, not silently dropped.
    assertMedusaError(await rejection(sc.updateStoreCreditAccounts({ id: account.id, balance: 100 })), "invalid_data")
    assertMedusaError(await rejection(sc.updateStoreCreditAccounts({ id: "sc_acc_missing", metadata: {} })), "not_found")
    assert.deepEqual(await exactStats(account.id), ["5", "5", "0"])
  })
})

describe("credits and debits", () => {
  it("creditAccounts / debitAccounts: transactions shaped as the plugin's, stats from the row", async () => {
    const [a, b] = await sc.createStoreCreditAccounts([
      { customer_id: uid("cus_cd_"), currency_code: "usd" },
      { code: uid("SC-CD-"), currency_code: "usd" },
    ])
    const credits = await sc.creditAccounts([
      { account_id: a.id, amount: 25, note: "Refund for order_100", reference: "order", reference_id: "order_100", metadata: { by: "admin" } },
      { account_id: b.id, amount: "10", reference: "order", reference_id: "order_101" },
    ])
    assert.equal(credits.length, 2)
    const [t] = credits
    assert.match(t.id, /^sc_trx_[0-9A-HJKMNP-TV-Z]{26}$/)
    assert.equal(t.account_id, a.id)
    assert.equal(t.type, "credit")
    assert.equal(t.amount, 25)
    assert.deepEqual(t.raw_amount, raw("25"))
    assert.equal(t.note, "Refund for order_100")
    assert.equal(t.reference, "order")
    assert.equal(t.reference_id, "order_100")
    assert.deepEqual(t.metadata, { by: "admin" })
    assert.ok(t.created_at instanceof Date)
    assert.equal(t.deleted_at, null)
    assert.equal(credits[1].note, null)

    const debits = await sc.debitAccounts([{ account_id: a.id, amount: new BigNumber(10.5), reference: "cart", reference_id: "cart_7", note: "Gift card usage" }])
    assert.deepEqual(
      debits.map((d) => [d.type, d.amount, d.raw_amount.value, d.reference, d.reference_id]),
      [["debit", 10.5, "10.5", "cart", "cart_7"]]
    )
    const stats = await sc.retrieveAccountStats({ account_id: a.id })
    assert.deepEqual(stats, {
      id: a.id,
      balance: 14.5,
      credits: 25,
      debits: 10.5,
      raw_balance: raw("14.5"),
      raw_credits: raw("25"),
      raw_debits: raw("10.5"),
    })
    // The account row carries the same numbers.
    const row = await sc.retrieveStoreCreditAccount(a.id)
    assert.deepEqual([row.balance, row.credits, row.debits], [14.5, 25, 10.5])
    assert.deepEqual((await sc.retrieveAccountStats(b.id)).raw_balance, raw("10"))
  })

  it("all or nothing across items: one overdraft refuses the whole call (not_allowed), nothing moves", async () => {
    const [a, b] = await sc.createStoreCreditAccounts([
      { code: uid("SC-AON-"), currency_code: "usd" },
      { code: uid("SC-AON-"), currency_code: "usd" },
    ])
    await sc.creditAccounts([
      { account_id: a.id, amount: 10, reference: "order", reference_id: "o1" },
      { account_id: b.id, amount: 5, reference: "order", reference_id: "o2" },
    ])
    const err = await rejection(
      sc.debitAccounts([
        { account_id: a.id, amount: 4, reference: "cart", reference_id: "c1" },
        { account_id: b.id, amount: 6, reference: "cart", reference_id: "c1" },
      ])
    )
    assertMedusaError(err, "not_allowed", /^debits\[1\]: insufficient store credit/)
    assert.deepEqual(await exactStats(a.id), ["10", "10", "0"])
    assert.deepEqual(await exactStats(b.id), ["5", "5", "0"])
    const [, count] = await sc.listAndCountAccountTransactions({ account_id: [a.id, b.id] })
    assert.equal(count, 2)
    // Two debits on one account in one call are checked together.
    assertMedusaError(
      await rejection(
        sc.debitAccounts([
          { account_id: b.id, amount: 3, reference: "cart", reference_id: "c2" },
          { account_id: b.id, amount: 3, reference: "cart", reference_id: "c2" },
        ])
      ),
      "not_allowed"
    )
    assert.deepEqual(await exactStats(b.id), ["5", "5", "0"])
  })

  it("an unknown account is not_found; bad amounts are invalid_data; nothing is written", async () => {
    const a = await newAccount()
    await sc.creditAccounts([{ account_id: a.id, amount: 1, reference: "order", reference_id: "o" }])
    const unknown = await rejection(
      sc.creditAccounts([
        { account_id: a.id, amount: 1, reference: "order", reference_id: "o" },
        { account_id: "sc_acc_does_not_exist", amount: 1, reference: "order", reference_id: "o" },
      ])
    )
    assertMedusaError(unknown, "not_found", /sc_acc_does_not_exist/)
    assertMedusaError(await rejection(sc.debitAccounts([{ account_id: "sc_acc_does_not_exist", amount: 1 }])), "not_found")
    for (const amount of [0, -5, "abc", Number.NaN, Infinity, "1e3", "1.0000001", undefined]) {
      const err = await rejection(sc.creditAccounts([{ account_id: a.id, amount, reference: "order", reference_id: "o" }]))
      assertMedusaError(err, "invalid_data")
      assert.ok(err.fieldViolations.some((v) => v.field === "credits[0].amount"), JSON.stringify(err.fieldViolations))
    }
    assertMedusaError(await rejection(sc.debitAccounts([{ account_id: a.id, amount: -1 }])), "invalid_data")
    assertMedusaError(await rejection(sc.debitAccounts([{ account_id: "", amount: 1 }])), "invalid_data")
    assertMedusaError(await rejection(sc.creditAccounts([42])), "invalid_data")
    assert.deepEqual(await exactStats(a.id), ["1", "1", "0"])
  })

  it("amounts are exact decimal strings on the wire: 0.1 + 0.2 is 0.3, large values keep every digit", async () => {
    const a = await newAccount()
    await sc.creditAccounts([{ account_id: a.id, amount: 0.1, reference: "order", reference_id: "o" }])
    await sc.creditAccounts([{ account_id: a.id, amount: "0.2", reference: "order", reference_id: "o" }])
    assert.deepEqual(await exactStats(a.id), ["0.3", "0.3", "0"])
    assert.deepEqual((await sc.retrieveStoreCreditAccount(a.id)).raw_balance, raw("0.3"))
    const big = await newAccount()
    const [tx] = await sc.creditAccounts([{ account_id: big.id, amount: "123456789012.345678", reference: "order", reference_id: "o" }])
    assert.deepEqual(tx.raw_amount, raw("123456789012.345678"))
    await sc.debitAccounts([{ account_id: big.id, amount: new BigNumber("0.000001"), reference: "cart", reference_id: "c" }])
    assert.deepEqual(await exactStats(big.id), ["123456789012.345677", "123456789012.345678", "0.000001"])
    // bignumber.js values (what MathBN gives the plugin's refund step) go out exactly too.
    const BigNumberJS = require("bignumber.js")
    await sc.creditAccounts([{ account_id: a.id, amount: new BigNumberJS("1e-6"), reference: "order", reference_id: "o" }])
    assert.deepEqual(await exactStats(a.id), ["0.300001", "0.300001", "0"])
  })

  it("an idempotency key makes an item exactly-once; without one, a repeat applies again", async () => {
    const a = await newAccount()
    const item = { account_id: a.id, amount: 7, reference: "order", reference_id: "o_idem", idempotency_key: "refund-o_idem" }
    const [first] = await sc.creditAccounts([item])
    const [again] = await sc.creditAccounts([item])
    assert.equal(again.id, first.id)
    assert.deepEqual(await exactStats(a.id), ["7", "7", "0"])
    // Same key, other body: conflict.
    assertMedusaError(await rejection(sc.creditAccounts([{ ...item, amount: 8 }])), "conflict")
    const plain = { account_id: a.id, amount: 1, reference: "cart", reference_id: "c" }
    const [d1] = await sc.debitAccounts([plain])
    const [d2] = await sc.debitAccounts([plain])
    assert.notEqual(d1.id, d2.id)
    assert.deepEqual(await exactStats(a.id), ["5", "7", "2"])
  })

  it("retrieveAccountStats of an unknown account is not_found", async () => {
    assertMedusaError(await rejection(sc.retrieveAccountStats({ account_id: "sc_acc_unknown" })), "not_found")
  })
})

describe("transactions", () => {
  it("an empty list filter ([] or {$in: []}) matches nothing, as SQL IN () does in Medusa; it is not 'no filter'", async () => {
    // The plugin's refresh-cart-gift-cards workflow lists gift cards with { code: [] } for a cart without cards.
    const account = await newAccount()
    await sc.creditAccounts([{ account_id: account.id, amount: 3, reference: "order", reference_id: uid("order_") }])
    await loyalty.createGiftCards({ code: uid("GC-EMPTY-"), value: 5, currency_code: "usd" })
    assert.ok((await sc.listStoreCreditAccounts({})).length > 0)
    assert.deepEqual(await sc.listAndCountStoreCreditAccounts({ id: [] }), [[], 0])
    assert.deepEqual(await sc.listStoreCreditAccounts({ code: { $in: [] } }), [])
    assert.deepEqual(await sc.listStoreCreditAccounts({ currency_code: "usd", customer_id: [] }, { take: null }), [])
    assert.deepEqual(await sc.listAndCountAccountTransactions({ account_id: [] }), [[], 0])
    assert.deepEqual(await sc.listAccountTransactions({ reference_id: { $in: [] } }), [])
    assert.ok((await loyalty.listGiftCards({})).length > 0)
    assert.deepEqual(await loyalty.listAndCountGiftCards({ code: [] }), [[], 0])
    assert.deepEqual(await loyalty.listGiftCards({ id: { $in: [] } }, { take: null }), [])
    // Bad filters are still refused, empty list or not.
    assertMedusaError(await rejection(sc.listStoreCreditAccounts({ id: [], created_at: { $gt: "2020-01-01" } })), "invalid_data")
  })

  it("listAccountTransactions / listAndCount: account_id, type, reference, reference_id, id; newest first; skip/take", async () => {
    const [a, b] = await sc.createStoreCreditAccounts([
      { code: uid("SC-TX-"), currency_code: "usd" },
      { code: uid("SC-TX-"), currency_code: "usd" },
    ])
    const [c1] = await sc.creditAccounts([{ account_id: a.id, amount: 30, reference: "order", reference_id: "order_1" }])
    const [c2] = await sc.creditAccounts([{ account_id: b.id, amount: 5, reference: "order", reference_id: "order_2" }])
    const [d1] = await sc.debitAccounts([{ account_id: a.id, amount: 12, reference: "cart", reference_id: "cart_1" }])

    const [rows, count] = await sc.listAndCountAccountTransactions({ account_id: a.id })
    assert.equal(count, 2)
    assert.deepEqual(rows.map((t) => t.id), [d1.id, c1.id])
    assert.deepEqual((await sc.listAccountTransactions({ account_id: [a.id, b.id], type: "credit" })).map((t) => t.id).sort(), [c1.id, c2.id].sort())
    assert.deepEqual((await sc.listAccountTransactions({ account_id: [a.id, b.id], type: ["debit"] })).map((t) => t.id), [d1.id])
    assert.deepEqual((await sc.listAccountTransactions({ reference: "cart", reference_id: "cart_1", account_id: a.id })).map((t) => t.id), [d1.id])
    assert.deepEqual((await sc.listAccountTransactions({ id: { $in: [c2.id] } })).map((t) => t.amount), [5])
    const [page, total] = await sc.listAndCountAccountTransactions({ account_id: [a.id, b.id] }, { skip: 1, take: 1, order: { amount: "ASC" } })
    assert.equal(total, 3)
    assert.deepEqual(page.map((t) => t.amount), [12])
    assert.deepEqual((await sc.listAccountTransactions({ account_id: a.id }, { select: ["amount"] }))[0], { id: d1.id, amount: 12, raw_amount: raw("12") })

    assertMedusaError(await rejection(sc.listAccountTransactions({ type: "refund" })), "invalid_data", /type must be credit or debit/)
    assertMedusaError(await rejection(sc.listAccountTransactions({ q: "x" })), "invalid_data", /Unsupported account transaction filter: q/)
  })

  it("retrieveAccountTransaction by id; unknown is not_found", async () => {
    const a = await newAccount()
    const [c] = await sc.creditAccounts([{ account_id: a.id, amount: 3, reference: "order", reference_id: "o" }])
    assert.deepEqual(await sc.retrieveAccountTransaction(c.id), c)
    assertMedusaError(await rejection(sc.retrieveAccountTransaction("sc_trx_unknown")), "not_found", "AccountTransaction with id: sc_trx_unknown was not found")
  })

  it("relations inside the module: accounts with transactions, transactions with their account", async () => {
    const a = await newAccount()
    const [c] = await sc.creditAccounts([{ account_id: a.id, amount: 9, reference: "order", reference_id: "o" }])
    const [d] = await sc.debitAccounts([{ account_id: a.id, amount: 4, reference: "cart", reference_id: "c" }])
    const withTx = await sc.retrieveStoreCreditAccount(a.id, { relations: ["transactions"] })
    assert.deepEqual(withTx.transactions.map((t) => t.id), [d.id, c.id])
    const [listed] = await sc.listStoreCreditAccounts({ id: a.id }, { select: ["id", "balance", "transactions.amount"] })
    assert.equal(listed.balance, 5)
    assert.deepEqual(listed.transactions.map((t) => t.amount), [4, 9])
    const [tx] = await sc.listAccountTransactions({ id: c.id }, { relations: ["account"] })
    assert.equal(tx.account.id, a.id)
    assert.equal(tx.account.balance, 5)
    // As Query passes the Admin UI's fields=*account: a select without the relation, and the relation.
    const [shown] = await sc.listAccountTransactions({ id: c.id }, { select: ["id", "amount"], relations: ["account"] })
    assert.deepEqual([shown.amount, shown.account?.id, shown.account?.currency_code], [9, a.id, a.currency_code])
    assert.equal(shown.type, undefined, "fields outside the select stay out")
    const [acc] = await sc.listStoreCreditAccounts({ id: a.id }, { select: ["id", "balance"], relations: ["transactions"] })
    assert.deepEqual(acc.transactions?.map((t) => t.id), [d.id, c.id])
  })

  it("deleteTransactions voids: the amount leaves the balance, the row leaves lists, stays with withDeleted", async () => {
    const a = await newAccount()
    const [funded] = await sc.creditAccounts([{ account_id: a.id, amount: 50, reference: "order", reference_id: "o" }])
    const [spent] = await sc.debitAccounts([{ account_id: a.id, amount: 20, reference: "cart", reference_id: "c" }])
    assert.deepEqual(await exactStats(a.id), ["30", "50", "20"])
    assert.equal(await sc.deleteTransactions([spent.id]), undefined)
    assert.deepEqual(await exactStats(a.id), ["50", "50", "0"])
    assert.deepEqual((await sc.listAccountTransactions({ account_id: a.id })).map((t) => t.id), [funded.id])
    const voided = (await sc.listAccountTransactions({ account_id: a.id }, { withDeleted: true })).find((t) => t.id === spent.id)
    assert.ok(voided.deleted_at instanceof Date)
    assert.deepEqual(voided.updated_at, voided.deleted_at)
    assert.ok((await sc.retrieveAccountTransaction(spent.id, { withDeleted: true })).deleted_at instanceof Date)

    // deleteAccountTransactions (MedusaService's name) is the same void; a void taking an account below zero is refused.
    const [spentAgain] = await sc.debitAccounts([{ account_id: a.id, amount: 45, reference: "cart", reference_id: "c2" }])
    assertMedusaError(await rejection(sc.deleteAccountTransactions([funded.id])), "not_allowed")
    assert.deepEqual(await exactStats(a.id), ["5", "50", "45"])
    await sc.deleteAccountTransactions(spentAgain.id)
    assert.deepEqual(await exactStats(a.id), ["50", "50", "0"])
    // softDeleteAccountTransactions voids too and says which.
    assert.deepEqual(await sc.softDeleteAccountTransactions([funded.id]), { account_transaction_id: [funded.id] })
    assert.deepEqual(await exactStats(a.id), ["0", "0", "0"])
    // Voiding again, or an unknown id, changes nothing.
    await sc.deleteTransactions([funded.id, "sc_trx_unknown"])
    assert.deepEqual(await exactStats(a.id), ["0", "0", "0"])
  })

  it("the ledger is written only by credits and debits: create/update/restore of transactions is not_allowed", async () => {
    assertMedusaError(await rejection(sc.createAccountTransactions([{ account_id: "sc_acc_x", amount: 1, type: "credit" }])), "not_allowed")
    assertMedusaError(await rejection(sc.updateAccountTransactions({ id: "sc_trx_x", amount: 2 })), "not_allowed")
    assertMedusaError(await rejection(sc.restoreAccountTransactions(["sc_trx_x"])), "not_allowed")
  })
})

describe("delete, soft delete, restore", () => {
  it("softDeleteStoreCreditAccounts hides the account and stops its money; restore brings both back", async () => {
    const a = await newAccount()
    await sc.creditAccounts([{ account_id: a.id, amount: 2, reference: "order", reference_id: "o" }])
    assert.deepEqual(await sc.softDeleteStoreCreditAccounts([a.id]), { store_credit_account_id: [a.id] })
    assertMedusaError(await rejection(sc.retrieveStoreCreditAccount(a.id)), "not_found")
    assert.deepEqual(await sc.listStoreCreditAccounts({ id: a.id }), [])
    const hidden = await sc.listStoreCreditAccounts({ id: a.id }, { withDeleted: true })
    assert.ok(hidden[0].deleted_at instanceof Date)
    assertMedusaError(await rejection(sc.creditAccounts([{ account_id: a.id, amount: 1, reference: "order", reference_id: "o" }])), "not_found")
    assert.deepEqual(await sc.restoreStoreCreditAccounts({ id: a.id }), { store_credit_account_id: [a.id] })
    assert.equal((await sc.retrieveStoreCreditAccount(a.id)).balance, 2)
    // Restoring what is not deleted changes nothing.
    assert.deepEqual(await sc.restoreStoreCreditAccounts(a.id), { store_credit_account_id: [] })
  })

  it("deleteStoreCreditAccounts removes accounts and their transactions for good", async () => {
    const [a, b] = await sc.createStoreCreditAccounts([
      { code: uid("SC-DEL-"), currency_code: "usd" },
      { code: uid("SC-DEL-"), currency_code: "usd" },
    ])
    const [tx] = await sc.creditAccounts([{ account_id: a.id, amount: 1, reference: "order", reference_id: "o" }])
    assert.equal(await sc.deleteStoreCreditAccounts([a.id, b.id]), undefined)
    assertMedusaError(await rejection(sc.retrieveStoreCreditAccount(a.id)), "not_found")
    assert.deepEqual(await sc.listStoreCreditAccounts({ id: [a.id, b.id] }, { withDeleted: true }), [])
    assert.deepEqual(await sc.listAccountTransactions({ id: tx.id }, { withDeleted: true }), [])
  })
})

describe("gift cards funded through store credit (the plugin's flow)", () => {
  it("a card funded by a credit with reference gift_card has its account's balance, both ways", async () => {
    const card = await loyalty.createGiftCards({ code: uid("GIFT-FUND-"), value: 50, currency_code: "usd" })
    const account = await newAccount()
    const [funding] = await sc.creditAccounts([
      { account_id: account.id, amount: card.value, reference: "gift_card", reference_id: card.id, note: "Gift card funding" },
    ])
    assert.equal(funding.reference, "gift_card")
    assert.equal((await sc.retrieveStoreCreditAccount(account.id)).gift_card_id, card.id)
    // The plugin then marks the card "redeemed" (= funded).
    await loyalty.updateGiftCards({ id: card.id, status: "redeemed" })

    // Spend through the account (checkout), then through the card.
    await sc.debitAccounts([{ account_id: account.id, amount: "12.25", reference: "cart", reference_id: "cart_gc" }])
    const spent = await loyalty.debitGiftCard({ id: card.id, amount: "7.75", currency_code: "usd", reference: "order", reference_id: "order_gc" })
    assert.deepEqual(spent.raw_balance, raw("30"))
    const read = await loyalty.retrieveGiftCard(card.id)
    const stats = await sc.retrieveAccountStats({ account_id: account.id })
    assert.deepEqual(read.raw_balance, raw("30"))
    assert.deepEqual(stats.raw_balance, raw("30"))
    assert.equal(read.balance, stats.balance)
    assert.deepEqual([stats.raw_credits.value, stats.raw_debits.value], ["50", "20"])
    // The card's spend is in the account's ledger.
    assert.deepEqual((await sc.listAccountTransactions({ account_id: account.id })).map((t) => [t.type, t.reference]), [
      ["debit", "order"],
      ["debit", "cart"],
      ["credit", "gift_card"],
    ])
    // Voiding the checkout debit (the plugin's compensation) gives it back to both.
    const [cartDebit] = await sc.listAccountTransactions({ account_id: account.id, reference: "cart" })
    await sc.deleteTransactions([cartDebit.id])
    assert.deepEqual((await loyalty.retrieveGiftCard(card.id)).raw_balance, raw("42.25"))
    assert.deepEqual((await sc.retrieveAccountStats({ account_id: account.id })).raw_balance, raw("42.25"))
    // The account cannot be hard-deleted from under the card.
    assertMedusaError(await rejection(sc.deleteStoreCreditAccounts([account.id])), "not_allowed", /funds gift card/)
  })

  it("deleteGiftCards / restoreGiftCards on store_credit (the plugin's delete-gift-card step) reach the gift cards", async () => {
    const card = await loyalty.createGiftCards({ code: uid("GIFT-DEL-"), value: 10, currency_code: "usd" })
    // The step calls deleteGiftCards({ id: [id] }) and compensates with restoreGiftCards({ id: [id] }).
    assert.equal(await sc.deleteGiftCards({ id: [card.id] }), undefined)
    assertMedusaError(await rejection(loyalty.retrieveGiftCard(card.id)), "not_found")
    assert.deepEqual(await sc.restoreGiftCards({ id: [card.id] }), { gift_card_id: [card.id] })
    assert.equal((await loyalty.retrieveGiftCard(card.id)).code, card.code)
  })
})
