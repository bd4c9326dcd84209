// Every method of the module service against a real loyalty-server process.
import { after, before, describe, it } from "node:test"
import assert from "node:assert/strict"
import { createRequire } from "node:module"
import { join } from "node:path"
import { ADAPTER_ROOT } from "./helpers/server.mjs"
import {
  assertMedusaError,
  BigNumber,
  MedusaError,
  makeService,
  rejection,
  startLiveServices,
  stopLiveServices,
} from "./helpers/pkg.mjs"

const { toDecimalString } = createRequire(import.meta.url)(
  join(ADAPTER_ROOT, ".medusa", "server", "src", "modules", "loyalty", "convert.js")
)

let live = {}
let server
let loyalty

before(async () => {
  live = await startLiveServices()
  ;({ server, loyalty } = live)
})

after(() => stopLiveServices(live))

/** The gift card of the issue's workflow. */
const issueCard = (code = "test-code") => ({
  code,
  value: 50,
  currency_code: "usd",
  expires_at: null,
  reference_id: "order_123",
  reference: "order",
  line_item_id: "litem_123",
  customer_id: "customer_123",
})

describe("points", () => {
  it("adjustPoints: the Points API scenario (+100 Welcome bonus, -50 with history)", async () => {
    const first = await loyalty.adjustPoints({ customer_id: "cus_points_1", delta: 100, reason: "Welcome bonus" })
    assert.match(first.id, /^adj_[0-9A-HJKMNP-TV-Z]{26}$/)
    assert.equal(first.customer_id, "cus_points_1")
    assert.equal(first.balance_after, 100)
    assert.deepEqual(first.raw_balance_after, { value: "100", precision: 20 })
    assert.ok(first.updated_at instanceof Date)
    assert.equal(first.history, undefined)

    const second = await loyalty.adjustPoints({
      customer_id: "cus_points_1",
      delta: "-50",
      reason: "Redeemed for discount",
      include_history: true,
    })
    assert.equal(second.balance_after, 50)
    assert.equal(second.history.length, 2)
    assert.deepEqual(
      second.history.map((h) => [h.id, h.delta, h.reason, h.balance_after]),
      [
        [second.id, -50, "Redeemed for discount", 50],
        [first.id, 100, "Welcome bonus", 100],
      ]
    )
    assert.ok(second.history[0].created_at instanceof Date)
  })

  it("adjustPoints accepts a BigNumber and a decimal string", async () => {
    const a = await loyalty.adjustPoints({ customer_id: "cus_points_2", delta: new BigNumber(12.5) })
    assert.deepEqual(a.raw_balance_after, { value: "12.5", precision: 20 })
    const b = await loyalty.adjustPoints({ customer_id: "cus_points_2", delta: "0.000001" })
    assert.equal(b.raw_balance_after.value, "12.500001")
    assert.equal(b.balance_after, 12.500001)
  })

  it("adjustPoints with an idempotency key applies once", async () => {
    const input = { customer_id: "cus_points_3", delta: 10, idempotency_key: "welcome-cus_points_3" }
    const a = await loyalty.adjustPoints(input)
    const b = await loyalty.adjustPoints(input)
    assert.equal(a.replayed, false)
    assert.equal(b.replayed, true)
    assert.equal(b.id, a.id)
    assert.equal(b.balance_after, 10)
    const balance = await loyalty.getPointsBalance("cus_points_3")
    assert.equal(balance.balance, 10)
  })

  it("getPointsBalance: unknown customer has 0 and no history; history newest first", async () => {
    const none = await loyalty.getPointsBalance("cus_never_seen", { include_history: true })
    assert.equal(none.balance, 0)
    assert.deepEqual(none.raw_balance, { value: "0", precision: 20 })
    assert.equal(none.updated_at, null)
    assert.deepEqual(none.history, [])

    const some = await loyalty.getPointsBalance("cus_points_1", { include_history: true })
    assert.equal(some.balance, 50)
    assert.ok(some.updated_at instanceof Date)
    assert.deepEqual(
      some.history.map((h) => h.reason),
      ["Redeemed for discount", "Welcome bonus"]
    )
    const plain = await loyalty.getPointsBalance("cus_points_1")
    assert.equal(plain.history, undefined)
  })

  it("listPointAdjustments pages with limit and page_token, newest first", async () => {
    for (const d of [1, 2, 3]) {
      await loyalty.adjustPoints({ customer_id: "cus_points_4", delta: d, reason: `r${d}` })
    }
    const p1 = await loyalty.listPointAdjustments("cus_points_4", { limit: 2 })
    assert.deepEqual(
      p1.point_adjustments.map((a) => a.reason),
      ["r3", "r2"]
    )
    assert.ok(p1.next_page_token)
    const p2 = await loyalty.listPointAdjustments("cus_points_4", { limit: 2, page_token: p1.next_page_token })
    assert.deepEqual(
      p2.point_adjustments.map((a) => a.reason),
      ["r1"]
    )
    assert.equal(p2.next_page_token, "")
  })
})

