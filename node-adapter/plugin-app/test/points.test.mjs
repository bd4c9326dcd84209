// Layer (c), the points program of issue 15: medusa-loyalty-grpc as a plugin
// (its subscribers, completeCartWorkflow hook and Store routes) in the plugin
// app next to @medusajs/loyalty-plugin, with earning rules in its options
// (10 points per dollar of the items after discounts; a point is worth $0.01).
// A customer registers and orders (earns by the rule), applies points to a
// second cart (a promotion the cart totals show), completes it (captured
// once), two carts race for more points than the balance, a declined payment
// releases the hold, a refund and a cancel take points back, and order.placed
// delivered again changes nothing. Over HTTP with real tokens, read back over
// gRPC. Its own uniquely named database, dropped at the end.
import { after, before, describe, it } from "node:test"
import assert from "node:assert/strict"
import { readFileSync } from "node:fs"
import { medusaTestApp, okBody, payWith as payWithProvider, registerCustomer, verifyLedger as verifyLedgerAt, waitFor } from "../../test/helpers/medusa-app.mjs"

const app = medusaTestApp(import.meta.url, "points", { env: { NODE_ENV: "development" } })
const { DB_NAME, LOG_DIR } = app
const START_LOG = app.log("start.log")
const ADMIN = { email: "admin@points.test", password: "supersecret-test" }
const ADA = { email: "ada@points.test", password: "ada-secret-1" }
const BOB = { email: "bob@points.test", password: "bob-secret-1" }

let loyaltyServer
let raw
let booted = null
const seed = {}

/** One HTTP call. `token` is a bearer JWT; `pk` adds the publishable key header. */
const http = (method, path, { pk, ...opts } = {}) => app.http(method, path, { ...opts, headers: pk ? { "x-publishable-api-key": seed.publishableKey } : {} })
const ok = async (method, path, opts) => okBody(await http(method, path, opts), method, path)
const verifyLedger = () => verifyLedgerAt(loyaltyServer.databaseUrl)
const payWith = (cartId, providerId, amount) => payWithProvider(ok, cartId, providerId, amount)
const register = (who, first_name) => registerCustomer(ok, who, { first_name, last_name: "Points" })

const balanceOf = async (customerId) => {
  const b = await raw.call("GetPointsBalance", { customer_id: customerId })
  return { balance: b.balance, held: b.held, available: b.available }
}

/** Waits until the customer's balance (a decimal string) is `want`. */
async function waitForBalance(customerId, want, what) {
  await waitFor(async () => {
    const b = await balanceOf(customerId)
    return b.balance === want || b
  }, 20000, `${what}: balance ${want}`)
}

/** The subscriber's log lines for one event and id (one per delivery). */
function deliveries(event, id) {
  let text = ""
  try {
    text = readFileSync(START_LOG, "utf8")
  } catch {}
  return text.split("\n").filter((l) => l.includes(`medusa-loyalty-grpc: ${event} ${id}:`))
}

async function customerCart(token, quantity = 1) {
  const { cart } = await ok("POST", "/store/carts", {
    pk: true,
    token,
    body: { region_id: seed.region, sales_channel_id: seed.salesChannel, items: [{ variant_id: seed.variant, quantity }] },
  })
  assert.equal(cart.total, 80 * quantity)
  return cart
}

before(async () => {
  console.log(`# points: database ${DB_NAME}, logs ${LOG_DIR}`)
  try {
    ;({ loyaltyServer, raw } = await app.boot({ admin: ADMIN }))
    booted = true
  } catch (e) {
    booted = e
  }
})

after(() => app.shutdown())

function requireBoot() {
  if (booted !== true) throw booted ?? new Error("boot did not finish")
}

