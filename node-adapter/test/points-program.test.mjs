// The points program's module methods (holds, order points, balance with
// held/available) against a real loyalty-server, and the earning/redemption
// rules of the plugin options (pure functions).
import { after, before, describe, it } from "node:test"
import assert from "node:assert/strict"
import { assertMedusaError, MedusaError, pkg, rejection, startLiveServices, stopLiveServices } from "./helpers/pkg.mjs"

const { resolvePointsProgram, computeEarnedPoints, pointsValue, refundShares } = pkg

let live = {}
let loyalty

before(async () => {
  live = await startLiveServices()
  loyalty = live.loyalty
})

after(() => stopLiveServices(live))

describe("points holds (module methods over gRPC)", () => {
  it("holdPoints reserves points: balance stays, held and available move; more than available is not_allowed", async () => {
    await loyalty.adjustPoints({ customer_id: "cus_hold_1", delta: 100, reason: "seed" })
    const { hold, available, raw_available, replayed } = await loyalty.holdPoints({
      customer_id: "cus_hold_1",
      points: "60",
      reference: "cart",
      reference_id: "cart_1",
      expires_at: new Date(Date.now() + 10 * 60_000),
    })
    assert.match(hold.id, /^phold_/)
    assert.equal(hold.status, "active")
    assert.equal(hold.points, 60)
    assert.deepEqual(hold.raw_points, { value: "60", precision: 20 })
    assert.equal(hold.reference, "cart")
    assert.equal(hold.reference_id, "cart_1")
    assert.ok(hold.expires_at instanceof Date && hold.expires_at > new Date())
    assert.equal(available, 40)
    assert.equal(raw_available.value, "40")
    assert.equal(replayed, false)
    const balance = await loyalty.getPointsBalance("cus_hold_1")
    assert.deepEqual([balance.balance, balance.held, balance.available], [100, 60, 40])
    assert.equal((await loyalty.retrievePointsBalance("cus_hold_1")).raw_available.value, "40")
    const err = await rejection(loyalty.holdPoints({ customer_id: "cus_hold_1", points: 41, reference: "cart", reference_id: "cart_2" }))
    assertMedusaError(err, MedusaError.Types.NOT_ALLOWED)
    // A negative adjustment spends only available points.
    const spend = await rejection(loyalty.adjustPoints({ customer_id: "cus_hold_1", delta: -41 }))
    assertMedusaError(spend, MedusaError.Types.NOT_ALLOWED)
  })

  it("the same idempotency key holds once (replayed)", async () => {
    await loyalty.adjustPoints({ customer_id: "cus_hold_2", delta: 10 })
    const a = await loyalty.holdPoints({ customer_id: "cus_hold_2", points: 10, idempotency_key: "k1" })
    const b = await loyalty.holdPoints({ customer_id: "cus_hold_2", points: 10, idempotency_key: "k1" })
    assert.equal(b.hold.id, a.hold.id)
    assert.equal(b.replayed, true)
    assert.equal((await loyalty.getPointsBalance("cus_hold_2")).held, 10)
  })

  it("capturePointsHold debits once; a second capture replays; release of a captured hold is not_allowed", async () => {
    await loyalty.adjustPoints({ customer_id: "cus_hold_3", delta: 50 })
    const { hold } = await loyalty.holdPoints({ customer_id: "cus_hold_3", points: 30, reference: "cart", reference_id: "cart_3" })
    const first = await loyalty.capturePointsHold({ hold_id: hold.id, reason: "order 1" })
    assert.equal(first.replayed, false)
    assert.equal(first.hold.status, "captured")
    assert.equal(first.hold.captured_points, 30)
    assert.equal(first.adjustment.delta, -30)
    assert.equal(first.adjustment.balance_after, 20)
    assert.equal(first.hold.adjustment_id, first.adjustment.id)
    const again = await loyalty.capturePointsHold({ hold_id: hold.id })
    assert.equal(again.replayed, true)
    assert.equal(again.adjustment.id, first.adjustment.id)
    const balance = await loyalty.getPointsBalance("cus_hold_3")
    assert.deepEqual([balance.balance, balance.held, balance.available], [20, 0, 20])
    assertMedusaError(await rejection(loyalty.releasePointsHold(hold.id)), MedusaError.Types.NOT_ALLOWED)
    assert.equal((await loyalty.retrievePointsHold(hold.id)).status, "captured")
  })

  it("releasePointsHold frees the points and is idempotent; listPointsHolds filters by reference_id and active_only", async () => {
    await loyalty.adjustPoints({ customer_id: "cus_hold_4", delta: 20 })
    const a = (await loyalty.holdPoints({ customer_id: "cus_hold_4", points: 5, reference: "cart", reference_id: "cart_a" })).hold
    const b = (await loyalty.holdPoints({ customer_id: "cus_hold_4", points: 7, reference: "cart", reference_id: "cart_b" })).hold
    const released = await loyalty.releasePointsHold(a.id)
    assert.equal(released.status, "released")
    assert.equal((await loyalty.releasePointsHold(a.id)).status, "released")
    assert.equal((await loyalty.getPointsBalance("cus_hold_4")).available, 13)
    const all = await loyalty.listPointsHolds("cus_hold_4")
    assert.deepEqual(all.points_holds.map((h) => h.id), [b.id, a.id])
    const forA = await loyalty.listPointsHolds("cus_hold_4", { reference_id: "cart_a" })
    assert.deepEqual(forA.points_holds.map((h) => [h.id, h.status]), [[a.id, "released"]])
    const active = await loyalty.listPointsHolds("cus_hold_4", { active_only: true })
    assert.deepEqual(active.points_holds.map((h) => h.id), [b.id])
    const page = await loyalty.listPointsHolds("cus_hold_4", { limit: 1 })
    assert.equal(page.points_holds.length, 1)
    assert.ok(page.next_page_token)
  })

  it("errors map like every method: a bad points value is invalid_data, an unknown hold not_found", async () => {
    assertMedusaError(await rejection(loyalty.holdPoints({ customer_id: "cus_hold_5", points: "-1" })), MedusaError.Types.INVALID_DATA)
    assertMedusaError(await rejection(loyalty.holdPoints({ customer_id: "cus_hold_5", points: 1, expires_at: "not a date" })), MedusaError.Types.INVALID_DATA)
    assertMedusaError(await rejection(loyalty.retrievePointsHold("phold_missing")), MedusaError.Types.NOT_FOUND)
  })
})