describe("gift cards", () => {
  it("createGiftCards with the issue's object returns one card, converted", async () => {
    const card = await loyalty.createGiftCards({ ...issueCard("svc-test-code"), metadata: { source: "test", n: 2, tags: ["a", true, null], nested: { k: "v" } } })
    assert.equal(Array.isArray(card), false)
    assert.match(card.id, /^gcard_/)
    assert.equal(card.code, "svc-test-code")
    assert.equal(card.status, "pending")
    assert.equal(card.value, 50)
    assert.deepEqual(card.raw_value, { value: "50", precision: 20 })
    assert.equal(card.balance, 50)
    assert.equal(card.currency_code, "usd")
    assert.equal(card.customer_id, "customer_123")
    assert.equal(card.reference_id, "order_123")
    assert.equal(card.reference, "order")
    assert.equal(card.line_item_id, "litem_123")
    assert.equal(card.note, null)
    assert.equal(card.expires_at, null)
    assert.equal(card.deleted_at, null)
    assert.ok(card.created_at instanceof Date)
    assert.ok(card.updated_at instanceof Date)
    assert.deepEqual(card.metadata, { source: "test", n: 2, tags: ["a", true, null], nested: { k: "v" } })
  })

  it("createGiftCards with an array returns an array; a missing code is generated", async () => {
    const expires = new Date("2031-01-02T03:04:05.678Z")
    const cards = await loyalty.createGiftCards([
      { value: "25.50", currency_code: "EUR", expires_at: expires, note: "n1" },
      { value: new BigNumber(10), currency_code: "usd", status: "redeemed" },
    ])
    assert.equal(cards.length, 2)
    assert.match(cards[0].code, /^GIFT(-[A-Z0-9]{4}){4}$/)
    assert.equal(cards[0].currency_code, "eur")
    assert.equal(cards[0].value, 25.5)
    assert.equal(cards[0].raw_value.value.replace(/0+$/, "").replace(/\.$/, ""), "25.5")
    assert.equal(cards[0].expires_at.toISOString(), expires.toISOString())
    assert.equal(cards[0].note, "n1")
    assert.equal(cards[1].status, "redeemed")
  })

  it("retrieveGiftCard by id, with select", async () => {
    const card = await loyalty.createGiftCards(issueCard("svc-retrieve"))
    const full = await loyalty.retrieveGiftCard(card.id)
    assert.equal(full.code, "svc-retrieve")
    const some = await loyalty.retrieveGiftCard(card.id, { select: ["code", "value"] })
    assert.deepEqual(Object.keys(some).sort(), ["code", "id", "raw_value", "value"])
  })

  it("updateGiftCards: every passed key goes into update_mask, null clears", async () => {
    const card = await loyalty.createGiftCards({
      ...issueCard("svc-update"),
      note: "first",
      expires_at: "2030-01-01T00:00:00.000Z",
      metadata: { a: 1 },
    })
    const updated = await loyalty.updateGiftCards({ id: card.id, value: 75, note: "second" })
    assert.equal(Array.isArray(updated), false)
    assert.equal(updated.value, 75)
    assert.equal(updated.note, "second")
    // Untouched fields stay.
    assert.equal(updated.expires_at.toISOString(), "2030-01-01T00:00:00.000Z")
    assert.deepEqual(updated.metadata, { a: 1 })

    const cleared = await loyalty.updateGiftCards([{ id: card.id, note: null, expires_at: null, metadata: null, customer_id: null }])
    assert.equal(cleared.length, 1)
    assert.equal(cleared[0].note, null)
    assert.equal(cleared[0].expires_at, null)
    assert.equal(cleared[0].metadata, null)
    assert.equal(cleared[0].customer_id, null)
    assert.equal(cleared[0].value, 75)
    assert.equal(cleared[0].reference_id, "order_123")

    const redeemed = await loyalty.updateGiftCards({ id: card.id, status: "redeemed" })
    assert.equal(redeemed.status, "redeemed")
  })

  it("listGiftCards: flat filters, q, skip/take, order; take defaults to 15", async () => {
    const batch = []
    for (let i = 0; i < 17; i++) {
      batch.push({ code: `LIST-${String(i).padStart(2, "0")}`, value: i + 1, currency_code: "dkk", reference: "list-test", customer_id: i % 2 ? "cus_odd" : "cus_even" })
    }
    await loyalty.createGiftCards(batch)

    const byDefault = await loyalty.listGiftCards({ reference: "list-test" })
    assert.equal(byDefault.length, 15)

    const [page, count] = await loyalty.listAndCountGiftCards(
      { currency_code: ["dkk"], customer_id: "cus_odd" },
      { skip: 2, take: 3, order: { value: "DESC" } }
    )
    assert.equal(count, 8)
    assert.deepEqual(
      page.map((c) => c.value),
      [12, 10, 8]
    )

    const q = await loyalty.listGiftCards({ q: "list-1" }, { order: "code ASC", take: 100 })
    assert.deepEqual(
      q.map((c) => c.code),
      ["LIST-10", "LIST-11", "LIST-12", "LIST-13", "LIST-14", "LIST-15", "LIST-16"]
    )

    const byCode = await loyalty.listGiftCards({ code: { $in: ["LIST-00", "LIST-01"] } }, { order: { code: "ASC" } })
    assert.deepEqual(
      byCode.map((c) => c.code),
      ["LIST-00", "LIST-01"]
    )

    // Medusa's "no limit" (take: null) reads every page.
    const [all, allCount] = await loyalty.listAndCountGiftCards({ reference: "list-test" }, { take: null })
    assert.equal(all.length, 17)
    assert.equal(allCount, 17)

    const status = await loyalty.listGiftCards({ status: "redeemed", reference: "list-test" })
    assert.deepEqual(status, [])
  })

  it("listGiftCards: an unsupported filter is invalid_data, not a plain Error", async () => {
    const err = await rejection(loyalty.listGiftCards({ created_at: { $gt: "2020-01-01" } }))
    assertMedusaError(err, "invalid_data", /created_at/)
  })

  it("softDeleteGiftCards hides, restoreGiftCards brings back", async () => {
    const card = await loyalty.createGiftCards(issueCard("svc-soft"))
    const soft = await loyalty.softDeleteGiftCards([card.id])
    assert.deepEqual(soft, { gift_card_id: [card.id] })
    assert.deepEqual(await loyalty.listGiftCards({ id: card.id }), [])
    const withDeleted = await loyalty.listGiftCards({ id: card.id }, { withDeleted: true })
    assert.equal(withDeleted.length, 1)
    assert.ok(withDeleted[0].deleted_at instanceof Date)
    const err = await rejection(loyalty.retrieveGiftCard(card.id))
    assertMedusaError(err, "not_found")

    const restored = await loyalty.restoreGiftCards([card.id])
    assert.deepEqual(restored, { gift_card_id: [card.id] })
    const back = await loyalty.retrieveGiftCard(card.id)
    assert.equal(back.deleted_at, null)
  })

  it("deleteGiftCards removes for good", async () => {
    const card = await loyalty.createGiftCards(issueCard("svc-delete"))
    assert.equal(await loyalty.deleteGiftCards([card.id]), undefined)
    const err = await rejection(loyalty.retrieveGiftCard(card.id))
    assertMedusaError(err, "not_found", `Gift card with id: ${card.id} was not found`)
    // Empty list: nothing to do, no call.
    assert.equal(await loyalty.deleteGiftCards([]), undefined)
  })

  it("debitGiftCard, creditGiftCard, listGiftCardTransactions", async () => {
    const card = await loyalty.createGiftCards({ code: "svc-money", value: "40", currency_code: "usd" })
    const d = await loyalty.debitGiftCard({ code: "svc-money", amount: 15.25, currency_code: "usd", reference: "order", reference_id: "order_9" })
    assert.equal(d.balance, 24.75)
    assert.equal(d.status, "pending")
    assert.equal(d.transaction.type, "debit")
    assert.equal(d.transaction.amount, 15.25)
    assert.equal(d.transaction.gift_card_id, card.id)
    assert.match(d.transaction.id, /^gctx_/)
    assert.ok(d.transaction.created_at instanceof Date)

    const c = await loyalty.creditGiftCard({ id: card.id, amount: "5", currency_code: "usd" })
    assert.equal(c.balance, 29.75)
    assert.equal(c.transaction.type, "credit")

    const all = await loyalty.debitGiftCard({ id: card.id, amount: "29.75", currency_code: "usd" })
    assert.equal(all.balance, 0)
    assert.equal(all.status, "redeemed")
    assert.equal(d.replayed, false)
    assert.equal(c.replayed, false)

    const page = await loyalty.listGiftCardTransactions(card.id, { limit: 2 })
    assert.deepEqual(
      page.gift_card_transactions.map((t) => t.type),
      ["debit", "credit"]
    )
    assert.ok(page.next_page_token)
    const rest = await loyalty.listGiftCardTransactions(card.id, { limit: 2, page_token: page.next_page_token })
    assert.equal(rest.gift_card_transactions.length, 1)
    assert.equal(rest.gift_card_transactions[0].amount, 15.25)
  })

  it("debitGiftCard and creditGiftCard with an idempotency key: the repeat says replayed and applies nothing", async () => {
    const card = await loyalty.createGiftCards({ code: "svc-replay", value: "40", currency_code: "usd" })
    const debit = { id: card.id, amount: "10", currency_code: "usd", idempotency_key: "svc-replay-debit" }
    const d1 = await loyalty.debitGiftCard(debit)
    const d2 = await loyalty.debitGiftCard(debit)
    assert.equal(d1.replayed, false)
    assert.equal(d2.replayed, true)
    assert.equal(d2.transaction.id, d1.transaction.id)
    const credit = { id: card.id, amount: "3", currency_code: "usd", idempotency_key: "svc-replay-credit" }
    const c1 = await loyalty.creditGiftCard(credit)
    const c2 = await loyalty.creditGiftCard(credit)
    assert.equal(c1.replayed, false)
    assert.equal(c2.replayed, true)
    assert.equal(c2.transaction.id, c1.transaction.id)
    assert.equal((await loyalty.retrieveGiftCard(card.id)).balance, 33)
  })

  it("getOptions returns the server's code settings", async () => {
    assert.deepEqual(await loyalty.getOptions(), { prefix: "GIFT", sections: 4 })
  })
})