describe("the points program: earn on orders, redeem at checkout (medusa-loyalty-grpc as a plugin)", () => {
  it("seeds through the real routes: admin, sales channel, USD region (system + declining providers), key, an $80 mug, two registered customers", { timeout: 120000 }, async () => {
    requireBoot()
    seed.admin = (await ok("POST", "/auth/user/emailpass", { body: ADMIN })).token
    const { sales_channel } = await ok("POST", "/admin/sales-channels", { token: seed.admin, body: { name: "Points channel" } })
    seed.salesChannel = sales_channel.id
    const { region } = await ok("POST", "/admin/regions", {
      token: seed.admin,
      body: { name: "United States", currency_code: "usd", countries: ["us"], payment_providers: ["pp_system_default", "pp_declining_declining"] },
    })
    seed.region = region.id
    const { api_key } = await ok("POST", "/admin/api-keys", { token: seed.admin, body: { title: "Points storefront", type: "publishable" } })
    seed.publishableKey = api_key.token
    await ok("POST", `/admin/api-keys/${api_key.id}/sales-channels`, { token: seed.admin, body: { add: [seed.salesChannel] } })
    const { product } = await ok("POST", "/admin/products", {
      token: seed.admin,
      body: {
        title: "Points mug",
        status: "published",
        options: [{ title: "Size", values: ["One size"] }],
        variants: [{ title: "One size", options: { Size: "One size" }, manage_inventory: false, prices: [{ currency_code: "usd", amount: 80 }] }],
        sales_channels: [{ id: seed.salesChannel }],
      },
    })
    seed.variant = product.variants[0].id
    seed.ada = await register(ADA, "Ada")
    seed.bob = await register(BOB, "Bob")
    assert.match(seed.ada.id, /^cus_/)
  })

  it("an order placed earns by the rule (10 points per dollar of the items: $80 -> 800), read by GET /store/loyalty/points", { timeout: 120000 }, async () => {
    requireBoot()
    assert.ok(seed.ada, "seeding failed")
    const cart = await customerCart(seed.ada.token)
    await payWith(cart.id, "pp_system_default", 80)
    const done = await ok("POST", `/store/carts/${cart.id}/complete`, { pk: true, token: seed.ada.token })
    assert.equal(done.type, "order", JSON.stringify(done))
    seed.order1 = done.order.id
    await waitForBalance(seed.ada.id, "800", "order.placed earned")
    const order = await raw.call("GetOrderPoints", { customer_id: seed.ada.id, order_id: seed.order1 })
    assert.deepEqual([order.earned, order.reversed], ["800", "0"])
    const mine = await ok("GET", "/store/loyalty/points", { pk: true, token: seed.ada.token })
    assert.equal(mine.loyalty_points.customer_id, seed.ada.id)
    assert.deepEqual([mine.loyalty_points.balance, mine.loyalty_points.held, mine.loyalty_points.available], [800, 0, 800])
    assert.equal(mine.loyalty_points.history.length, 1)
    assert.equal(mine.loyalty_points.history[0].delta, 800)
    assert.match(mine.loyalty_points.history[0].reason, /^Order #\d+: earned on 80 usd$/)
    assert.deepEqual(mine.loyalty_points.redeem, { value_per_point: { usd: "0.01" }, min_points: "1" })
    assert.equal((await http("GET", "/store/loyalty/points", { pk: true })).status, 401)
    // Admin: the same balance, with held and available.
    const admin = await ok("GET", `/admin/loyalty/points/${seed.ada.id}`, { token: seed.admin })
    assert.deepEqual([admin.balance, admin.held, admin.available], [800, 0, 800])
  })

  it("order.placed delivered twice more earns once (the service keys the earning by order id)", { timeout: 60000 }, async () => {
    requireBoot()
    assert.ok(seed.order1, "the first order failed")
    await waitFor(async () => deliveries("order.placed", seed.order1).length >= 1 || "no delivery logged", 20000, "first delivery logged")
    for (let i = 0; i < 2; i++) {
      await ok("POST", "/admin/plugin-test/emit-event", { token: seed.admin, body: { name: "order.placed", data: { id: seed.order1 } } })
    }
    await waitFor(async () => deliveries("order.placed", seed.order1).length >= 3 || deliveries("order.placed", seed.order1), 20000, "three deliveries logged")
    const lines = deliveries("order.placed", seed.order1)
    assert.equal(lines.length, 3, lines.join("\n"))
    assert.match(lines[0], /"earn":\{"points":"800","base":"80","replayed":false\}/)
    assert.match(lines[1], /"earn":\{"points":"800","base":"80","replayed":true\}/)
    assert.match(lines[2], /"earn":\{"points":"800","base":"80","replayed":true\}/)
    assert.deepEqual(await balanceOf(seed.ada.id), { balance: "800", held: "0", available: "800" })
    const adjustments = await raw.call("ListPointAdjustments", { customer_id: seed.ada.id })
    assert.deepEqual(adjustments.point_adjustments.map((a) => a.delta), ["800"])
  })

  it("two carts of the customer applying 500 points each at the same moment (800 in the balance): exactly one holds them", { timeout: 60000 }, async () => {
    requireBoot()
    assert.ok(seed.order1, "the first order failed")
    const carts = [await customerCart(seed.ada.token), await customerCart(seed.ada.token)]
    const results = await Promise.all(
      carts.map((c) => http("POST", `/store/carts/${c.id}/loyalty-points`, { pk: true, token: seed.ada.token, body: { points: 500 } }))
    )
    const statuses = results.map((r) => r.status).sort()
    assert.deepEqual(statuses, [200, 400], JSON.stringify(results.map((r) => r.body)))
    const loser = results.find((r) => r.status === 400)
    assert.equal(loser.body.type, "not_allowed", JSON.stringify(loser.body))
    const winner = carts[results.findIndex((r) => r.status === 200)]
    const other = carts.find((c) => c !== winner)
    const holds = await raw.call("ListPointsHolds", { customer_id: seed.ada.id, active_only: true })
    assert.deepEqual(holds.holds.map((h) => [h.reference, h.reference_id, h.points]), [["cart", winner.id, "500"]])
    assert.deepEqual(await balanceOf(seed.ada.id), { balance: "800", held: "500", available: "300" })
    // The loser's cart has no discount and no promotion left behind.
    const loserCart = (await ok("GET", `/store/carts/${other.id}`, { pk: true, token: seed.ada.token })).cart
    assert.equal(loserCart.total, 80)
    assert.deepEqual(loserCart.promotions ?? [], [])
    // Removing the winner's points releases its hold.
    const removed = await ok("DELETE", `/store/carts/${winner.id}/loyalty-points`, { pk: true, token: seed.ada.token })
    assert.equal(removed.cart.total, 80)
    assert.equal(removed.removed.hold_id, holds.holds[0].id)
    assert.equal((await raw.call("GetPointsHold", { hold_id: holds.holds[0].id })).status, "POINTS_HOLD_STATUS_RELEASED")
    assert.deepEqual(await balanceOf(seed.ada.id), { balance: "800", held: "0", available: "800" })
    // DELETE again: nothing applied, nothing to do.
    assert.equal((await ok("DELETE", `/store/carts/${winner.id}/loyalty-points`, { pk: true, token: seed.ada.token })).removed, null)
  })

  it("points applied to a cart are a promotion the totals show ($5 off for 500), kept when the cart changes; only the owner may apply them", { timeout: 60000 }, async () => {
    requireBoot()
    assert.ok(seed.order1, "the first order failed")
    const cart = await customerCart(seed.ada.token)
    seed.cart2 = cart.id
    const applied = await ok("POST", `/store/carts/${cart.id}/loyalty-points`, { pk: true, token: seed.ada.token, body: { points: 500 } })
    assert.equal(applied.cart.total, 75)
    assert.equal(applied.cart.discount_total, 5)
    assert.equal(applied.loyalty_points.points, "500")
    assert.equal(applied.loyalty_points.value, "5")
    assert.match(applied.loyalty_points.hold_id, /^phold_/)
    assert.deepEqual(applied.cart.promotions.map((p) => p.code), [applied.loyalty_points.code])
    seed.hold2 = applied.loyalty_points.hold_id
    const hold = await raw.call("GetPointsHold", { hold_id: seed.hold2 })
    assert.deepEqual([hold.status, hold.points, hold.reference, hold.reference_id], ["POINTS_HOLD_STATUS_ACTIVE", "500", "cart", cart.id])
    // The hold expires an hour from now (hold_minutes: 60).
    const minutes = (Number(hold.expires_at.seconds) * 1000 - Date.now()) / 60000
    assert.ok(minutes > 58 && minutes <= 60, `expires in ${minutes} min`)
    // Medusa's own cart route shows the discount.
    const stored = (await ok("GET", `/store/carts/${cart.id}`, { pk: true, token: seed.ada.token })).cart
    assert.equal(stored.total, 75)
    assert.equal(stored.discount_total, 5)
    const mine = await ok("GET", "/store/loyalty/points", { pk: true, token: seed.ada.token })
    assert.deepEqual([mine.loyalty_points.balance, mine.loyalty_points.held, mine.loyalty_points.available], [800, 500, 300])
    // Applying again, another customer, no customer, bad input.
    const again = await http("POST", `/store/carts/${cart.id}/loyalty-points`, { pk: true, token: seed.ada.token, body: { points: 100 } })
    assert.equal(again.status, 400)
    assert.match(again.body.message, /already applied/)
    const bob = await http("POST", `/store/carts/${cart.id}/loyalty-points`, { pk: true, token: seed.bob.token, body: { points: 1 } })
    assert.equal(bob.status, 404, JSON.stringify(bob.body))
    assert.equal((await http("DELETE", `/store/carts/${cart.id}/loyalty-points`, { pk: true, token: seed.bob.token })).status, 404)
    assert.equal((await http("POST", `/store/carts/${cart.id}/loyalty-points`, { pk: true, body: { points: 1 } })).status, 401)
    for (const points of [0, -5, 1.5, "abc", null]) {
      const bad = await http("POST", `/store/carts/${cart.id}/loyalty-points`, { pk: true, token: seed.ada.token, body: { points } })
      assert.equal(bad.status, 400, `${points}: ${JSON.stringify(bad.body)}`)
      assert.equal(bad.body.type, "invalid_data")
    }
    // The cart changes (a second mug): Medusa's refresh keeps the points promotion.
    const grown = (await ok("POST", `/store/carts/${cart.id}/line-items`, { pk: true, token: seed.ada.token, body: { variant_id: seed.variant, quantity: 1 } })).cart
    assert.equal(grown.total, 155)
    assert.equal(grown.discount_total, 5)
    assert.deepEqual(grown.promotions.map((p) => p.code), [applied.loyalty_points.code])
    // Still one hold, still 500.
    assert.deepEqual(await balanceOf(seed.ada.id), { balance: "800", held: "500", available: "300" })
  })

  it("completing the cart captures the points exactly once and the order earns on what was paid for the items ($155 -> 1550)", { timeout: 120000 }, async () => {
    requireBoot()
    assert.ok(seed.cart2, "applying failed")
    await payWith(seed.cart2, "pp_system_default", 155)
    const done = await ok("POST", `/store/carts/${seed.cart2}/complete`, { pk: true, token: seed.ada.token })
    assert.equal(done.type, "order", JSON.stringify(done))
    seed.order2 = done.order.id
    assert.equal(done.order.total, 155)
    // 800 - 500 spent + 1550 earned
    await waitForBalance(seed.ada.id, "1850", "captured and earned")
    const hold = await raw.call("GetPointsHold", { hold_id: seed.hold2 })
    assert.deepEqual([hold.status, hold.captured_points], ["POINTS_HOLD_STATUS_CAPTURED", "500"])
    const adjustments = (await raw.call("ListPointAdjustments", { customer_id: seed.ada.id })).point_adjustments
    assert.deepEqual(adjustments.map((a) => a.delta), ["1550", "-500", "800"])
    assert.equal(adjustments[1].id, hold.adjustment_id)
    assert.deepEqual(await balanceOf(seed.ada.id), { balance: "1850", held: "0", available: "1850" })
    // The order carries the promotion and the points (the cart's metadata).
    const order = await ok("GET", `/admin/orders/${seed.order2}?fields=${encodeURIComponent("id,total,discount_total,metadata,*promotions")}`, { token: seed.admin })
    assert.equal(order.order.discount_total, 5)
    assert.equal(order.order.metadata.loyalty_points.hold_id, seed.hold2)
    // Delivered again, and the cart completed again: nothing moves.
    await ok("POST", "/admin/plugin-test/emit-event", { token: seed.admin, body: { name: "order.placed", data: { id: seed.order2 } } })
    await waitFor(async () => deliveries("order.placed", seed.order2).length >= 2 || deliveries("order.placed", seed.order2), 20000, "redelivery logged")
    assert.match(deliveries("order.placed", seed.order2)[1], /"capture":\{"captured":"500","hold_id":"phold_\w+","replayed":true/)
    const repeat = await ok("POST", `/store/carts/${seed.cart2}/complete`, { pk: true, token: seed.ada.token })
    assert.equal(repeat.order?.id, seed.order2)
    assert.equal((await raw.call("ListPointAdjustments", { customer_id: seed.ada.id })).point_adjustments.length, 3)
    assert.deepEqual(await balanceOf(seed.ada.id), { balance: "1850", held: "0", available: "1850" })
  })

  it("a declined payment fails the completion and releases the hold; paying again holds the points again and captures them", { timeout: 120000 }, async () => {
    requireBoot()
    assert.ok(seed.order2, "the second order failed")
    const cart = await customerCart(seed.ada.token)
    const applied = await ok("POST", `/store/carts/${cart.id}/loyalty-points`, { pk: true, token: seed.ada.token, body: { points: 300 } })
    assert.equal(applied.cart.total, 77)
    await payWith(cart.id, "pp_declining_declining", 77)
    const declined = await http("POST", `/store/carts/${cart.id}/complete`, { pk: true, token: seed.ada.token })
    assert.notEqual(declined.body?.type, "order", JSON.stringify(declined.body))
    const first = await raw.call("GetPointsHold", { hold_id: applied.loyalty_points.hold_id })
    assert.equal(first.status, "POINTS_HOLD_STATUS_RELEASED", "the validate hook's compensation released the hold")
    assert.deepEqual(await balanceOf(seed.ada.id), { balance: "1850", held: "0", available: "1850" })
    await payWith(cart.id, "pp_system_default", 77)
    const done = await ok("POST", `/store/carts/${cart.id}/complete`, { pk: true, token: seed.ada.token })
    assert.equal(done.type, "order", JSON.stringify(done))
    seed.order3 = done.order.id
    // 1850 - 300 + 770 (the items after the $3 discount)
    await waitForBalance(seed.ada.id, "2320", "captured and earned")
    const holds = (await raw.call("ListPointsHolds", { customer_id: seed.ada.id, reference_id: cart.id })).holds
    assert.deepEqual(holds.map((h) => [h.status, h.points, h.captured_points]), [
      ["POINTS_HOLD_STATUS_CAPTURED", "300", "300"],
      ["POINTS_HOLD_STATUS_RELEASED", "300", ""],
    ])
  })

  it("a refund takes back its share of the order's points (payment.refunded, keyed by the refund)", { timeout: 60000 }, async () => {
    requireBoot()
    assert.ok(seed.order3, "earlier orders failed")
    const order = await ok("GET", `/admin/orders/${seed.order2}?fields=${encodeURIComponent("id,*payment_collections.payments")}`, { token: seed.admin })
    const payment = order.order.payment_collections[0].payments[0]
    await ok("POST", `/admin/payments/${payment.id}/capture`, { token: seed.admin, body: {} })
    // $31 of the $155 order: 1550 x 31 / 155 = 310 points.
    await ok("POST", `/admin/payments/${payment.id}/refund`, { token: seed.admin, body: { amount: 31 } })
    await waitForBalance(seed.ada.id, "2010", "refund share reversed")
    const stored = await raw.call("GetOrderPoints", { customer_id: seed.ada.id, order_id: seed.order2 })
    assert.deepEqual([stored.earned, stored.reversed], ["1550", "310"])
    // Delivered again: the refund's key replays.
    await ok("POST", "/admin/plugin-test/emit-event", { token: seed.admin, body: { name: "payment.refunded", data: { id: payment.id } } })
    await waitFor(async () => deliveries("payment.refunded", payment.id).length >= 2 || "waiting", 20000, "refund redelivery logged")
    assert.match(deliveries("payment.refunded", payment.id)[1], /"replayed":true/)
    assert.equal((await balanceOf(seed.ada.id)).balance, "2010")
  })

  it("canceling the first order takes back the points it earned (order.canceled, all it has left)", { timeout: 60000 }, async () => {
    requireBoot()
    assert.ok(seed.order1, "the first order failed")
    await ok("POST", `/admin/orders/${seed.order1}/cancel`, { token: seed.admin, body: {} })
    await waitForBalance(seed.ada.id, "1210", "cancel reversed")
    const stored = await raw.call("GetOrderPoints", { customer_id: seed.ada.id, order_id: seed.order1 })
    assert.deepEqual([stored.earned, stored.reversed], ["800", "800"])
    const mine = await ok("GET", "/store/loyalty/points", { pk: true, token: seed.ada.token })
    assert.equal(mine.loyalty_points.balance, 1210)
    assert.equal(mine.loyalty_points.history[0].delta, -800)
    assert.match(mine.loyalty_points.history[0].reason, /canceled/)
    const verify = await verifyLedger()
    assert.equal(verify.code, 0, verify.output)
  })
  it("canceling an order that spent points gives them back and takes back what it earned (order #3: +300, -770)", { timeout: 60000 }, async () => {
    requireBoot()
    assert.ok(seed.order3, "the third order failed")
    await ok("POST", `/admin/orders/${seed.order3}/cancel`, { token: seed.admin, body: {} })
    // 1210 + 300 given back - 770 taken back
    await waitForBalance(seed.ada.id, "740", "cancel of a redeeming order")
    const [reversal, restore] = (await raw.call("ListPointAdjustments", { customer_id: seed.ada.id, page_size: 2 })).point_adjustments
    assert.deepEqual([restore.delta, reversal.delta], ["300", "-770"])
    assert.match(restore.reason, /canceled: redeemed points returned/)
    const stored = await raw.call("GetOrderPoints", { customer_id: seed.ada.id, order_id: seed.order3 })
    assert.deepEqual([stored.earned, stored.reversed], ["770", "770"])
    // Delivered again: nothing moves (keys "restore:<hold>" and "cancel").
    await ok("POST", "/admin/plugin-test/emit-event", { token: seed.admin, body: { name: "order.canceled", data: { id: seed.order3 } } })
    await waitFor(async () => deliveries("order.canceled", seed.order3).length >= 2 || "waiting", 20000, "cancel redelivery logged")
    assert.equal((await balanceOf(seed.ada.id)).balance, "740")
  })

  it("points whose promotion was taken off the cart (Medusa's own promotions route) are released at completion, not spent", { timeout: 60000 }, async () => {
    requireBoot()
    assert.ok(seed.order3, "earlier orders failed")
    const cart = await customerCart(seed.ada.token)
    const applied = await ok("POST", `/store/carts/${cart.id}/loyalty-points`, { pk: true, token: seed.ada.token, body: { points: 100 } })
    assert.equal(applied.cart.total, 79)
    const off = await ok("DELETE", `/store/carts/${cart.id}/promotions`, { pk: true, token: seed.ada.token, body: { promo_codes: [applied.loyalty_points.code] } })
    assert.equal(off.cart.total, 80)
    await payWith(cart.id, "pp_system_default", 80)
    const done = await ok("POST", `/store/carts/${cart.id}/complete`, { pk: true, token: seed.ada.token })
    assert.equal(done.type, "order", JSON.stringify(done))
    // 740 + 800 earned on the full $80, nothing spent.
    await waitForBalance(seed.ada.id, "1540", "earned, nothing spent")
    assert.equal((await raw.call("GetPointsHold", { hold_id: applied.loyalty_points.hold_id })).status, "POINTS_HOLD_STATUS_RELEASED")
    assert.deepEqual(await balanceOf(seed.ada.id), { balance: "1540", held: "0", available: "1540" })
    const verify = await verifyLedger()
    assert.equal(verify.code, 0, verify.output)
  })
})