describe("order points (module methods over gRPC)", () => {
  it("earnOrderPoints earns once per order: the same points replay, other points conflict", async () => {
    const first = await loyalty.earnOrderPoints({ customer_id: "cus_order_1", order_id: "order_1", points: "80", reason: "Order #1" })
    assert.equal(first.replayed, false)
    assert.equal(first.adjustment.delta, 80)
    assert.deepEqual([first.order.order_id, first.order.earned, first.order.reversed], ["order_1", 80, 0])
    const again = await loyalty.earnOrderPoints({ customer_id: "cus_order_1", order_id: "order_1", points: 80 })
    assert.equal(again.replayed, true)
    assert.equal(again.adjustment.id, first.adjustment.id)
    assertMedusaError(await rejection(loyalty.earnOrderPoints({ customer_id: "cus_order_1", order_id: "order_1", points: 81 })), MedusaError.Types.CONFLICT)
    assert.equal((await loyalty.getPointsBalance("cus_order_1")).balance, 80)
  })

  it("reverseOrderPoints takes back a part, then (unset points) all that is left; keyed; retrieveOrderPoints reads it", async () => {
    await loyalty.earnOrderPoints({ customer_id: "cus_order_2", order_id: "order_2", points: 100 })
    const part = await loyalty.reverseOrderPoints({ customer_id: "cus_order_2", order_id: "order_2", points: 30, idempotency_key: "refund:r1" })
    assert.equal(part.reversed, 30)
    assert.equal(part.adjustment.delta, -30)
    const replay = await loyalty.reverseOrderPoints({ customer_id: "cus_order_2", order_id: "order_2", points: 30, idempotency_key: "refund:r1" })
    assert.equal(replay.replayed, true)
    const rest = await loyalty.reverseOrderPoints({ customer_id: "cus_order_2", order_id: "order_2", idempotency_key: "cancel" })
    assert.equal(rest.reversed, 70)
    assert.deepEqual([rest.order.earned, rest.order.reversed], [100, 100])
    const nothing = await loyalty.reverseOrderPoints({ customer_id: "cus_order_2", order_id: "order_2", idempotency_key: "refund:r2" })
    assert.equal(nothing.reversed, 0)
    assert.equal(nothing.adjustment, null)
    const stored = await loyalty.retrieveOrderPoints("cus_order_2", "order_2")
    assert.deepEqual([stored.earned, stored.reversed, stored.raw_reversed.value], [100, 100, "100"])
    assert.equal((await loyalty.getPointsBalance("cus_order_2")).balance, 0)
    assertMedusaError(await rejection(loyalty.retrieveOrderPoints("cus_order_2", "order_never")), MedusaError.Types.NOT_FOUND)
    assertMedusaError(
      await rejection(loyalty.reverseOrderPoints({ customer_id: "cus_order_2", order_id: "order_2", idempotency_key: "" })),
      MedusaError.Types.INVALID_DATA
    )
  })
})