describe("error mapping (real server statuses)", () => {
  it("INVALID_DATA -> invalid_data 400, the server's message and field violations", async () => {
    const err = await rejection(loyalty.adjustPoints({ customer_id: "cus_err", delta: 0 }))
    assertMedusaError(err, "invalid_data", "delta must be a non-zero number")
    assert.equal(err.reason, "INVALID_DATA")
    assert.equal(err.grpcCode, 3)
    assert.ok(err.fieldViolations.some((v) => v.field === "delta"))
    for (const delta of ["abc", "", "1e3", "NaN"]) {
      // The server's sentence for the field, then (for text it cannot read) what notation it accepts.
      const e = await rejection(loyalty.adjustPoints({ customer_id: "cus_err", delta }))
      assertMedusaError(e, "invalid_data", /^delta must be a non-zero number/)
    }
  })

  it("amounts go out as exact plain decimals (no exponent, no rounding); the server judges them", async () => {
    const D = "delta must be a non-zero number"
    const cases = [
      // [value, sent, the server's answer]
      [1e-7, "0.0000001", `${D} with at most 6 decimal places`],
      [new BigNumber(1e-7), "0.0000001", `${D} with at most 6 decimal places`],
      [1e21, "1000000000000000000000", `${D} below 10^15 in magnitude`],
      [new BigNumber(1e21), "1000000000000000000000", `${D} below 10^15 in magnitude`],
      [10n ** 21n, "1000000000000000000000", `${D} below 10^15 in magnitude`],
      // JS's own digits of the double, not rounded to "0.3".
      [0.1 + 0.2, "0.30000000000000004", `${D} with at most 6 decimal places`],
    ]
    for (const [value, sent, message] of cases) {
      assert.equal(toDecimalString(value), sent, `toDecimalString(${String(value)})`)
      const err = await rejection(loyalty.adjustPoints({ customer_id: "cus_err_exact", delta: value }))
      assertMedusaError(err, "invalid_data", message)
    }
    assert.equal(toDecimalString({ value: "1.0000000000000000000e-7", precision: 20 }), "0.0000001")
    assert.equal(toDecimalString(-1e-6), "-0.000001")
    // The smallest amounts that are allowed arrive intact.
    const ok = await loyalty.adjustPoints({ customer_id: "cus_err_exact", delta: new BigNumber(1e-6) })
    assert.equal(ok.raw_balance_after.value, "0.000001")
    assert.equal((await loyalty.getPointsBalance("cus_err_exact")).raw_balance.value, "0.000001")
  })

  it("NOT_FOUND -> not_found", async () => {
    const err = await rejection(loyalty.retrieveGiftCard("gcard_missing"))
    assertMedusaError(err, "not_found", "Gift card with id: gcard_missing was not found")
    assert.equal(err.grpcCode, 5)
  })

  it("NOT_ALLOWED -> not_allowed (overdraw)", async () => {
    await loyalty.adjustPoints({ customer_id: "cus_err_2", delta: 50 })
    const err = await rejection(loyalty.adjustPoints({ customer_id: "cus_err_2", delta: -60 }))
    assertMedusaError(err, "not_allowed")
    assert.equal(err.reason, "NOT_ALLOWED")
    assert.equal((await loyalty.getPointsBalance("cus_err_2")).balance, 50)
  })

  it("DUPLICATE_ERROR -> duplicate_error", async () => {
    await loyalty.createGiftCards({ code: "svc-dup", value: 1, currency_code: "usd" })
    const err = await rejection(loyalty.createGiftCards({ code: "svc-dup", value: 1, currency_code: "usd" }))
    assertMedusaError(err, "duplicate_error", /svc-dup/)
    assert.equal(err.reason, "DUPLICATE_ERROR")
  })

  it("CONFLICT -> conflict (idempotency key reused with another body)", async () => {
    await loyalty.adjustPoints({ customer_id: "cus_err_3", delta: 5, idempotency_key: "k-conflict" })
    const err = await rejection(loyalty.adjustPoints({ customer_id: "cus_err_3", delta: 6, idempotency_key: "k-conflict" }))
    assertMedusaError(err, "conflict")
    assert.equal(err.reason, "CONFLICT")
  })

  it("a bad argument shape is invalid_data before any call", async () => {
    const err = await rejection(loyalty.createGiftCards({ value: 1, currency_code: "usd", expires_at: "not a date" }))
    assertMedusaError(err, "invalid_data", /Invalid date/)
  })
})