describe("the points program of the plugin options", () => {
  const program = resolvePointsProgram({
    earn: { per_unit: { USD: "1", eur: 2 }, rounding: "floor" },
    redeem: { value_per_point: { usd: "0.01" }, hold_minutes: 30 },
  })

  it("validates and normalizes the options (currency codes lower case, decimals as strings, defaults)", () => {
    assert.deepEqual(program.earn, {
      per_unit: { usd: "1", eur: "2" },
      rounding: "floor",
      include_gift_cards: false,
      include_shipping: false,
      include_tax: false,
      registered_only: true,
    })
    assert.deepEqual(program.redeem, { value_per_point: { usd: "0.01" }, hold_minutes: 30, min_points: "1" })
    assert.deepEqual(resolvePointsProgram(undefined), { earn: null, redeem: null })
    for (const bad of [
      { earn: { per_unit: { usd: "-1" } } },
      { earn: { per_unit: { usd: "1" }, rounding: "up" } },
      { earn: { per_unit: {} } },
      { earn: { per_unit: { dollars: "1" } } },
      { redeem: { value_per_point: { usd: "0.01" }, hold_minutes: 0 } },
      { redeem: { value_per_point: { usd: "abc" } } },
    ]) {
      assert.throws(() => resolvePointsProgram(bad), (e) => e instanceof MedusaError && e.type === MedusaError.Types.INVALID_DATA, JSON.stringify(bad))
    }
  })

  it("earns on items after their discounts, without tax, shipping or gift cards unless configured; rounds by the rule", () => {
    const order = {
      currency_code: "usd",
      items: [
        { subtotal: 80, discount_subtotal: 0.5, tax_total: 8 },
        { subtotal: 20, discount_subtotal: 0, tax_total: 2, is_giftcard: true },
      ],
      shipping_methods: [{ subtotal: 10, discount_subtotal: 0, tax_total: 1 }],
    }
    assert.deepEqual(computeEarnedPoints(program.earn, order), { points: "79", base: "79.5", per_unit: "1" })
    const all = resolvePointsProgram({
      earn: { per_unit: { usd: "1" }, rounding: "round", include_tax: true, include_shipping: true, include_gift_cards: true },
    }).earn
    assert.deepEqual(computeEarnedPoints(all, order), { points: "121", base: "120.5", per_unit: "1" })
    const ceil = resolvePointsProgram({ earn: { per_unit: { usd: "0.1" }, rounding: "ceil" } }).earn
    assert.equal(computeEarnedPoints(ceil, order).points, "8")
    assert.deepEqual(computeEarnedPoints(program.earn, { ...order, currency_code: "gbp" }), { points: "0", base: "79.5", per_unit: null })
    // Medusa's raw BigNumber shape is read exactly (no float).
    assert.equal(computeEarnedPoints(program.earn, { currency_code: "usd", items: [{ subtotal: { value: "0.30000000000000004" } }] }).points, "0")
  })

  it("a point's value is exact decimal arithmetic; refund shares add up to the share of their sum", () => {
    assert.equal(pointsValue(program.redeem, "usd", "500"), "5")
    assert.equal(pointsValue(program.redeem, "usd", "3"), "0.03")
    assert.equal(pointsValue(program.redeem, "eur", "3"), null)
    const shares = refundShares("80", 80, [
      { id: "ref_b", amount: 20, created_at: "2026-01-02T00:00:00Z" },
      { id: "ref_a", amount: 20, created_at: "2026-01-01T00:00:00Z" },
      { id: "ref_c", amount: 40, created_at: "2026-01-03T00:00:00Z" },
    ], "floor")
    assert.deepEqual([...shares], [["ref_a", "20"], ["ref_b", "20"], ["ref_c", "40"]])
    const thirds = refundShares("10", 30, [
      { id: "r1", amount: 10, created_at: 1 },
      { id: "r2", amount: 10, created_at: 2 },
      { id: "r3", amount: 10, created_at: 3 },
    ], "floor")
    assert.deepEqual([...thirds.values()], ["3", "3", "4"])
  })
})
