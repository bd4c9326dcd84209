// Layer (c): the official @medusajs/loyalty-plugin 2.21.1 (its Admin and Store
// routes, workflows, links and cart/order hooks) running in a real Medusa 2.21
// app whose `loyalty` and `store_credit` modules are medusa-loyalty-grpc's, so
// every gift card, store-credit account and ledger row lives in a real
// loyalty-server. Seeded and driven over HTTP with real admin and customer
// tokens; the loyalty service is read back over gRPC with the repo's proto.
// Uses its own uniquely named PostgreSQL database and drops it at the end.
import { after, before, describe, it } from "node:test"
import assert from "node:assert/strict"
import { spawn } from "node:child_process"
import { appendFileSync } from "node:fs"
import * as grpc from "@grpc/grpc-js"
import { healthServing, serverBin } from "../../test/helpers/server.mjs"
import { medusaTestApp, okBody, payWith as payWithProvider, verifyLedger as verifyLedgerAt, waitFor } from "../../test/helpers/medusa-app.mjs"

const app = medusaTestApp(import.meta.url, "plugin-app", { database: "medusa_loyalty_plugin", env: { NODE_ENV: "development" } })
const { pg, DB_NAME, DATABASE_URL, LOG_DIR } = app
const ADMIN = { email: "admin@plugin.test", password: "supersecret-test" }
const CUSTOMER = { email: "shopper@plugin.test", password: "shopper-secret-1" }
const PLUGIN_VERSION = app.require("@medusajs/loyalty-plugin/package.json").version

let loyaltyServer
const loyaltyArgs = app.loyaltyServerArgs()
let restarted = null // the loyalty-server child started again by the outage test
let raw
let booted = null // the error when boot failed, else true
const seed = {}

/** One HTTP call. `token` is a bearer JWT; `pk` adds the publishable key header. */
const http = (method, path, { pk, ...opts } = {}) => app.http(method, path, { ...opts, headers: pk ? { "x-publishable-api-key": seed.publishableKey } : {} })
/** Like http(), but fails with the response when the status is not 2xx. */
const ok = async (method, path, opts) => okBody(await http(method, path, opts), method, path)
const verifyLedger = () => verifyLedgerAt(loyaltyServer.databaseUrl)
const payWith = (cartId, providerId, amount) => payWithProvider(ok, cartId, providerId, amount)

function processAlive(pid) {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Stops the loyalty-server process this test started (SIGTERM to its pid), keeping its database. */
async function stopLoyaltyServer() {
  const pid = restarted ? restarted.pid : loyaltyServer.pid
  process.kill(pid, "SIGTERM")
  await waitFor(async () => !processAlive(pid) && !(await healthServing(loyaltyServer.address, 300)), 15000, "loyalty-server did not stop")
}

/** Starts loyalty-server again on the same address and the same database file. */
async function restartLoyaltyServer() {
  const child = spawn(serverBin(), ["serve", "--listen", loyaltyServer.address, "--database-url", loyaltyServer.databaseUrl, "--grace-period", "1", ...loyaltyArgs], {
    stdio: ["ignore", "pipe", "pipe"],
  })
  const log = app.log("loyalty-server-restart.log")
  child.stdout.on("data", (d) => appendFileSync(log, d))
  child.stderr.on("data", (d) => appendFileSync(log, d))
  restarted = child
  await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`restarted loyalty-server exited ${child.exitCode}; log: ${log}`)
    return healthServing(loyaltyServer.address, 500)
  }, 30000, "restarted loyalty-server not SERVING")
}

/** The store-credit account that funds a gift card, from the plugin's admin detail route. */
async function giftCardAccount(giftCardId) {
  const detail = await ok("GET", `/admin/gift-cards/${giftCardId}?fields=${encodeURIComponent("*store_credit_account")}`, { token: seed.admin })
  const id = detail.gift_card.store_credit_account?.id
  assert.match(id ?? "", /^sc_acc_/, JSON.stringify(detail))
  return id
}

/** A guest cart with one mug (80). */
async function guestCart(email) {
  const { cart } = await ok("POST", "/store/carts", {
    pk: true,
    body: { region_id: seed.region, sales_channel_id: seed.salesChannel, email, items: [{ variant_id: seed.variant, quantity: 1 }] },
  })
  assert.equal(cart.total, 80)
  return cart
}

before(async () => {
  console.log(`# plugin-app: @medusajs/loyalty-plugin ${PLUGIN_VERSION}, database ${DB_NAME}, logs ${LOG_DIR}`)
  try {
    ;({ loyaltyServer, raw } = await app.boot({ admin: ADMIN }))
    seed.migrateOutput = app.prepared
    booted = true
  } catch (e) {
    booted = e
  }
})

after(() =>
  app.shutdown({
    beforeServerStop: async () => {
      if (restarted && restarted.exitCode === null && restarted.signalCode === null) {
        const gone = new Promise((r) => restarted.once("exit", r))
        restarted.kill("SIGTERM")
        const timer = setTimeout(() => restarted.kill("SIGKILL"), 5000)
        await gone
        clearTimeout(timer)
      }
    },
  })
)

function requireBoot() {
  if (booted !== true) throw booted ?? new Error("boot did not finish")
}

describe("the official loyalty plugin on medusa-loyalty-grpc's modules", () => {
  it("boots: db:migrate replaces the plugin's modules (no gift_card table) and syncs its links", async () => {
    requireBoot()
    assert.match(seed.migrateOutput, /MODULE: loyalty/)
    assert.match(seed.migrateOutput, /MODULE: store_credit/)
    assert.match(seed.migrateOutput, /loyalty_gift_card_store_credit_store_credit_account/)
    const client = new pg.Client({ connectionString: DATABASE_URL })
    await client.connect()
    try {
      const { rows } = await client.query(
        `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename IN ('gift_card', 'store_credit_account', 'account_transaction')`
      )
      assert.deepEqual(rows, [], "the plugin's own tables must not exist: its modules are replaced")
    } finally {
      await client.end()
    }
  })

  it("seeds through the real routes: admin token, sales channel, USD region with pp_system_default, publishable key, product, customer", async () => {
    requireBoot()
    const login = await ok("POST", "/auth/user/emailpass", { body: ADMIN })
    seed.admin = login.token
    const { sales_channel } = await ok("POST", "/admin/sales-channels", { token: seed.admin, body: { name: "Plugin test channel" } })
    seed.salesChannel = sales_channel.id
    const { region } = await ok("POST", "/admin/regions", {
      token: seed.admin,
      body: { name: "United States", currency_code: "usd", countries: ["us"], payment_providers: ["pp_system_default"] },
    })
    seed.region = region.id
    const { api_key } = await ok("POST", "/admin/api-keys", { token: seed.admin, body: { title: "Plugin test storefront", type: "publishable" } })
    seed.publishableKey = api_key.token
    await ok("POST", `/admin/api-keys/${api_key.id}/sales-channels`, { token: seed.admin, body: { add: [seed.salesChannel] } })
    const { product } = await ok("POST", "/admin/products", {
      token: seed.admin,
      body: {
        title: "Loyalty test mug",
        status: "published",
        options: [{ title: "Size", values: ["One size"] }],
        variants: [{ title: "One size", options: { Size: "One size" }, manage_inventory: false, prices: [{ currency_code: "usd", amount: 80 }] }],
        sales_channels: [{ id: seed.salesChannel }],
      },
    })
    seed.variant = product.variants[0].id
    const registered = await ok("POST", "/auth/customer/emailpass/register", { body: CUSTOMER })
    const { customer } = await ok("POST", "/store/customers", {
      token: registered.token,
      pk: true,
      body: { email: CUSTOMER.email, first_name: "Sam", last_name: "Shopper" },
    })
    seed.customer = customer.id
    seed.customerToken = (await ok("POST", "/auth/customer/emailpass", { body: CUSTOMER })).token
    assert.match(seed.customer, /^cus_/)
  })

  it("Admin: POST /admin/gift-cards creates the card and its funded store-credit account in the loyalty service", async () => {
    requireBoot()
    assert.ok(seed.admin, "seeding failed")
    const { gift_card } = await ok("POST", "/admin/gift-cards", {
      token: seed.admin,
      body: { value: 50, currency_code: "usd", note: "Created by the plugin's admin route" },
    })
    seed.giftCard = gift_card
    assert.match(gift_card.id, /^gcard_/)
    assert.equal(gift_card.value, 50)
    assert.equal(gift_card.currency_code, "usd")
    assert.equal(gift_card.status, "redeemed") // the plugin marks a funded card "redeemed"
    // In the loyalty service: the card, and the account the plugin created and credited.
    const stored = await raw.call("RetrieveGiftCard", { id: gift_card.id })
    assert.equal(stored.code, gift_card.code)
    assert.equal(stored.value, "50")
    assert.equal(stored.balance, "50")
    const accounts = await raw.call("ListStoreCreditAccounts", { currency_code: ["usd"], with_count: true })
    const account = accounts.accounts.find((a) => a.gift_card_id === gift_card.id)
    assert.ok(account, `no account funds ${gift_card.id}: ${JSON.stringify(accounts)}`)
    assert.equal(account.balance, "50")
    seed.giftCardAccount = account.id
    const stats = await raw.call("RetrieveAccountStats", { account_id: account.id })
    assert.deepEqual({ balance: stats.balance, credits: stats.credits, debits: stats.debits }, { balance: "50", credits: "50", debits: "0" })
    const trx = await raw.call("ListAccountTransactions", { account_id: [account.id] })
    assert.equal(trx.transactions.length, 1)
    assert.equal(trx.transactions[0].reference, "gift_card")
    assert.equal(trx.transactions[0].reference_id, gift_card.id)
  })

  it("Admin: the plugin's list and detail routes read the card back, with its store-credit account and balance", async () => {
    requireBoot()
    assert.ok(seed.giftCard, "card creation failed")
    const list = await ok("GET", `/admin/gift-cards?limit=10`, { token: seed.admin })
    assert.equal(list.count, 1)
    assert.deepEqual(
      list.gift_cards.map((c) => c.id),
      [seed.giftCard.id]
    )
    const byCode = await ok("GET", `/admin/gift-cards?q=${encodeURIComponent(seed.giftCard.code)}`, { token: seed.admin })
    assert.equal(byCode.gift_cards[0]?.id, seed.giftCard.id)
    // The admin UI's detail query.
    const detail = await ok("GET", `/admin/gift-cards/${seed.giftCard.id}?fields=${encodeURIComponent("*line_item.product,*store_credit_account")}`, {
      token: seed.admin,
    })
    assert.equal(detail.gift_card.code, seed.giftCard.code)
    assert.equal(detail.gift_card.store_credit_account?.id, seed.giftCardAccount)
    const balance = await ok("GET", `/admin/gift-cards/${seed.giftCard.id}?fields=${encodeURIComponent("+store_credit_account.balance")}`, {
      token: seed.admin,
    })
    assert.equal(balance.gift_card.store_credit_account.balance, 50)
    const account = await ok("GET", `/admin/store-credit-accounts/${seed.giftCardAccount}`, { token: seed.admin })
    assert.equal(account.store_credit_account.balance, 50)
    assert.equal(account.store_credit_account.credits, 50)
    const trx = await ok("GET", `/admin/store-credit-accounts/${seed.giftCardAccount}/transactions`, { token: seed.admin })
    assert.deepEqual(
      trx.transactions.map((t) => [t.type, t.amount, t.reference, t.reference_id]),
      [["credit", 50, "gift_card", seed.giftCard.id]]
    )
    // The Admin UI's transactions query on a card's page: each transaction with its account.
    const withAccount = await ok("GET", `/admin/store-credit-accounts/${seed.giftCardAccount}/transactions?limit=10&offset=0&order=-created_at&fields=${encodeURIComponent("*account")}`, {
      token: seed.admin,
    })
    assert.deepEqual(
      withAccount.transactions.map((t) => [t.amount, t.account?.id, t.account?.currency_code]),
      [[50, seed.giftCardAccount, "usd"]]
    )
    // The plugin's update route (update-gift-cards step: listGiftCards, then updateGiftCards).
    const updated = await ok("POST", `/admin/gift-cards/${seed.giftCard.id}`, { token: seed.admin, body: { note: "Updated by the admin", metadata: { batch: "b1" } } })
    assert.equal(updated.gift_card.note, "Updated by the admin")
    const stored = await raw.call("RetrieveGiftCard", { id: seed.giftCard.id })
    assert.equal(stored.note, "Updated by the admin")
    assert.deepEqual(stored.metadata, { fields: { batch: { stringValue: "b1", kind: "stringValue" } } })
    // The Store API sees it by code too.
    const store = await ok("GET", `/store/gift-cards/${encodeURIComponent(seed.giftCard.code)}`, { pk: true })
    assert.equal(store.gift_card.id, seed.giftCard.id)
  })

  it("Store: a cart takes the gift card code as a credit line, and completing it debits the account in the loyalty service", async () => {
    requireBoot()
    assert.ok(seed.giftCard && seed.variant, "earlier steps failed")
    const { cart } = await ok("POST", "/store/carts", {
      pk: true,
      body: { region_id: seed.region, sales_channel_id: seed.salesChannel, email: "guest@plugin.test", items: [{ variant_id: seed.variant, quantity: 1 }] },
    })
    assert.equal(cart.total, 80)
    const applied = await ok("POST", `/store/carts/${cart.id}/gift-cards`, { pk: true, body: { code: seed.giftCard.code } })
    const lines = applied.cart.credit_lines.filter((l) => l.reference === "gift-card")
    assert.equal(lines.length, 1, JSON.stringify(applied.cart.credit_lines))
    assert.equal(lines[0].amount, 50)
    assert.equal(lines[0].reference_id, seed.giftCard.id)
    assert.deepEqual(
      applied.cart.gift_cards.map((c) => c.code),
      [seed.giftCard.code]
    )
    assert.equal(applied.cart.total, 30)
    // Removing it drops the credit line; applying it again brings it back.
    const removed = await ok("DELETE", `/store/carts/${cart.id}/gift-cards`, { pk: true, body: { code: seed.giftCard.code } })
    assert.deepEqual(removed.cart.credit_lines, [])
    assert.equal(removed.cart.total, 80)
    const reapplied = await ok("POST", `/store/carts/${cart.id}/gift-cards`, { pk: true, body: { code: seed.giftCard.code } })
    assert.equal(reapplied.cart.total, 30)
    // Applying the same code again is refused by the plugin's validation.
    const again = await http("POST", `/store/carts/${cart.id}/gift-cards`, { pk: true, body: { code: seed.giftCard.code } })
    assert.equal(again.status, 400)
    // Pay the rest with the system provider, then complete.
    const { payment_collection } = await ok("POST", "/store/payment-collections", { pk: true, body: { cart_id: cart.id } })
    assert.equal(payment_collection.amount, 30)
    await ok("POST", `/store/payment-collections/${payment_collection.id}/payment-sessions`, { pk: true, body: { provider_id: "pp_system_default" } })
    const completed = await ok("POST", `/store/carts/${cart.id}/complete`, { pk: true })
    assert.equal(completed.type, "order", JSON.stringify(completed))
    seed.guestOrder = completed.order.id
    // In the loyalty service: one debit of 50 with reference "cart".
    const stats = await raw.call("RetrieveAccountStats", { account_id: seed.giftCardAccount })
    assert.deepEqual({ balance: stats.balance, credits: stats.credits, debits: stats.debits }, { balance: "0", credits: "50", debits: "50" })
    const debits = await raw.call("ListAccountTransactions", { account_id: [seed.giftCardAccount], reference: ["cart"] })
    assert.equal(debits.transactions.length, 1)
    assert.equal(debits.transactions[0].type, "ACCOUNT_TRANSACTION_TYPE_DEBIT")
    assert.equal(debits.transactions[0].amount, "50")
    assert.equal(debits.transactions[0].reference_id, cart.id)
    const card = await raw.call("RetrieveGiftCard", { id: seed.giftCard.id })
    assert.equal(card.balance, "0")
    // The order carries the card (the plugin's order link).
    const order = await ok("GET", `/admin/orders/${seed.guestOrder}?fields=${encodeURIComponent("id,total,*gift_cards")}`, { token: seed.admin })
    assert.deepEqual(
      order.order.gift_cards.map((c) => c.id),
      [seed.giftCard.id]
    )
    const giftCardOrders = await ok("GET", `/admin/gift-cards/${seed.giftCard.id}/orders`, { token: seed.admin })
    assert.deepEqual(
      giftCardOrders.orders.map((o) => o.id),
      [seed.guestOrder]
    )
    const verify = await verifyLedger()
    assert.equal(verify.code, 0, verify.output)
  })

  it("Store credit: an admin opens and credits a customer's account; the logged-in customer spends it with POST /store/carts/:id/store-credits", async () => {
    requireBoot()
    assert.ok(seed.customerToken && seed.variant, "earlier steps failed")
    const created = await ok("POST", "/admin/store-credit-accounts", { token: seed.admin, body: { currency_code: "usd", customer_id: seed.customer } })
    const accountId = created.store_credit_account.id
    assert.match(accountId, /^sc_acc_/)
    const credited = await ok("POST", `/admin/store-credit-accounts/${accountId}/credit`, { token: seed.admin, body: { amount: 20, note: "Goodwill" } })
    assert.equal(credited.store_credit_account.balance, 20)
    seed.customerAccount = accountId
    // The plugin's read-only account -> customer link resolves against our account's customer_id (default fields: *customer).
    const adminView = await ok("GET", `/admin/store-credit-accounts/${accountId}`, { token: seed.admin })
    assert.equal(adminView.store_credit_account.customer?.email, CUSTOMER.email)
    // In the loyalty service.
    const accounts = await raw.call("ListStoreCreditAccounts", { customer_id: [seed.customer], with_count: true })
    assert.deepEqual(
      accounts.accounts.map((a) => [a.id, a.currency_code, a.balance]),
      [[accountId, "usd", "20"]]
    )
    const credits = await raw.call("ListAccountTransactions", { account_id: [accountId] })
    assert.deepEqual(
      credits.transactions.map((t) => [t.type, t.amount, t.reference, t.note]),
      [["ACCOUNT_TRANSACTION_TYPE_CREDIT", "20", "user", "Goodwill"]]
    )
    // The customer sees it through the plugin's store route.
    const mine = await ok("GET", "/store/store-credit-accounts?currency_code=usd", { pk: true, token: seed.customerToken })
    assert.deepEqual(
      mine.store_credit_accounts.map((a) => [a.id, a.balance]),
      [[accountId, 20]]
    )
    // A cart of the customer spends 15 of it.
    const { cart } = await ok("POST", "/store/carts", {
      pk: true,
      token: seed.customerToken,
      body: { region_id: seed.region, sales_channel_id: seed.salesChannel, items: [{ variant_id: seed.variant, quantity: 1 }] },
    })
    assert.equal(cart.customer_id, seed.customer)
    const applied = await ok("POST", `/store/carts/${cart.id}/store-credits`, { pk: true, token: seed.customerToken, body: { amount: 15 } })
    const lines = applied.cart.credit_lines.filter((l) => l.reference === "store-credit")
    assert.equal(lines.length, 1, JSON.stringify(applied.cart.credit_lines))
    assert.equal(lines[0].amount, 15)
    assert.equal(lines[0].reference_id, accountId)
    // More than the balance is refused by the plugin.
    const tooMuch = await http("POST", `/store/carts/${cart.id}/store-credits`, { pk: true, token: seed.customerToken, body: { amount: 25 } })
    assert.equal(tooMuch.status, 400)
    const pc = await ok("POST", "/store/payment-collections", { pk: true, token: seed.customerToken, body: { cart_id: cart.id } })
    assert.equal(pc.payment_collection.amount, 65)
    await ok("POST", `/store/payment-collections/${pc.payment_collection.id}/payment-sessions`, {
      pk: true,
      token: seed.customerToken,
      body: { provider_id: "pp_system_default" },
    })
    const done = await ok("POST", `/store/carts/${cart.id}/complete`, { pk: true, token: seed.customerToken })
    assert.equal(done.type, "order", JSON.stringify(done))
    const stats = await raw.call("RetrieveAccountStats", { account_id: accountId })
    assert.deepEqual({ balance: stats.balance, credits: stats.credits, debits: stats.debits }, { balance: "5", credits: "20", debits: "15" })
    const debits = await raw.call("ListAccountTransactions", { account_id: [accountId], reference: ["cart"] })
    assert.deepEqual(
      debits.transactions.map((t) => [t.type, t.amount, t.reference_id]),
      [["ACCOUNT_TRANSACTION_TYPE_DEBIT", "15", cart.id]]
    )
    const verify = await verifyLedger()
    assert.equal(verify.code, 0, verify.output)
  })

  it("Refund as store credit: a negative order credit line credits the customer's account through the plugin's hook", async () => {
    requireBoot()
    assert.ok(seed.customerAccount, "earlier steps failed")
    // The customer orders two mugs (160), paid by the system provider; the admin captures it.
    const { cart } = await ok("POST", "/store/carts", {
      pk: true,
      token: seed.customerToken,
      body: { region_id: seed.region, sales_channel_id: seed.salesChannel, items: [{ variant_id: seed.variant, quantity: 2 }] },
    })
    const pc = await ok("POST", "/store/payment-collections", { pk: true, token: seed.customerToken, body: { cart_id: cart.id } })
    await ok("POST", `/store/payment-collections/${pc.payment_collection.id}/payment-sessions`, {
      pk: true,
      token: seed.customerToken,
      body: { provider_id: "pp_system_default" },
    })
    const done = await ok("POST", `/store/carts/${cart.id}/complete`, { pk: true, token: seed.customerToken })
    assert.equal(done.type, "order", JSON.stringify(done))
    const orderId = done.order.id
    const paid = await ok("GET", `/admin/orders/${orderId}?fields=${encodeURIComponent("id,*items,*payment_collections.payments")}`, { token: seed.admin })
    const payment = paid.order.payment_collections[0].payments[0]
    await ok("POST", `/admin/payments/${payment.id}/capture`, { token: seed.admin, body: {} })
    // An order edit takes one mug off: the order is now overpaid by 80.
    const { order_change } = await ok("POST", "/admin/order-edits", { token: seed.admin, body: { order_id: orderId } })
    await ok("POST", `/admin/order-edits/${orderId}/items/item/${paid.order.items[0].id}`, { token: seed.admin, body: { quantity: 1 } })
    await ok("POST", `/admin/order-edits/${orderId}/request`, { token: seed.admin })
    await ok("POST", `/admin/order-edits/${orderId}/confirm`, { token: seed.admin })
    assert.ok(order_change.id)
    // 20 of it goes back as store credit.
    await ok("POST", `/admin/orders/${orderId}/credit-lines`, { token: seed.admin, body: { amount: -20, reference: "refund", reference_id: orderId } })
    const accounts = await raw.call("ListStoreCreditAccounts", { customer_id: [seed.customer], with_count: true })
    assert.equal(accounts.count, 1, "the refund goes to the customer's existing account")
    assert.equal(accounts.accounts[0].id, seed.customerAccount)
    assert.equal(accounts.accounts[0].balance, "25")
    const refunds = await raw.call("ListAccountTransactions", { account_id: [seed.customerAccount], reference: ["order"] })
    assert.deepEqual(
      refunds.transactions.map((t) => [t.type, t.amount, t.reference_id, t.note]),
      [["ACCOUNT_TRANSACTION_TYPE_CREDIT", "20", orderId, "Store credit refund"]]
    )
    const verify = await verifyLedger()
    assert.equal(verify.code, 0, verify.output)
  })

  it("Claim: a customer claims a gift card's account by its code (POST /store/store-credit-accounts/claim); its balance moves to their account", async () => {
    requireBoot()
    assert.ok(seed.customerAccount, "earlier steps failed")
    const { gift_card } = await ok("POST", "/admin/gift-cards", { token: seed.admin, body: { value: 10, currency_code: "usd" } })
    const detail = await ok("GET", `/admin/gift-cards/${gift_card.id}?fields=${encodeURIComponent("*store_credit_account")}`, { token: seed.admin })
    const source = detail.gift_card.store_credit_account
    assert.match(source.code, /^SC-/)
    const before = await raw.call("RetrieveAccountStats", { account_id: seed.customerAccount })
    const claimed = await ok("POST", "/store/store-credit-accounts/claim", { pk: true, token: seed.customerToken, body: { code: source.code } })
    assert.equal(claimed.store_credit_account.id, source.id)
    assert.equal(claimed.store_credit_account.balance, 0)
    // In the loyalty service: the card's account is empty, the customer's went up by 10.
    assert.equal((await raw.call("RetrieveAccountStats", { account_id: source.id })).balance, "0")
    assert.equal((await raw.call("RetrieveGiftCard", { id: gift_card.id })).balance, "0")
    const after = await raw.call("RetrieveAccountStats", { account_id: seed.customerAccount })
    assert.equal(Number(after.balance) - Number(before.balance), 10)
    const moved = await raw.call("ListAccountTransactions", { account_id: [source.id, seed.customerAccount], reference: ["store-credit"] })
    assert.deepEqual(
      moved.transactions.map((t) => [t.account_id, t.type, t.amount]).sort(),
      [
        [seed.customerAccount, "ACCOUNT_TRANSACTION_TYPE_CREDIT", "10"],
        [source.id, "ACCOUNT_TRANSACTION_TYPE_DEBIT", "10"],
      ].sort()
    )
    // A second claim of the emptied account is refused by the plugin.
    const again = await http("POST", "/store/store-credit-accounts/claim", { pk: true, token: seed.customerToken, body: { code: source.code } })
    assert.equal(again.status, 400)
    const verify = await verifyLedger()
    assert.equal(verify.code, 0, verify.output)
  })

  it("Buying a gift card: the plugin's order.placed subscriber creates and funds the card in the loyalty service", async () => {
    requireBoot()
    assert.ok(seed.customerToken, "earlier steps failed")
    const { product } = await ok("POST", "/admin/products", {
      token: seed.admin,
      body: {
        title: "Gift card",
        is_giftcard: true,
        status: "published",
        options: [{ title: "Denomination", values: ["25"] }],
        variants: [{ title: "25", options: { Denomination: "25" }, manage_inventory: false, prices: [{ currency_code: "usd", amount: 25 }] }],
        sales_channels: [{ id: seed.salesChannel }],
      },
    })
    const { cart } = await ok("POST", "/store/carts", {
      pk: true,
      token: seed.customerToken,
      body: { region_id: seed.region, sales_channel_id: seed.salesChannel, items: [{ variant_id: product.variants[0].id, quantity: 1 }] },
    })
    const pc = await ok("POST", "/store/payment-collections", { pk: true, token: seed.customerToken, body: { cart_id: cart.id } })
    await ok("POST", `/store/payment-collections/${pc.payment_collection.id}/payment-sessions`, {
      pk: true,
      token: seed.customerToken,
      body: { provider_id: "pp_system_default" },
    })
    const done = await ok("POST", `/store/carts/${cart.id}/complete`, { pk: true, token: seed.customerToken })
    assert.equal(done.type, "order", JSON.stringify(done))
    const orderId = done.order.id
    // The subscriber runs after the event, and its workflow creates, funds, then marks the card:
    // wait (bounded) until the card is marked redeemed, the workflow's last step.
    const funded = (list) => list.length > 0 && list.every((c) => c.status === "GIFT_CARD_STATUS_REDEEMED")
    let cards = []
    for (let i = 0; i < 60 && !funded(cards); i++) {
      if (i) await new Promise((r) => setTimeout(r, 250))
      cards = (await raw.call("ListGiftCards", { reference_id: [orderId] })).gift_cards
    }
    assert.equal(cards.length, 1, `the order.placed subscriber created no funded gift card within 15 s: ${JSON.stringify(cards)}`)
    const [card] = cards
    assert.equal(card.value, "25")
    assert.equal(card.balance, "25")
    assert.equal(card.reference, "order")
    assert.equal(card.line_item_id, done.order.items[0].id)
    assert.equal(card.status, "GIFT_CARD_STATUS_REDEEMED")
    // The Admin UI's detail query: the line item (read-only link to the order module) and the account.
    const detail = await ok("GET", `/admin/gift-cards/${card.id}?fields=${encodeURIComponent("*line_item.product,*store_credit_account")}`, { token: seed.admin })
    assert.equal(detail.gift_card.line_item?.id, card.line_item_id)
    assert.equal(detail.gift_card.line_item?.product?.id, product.id)
    assert.equal(detail.gift_card.store_credit_account?.balance, 25)
    const verify = await verifyLedger()
    assert.equal(verify.code, 0, verify.output)
  })

  it("Race: two carts complete at the same moment on one gift card that covers only one; the service never gives more than the balance", { timeout: 120000 }, async () => {
    requireBoot()
    assert.ok(seed.variant, "earlier steps failed")
    const { gift_card } = await ok("POST", "/admin/gift-cards", { token: seed.admin, body: { value: 50, currency_code: "usd", note: "race" } })
    const accountId = await giftCardAccount(gift_card.id)
    // Both carts take the whole 50 as a credit line while the balance still covers each of them.
    const carts = []
    for (const email of ["racer-a@plugin.test", "racer-b@plugin.test"]) {
      const cart = await guestCart(email)
      const applied = await ok("POST", `/store/carts/${cart.id}/gift-cards`, { pk: true, body: { code: gift_card.code } })
      assert.equal(applied.cart.total, 30)
      await payWith(cart.id, "pp_system_default", 30)
      carts.push(cart.id)
    }
    const results = await Promise.all(carts.map((id) => http("POST", `/store/carts/${id}/complete`, { pk: true })))
    const winners = results.filter((r) => r.status === 200 && r.body.type === "order")
    const losers = results.filter((r) => !(r.status === 200 && r.body.type === "order"))
    assert.equal(winners.length, 1, `exactly one cart must win: ${JSON.stringify(results)}`)
    assert.equal(losers.length, 1)
    const [loser] = losers
    const loserCart = carts[results.indexOf(loser)]
    const winnerCart = carts[results.indexOf(winners[0])]
    // The loser gets a Medusa error that says why, not an unknown error.
    assert.ok(loser.status >= 400 && loser.status < 500, `the loser must get a 4xx Medusa error: ${JSON.stringify(loser)}`)
    assert.notEqual(loser.body.type, "unknown_error", JSON.stringify(loser.body))
    assert.match(loser.body.message, /balance|insufficient|funds/i, JSON.stringify(loser.body))
    // In the loyalty service: one debit of 50, for the winner's cart; nothing more than the balance taken.
    const stats = await raw.call("RetrieveAccountStats", { account_id: accountId })
    assert.deepEqual({ balance: stats.balance, credits: stats.credits, debits: stats.debits }, { balance: "0", credits: "50", debits: "50" })
    const debits = await raw.call("ListAccountTransactions", { account_id: [accountId], type: ["ACCOUNT_TRANSACTION_TYPE_DEBIT"] })
    assert.deepEqual(
      debits.transactions.map((t) => [t.amount, t.reference, t.reference_id]),
      [["50", "cart", winnerCart]]
    )
    assert.equal((await raw.call("RetrieveGiftCard", { id: gift_card.id })).balance, "0")
    // The loser can still pay otherwise: without the card, the whole 80 by the system provider.
    const removed = await ok("DELETE", `/store/carts/${loserCart}/gift-cards`, { pk: true, body: { code: gift_card.code } })
    assert.equal(removed.cart.total, 80)
    await payWith(loserCart, "pp_system_default", 80)
    const paid = await ok("POST", `/store/carts/${loserCart}/complete`, { pk: true })
    assert.equal(paid.type, "order", JSON.stringify(paid))
    assert.equal(paid.order.total, 80)
    assert.equal((await raw.call("RetrieveAccountStats", { account_id: accountId })).balance, "0")
    const verify = await verifyLedger()
    assert.equal(verify.code, 0, verify.output)
  })

  it("Expiry: a card created with expires_at in the past is refused when applied to a cart, and nothing is taken", { timeout: 60000 }, async () => {
    requireBoot()
    assert.ok(seed.variant, "earlier steps failed")
    const expiresAt = new Date(Date.now() - 24 * 3600 * 1000).toISOString()
    const { gift_card } = await ok("POST", "/admin/gift-cards", { token: seed.admin, body: { value: 40, currency_code: "usd", expires_at: expiresAt } })
    const stored = await raw.call("RetrieveGiftCard", { id: gift_card.id })
    assert.ok(stored.expires_at, `the service must keep expires_at: ${JSON.stringify(stored)}`)
    assert.equal(new Date(Number(stored.expires_at.seconds) * 1000).toISOString().slice(0, 19), expiresAt.slice(0, 19))
    const accountId = await giftCardAccount(gift_card.id)
    const cart = await guestCart("expired@plugin.test")
    const refused = await http("POST", `/store/carts/${cart.id}/gift-cards`, { pk: true, body: { code: gift_card.code } })
    assert.equal(refused.status, 400, JSON.stringify(refused.body))
    assert.match(refused.body.message, /has expired/)
    const after = await ok("GET", `/store/carts/${cart.id}`, { pk: true })
    assert.deepEqual(after.cart.credit_lines, [])
    assert.equal(after.cart.total, 80)
    const stats = await raw.call("RetrieveAccountStats", { account_id: accountId })
    assert.deepEqual({ balance: stats.balance, debits: stats.debits }, { balance: "40", debits: "0" })
  })

  it("Fault: with the loyalty server down, applying a card and completing a cart fail with a clear Medusa error and take nothing", { timeout: 150000 }, async () => {
    requireBoot()
    assert.ok(seed.variant, "earlier steps failed")
    const { gift_card } = await ok("POST", "/admin/gift-cards", { token: seed.admin, body: { value: 30, currency_code: "usd", note: "outage" } })
    const accountId = await giftCardAccount(gift_card.id)
    const { gift_card: other } = await ok("POST", "/admin/gift-cards", { token: seed.admin, body: { value: 20, currency_code: "usd", note: "outage, not applied" } })
    const otherAccount = await giftCardAccount(other.id)
    // A cart with the card applied and paid for, ready to complete.
    const ready = await guestCart("outage-complete@plugin.test")
    assert.equal((await ok("POST", `/store/carts/${ready.id}/gift-cards`, { pk: true, body: { code: gift_card.code } })).cart.total, 50)
    await payWith(ready.id, "pp_system_default", 50)
    const bare = await guestCart("outage-apply@plugin.test")
    await stopLoyaltyServer()
    try {
      const apply = await http("POST", `/store/carts/${bare.id}/gift-cards`, { pk: true, body: { code: other.code } })
      assert.equal(apply.status, 500, JSON.stringify(apply.body))
      assert.equal(apply.body.type, "unexpected_state", JSON.stringify(apply.body))
      assert.match(apply.body.message, /Loyalty gRPC server at .* is unreachable/, JSON.stringify(apply.body))
      const complete = await http("POST", `/store/carts/${ready.id}/complete`, { pk: true })
      assert.notEqual(complete.body?.type, "order", `no order without the loyalty service: ${JSON.stringify(complete.body)}`)
      assert.equal(complete.status, 500, JSON.stringify(complete.body))
      assert.equal(complete.body.type, "unexpected_state", JSON.stringify(complete.body))
      assert.match(complete.body.message, /Loyalty gRPC server at .* is unreachable/, JSON.stringify(complete.body))
    } finally {
      await restartLoyaltyServer()
    }
    // The adapter reconnects on its own (bounded wait), and nothing was taken from either card.
    await waitFor(async () => (await http("GET", `/store/gift-cards/${encodeURIComponent(gift_card.code)}`, { pk: true })).status === 200, 30000, "the adapter did not reconnect")
    for (const [id, value] of [[accountId, "30"], [otherAccount, "20"]]) {
      const stats = await raw.call("RetrieveAccountStats", { account_id: id })
      assert.deepEqual({ balance: stats.balance, debits: stats.debits }, { balance: value, debits: "0" })
    }
    assert.deepEqual((await raw.call("ListAccountTransactions", { account_id: [accountId], reference: ["cart"], with_deleted: true })).transactions, [])
    const bareAfter = await ok("GET", `/store/carts/${bare.id}`, { pk: true })
    assert.deepEqual(bareAfter.cart.credit_lines, [])
    // Once the service is back, the same cart completes and is debited once.
    const done = await ok("POST", `/store/carts/${ready.id}/complete`, { pk: true })
    assert.equal(done.type, "order", JSON.stringify(done))
    const stats = await raw.call("RetrieveAccountStats", { account_id: accountId })
    assert.deepEqual({ balance: stats.balance, debits: stats.debits }, { balance: "0", debits: "30" })
    const verify = await verifyLedger()
    assert.equal(verify.code, 0, verify.output)
  })

  it("Fault: a step failing after the plugin's debit-account step is compensated by its deleteTransactions: the balance comes back in the service", { timeout: 60000 }, async () => {
    requireBoot()
    const { gift_card } = await ok("POST", "/admin/gift-cards", { token: seed.admin, body: { value: 25, currency_code: "usd", note: "compensated" } })
    const accountId = await giftCardAccount(gift_card.id)
    const unauth = await http("POST", "/admin/plugin-test/debit-then-fail", { body: { account_id: accountId, amount: 25, reference_id: "cart_compensated" } })
    assert.equal(unauth.status, 401)
    const res = await http("POST", "/admin/plugin-test/debit-then-fail", {
      token: seed.admin,
      body: { account_id: accountId, amount: 25, reference_id: "cart_compensated" },
    })
    assert.deepEqual(res, { status: 400, body: { failed: true, message: "plugin-test: a later checkout step failed after the debit" } })
    const stats = await raw.call("RetrieveAccountStats", { account_id: accountId })
    assert.deepEqual({ balance: stats.balance, credits: stats.credits, debits: stats.debits }, { balance: "25", credits: "25", debits: "0" })
    assert.equal((await raw.call("RetrieveGiftCard", { id: gift_card.id })).balance, "25")
    assert.deepEqual((await raw.call("ListAccountTransactions", { account_id: [accountId], reference: ["cart"] })).transactions, [])
    const voided = await raw.call("ListAccountTransactions", { account_id: [accountId], reference: ["cart"], with_deleted: true })
    assert.deepEqual(
      voided.transactions.map((t) => [t.type, t.amount, t.reference_id, Boolean(t.deleted_at)]),
      [["ACCOUNT_TRANSACTION_TYPE_DEBIT", "25", "cart_compensated", true]],
      "the debit was made, then voided by the step's compensation"
    )
    const verify = await verifyLedger()
    assert.equal(verify.code, 0, verify.output)
  })

  it("Fault: a payment declined after the checkout hook's debit fails the completion; the plugin 2.21.1 does not compensate that debit (its defect, pinned)", { timeout: 120000 }, async () => {
    requireBoot()
    assert.ok(seed.variant, "earlier steps failed")
    await ok("POST", `/admin/regions/${seed.region}`, { token: seed.admin, body: { payment_providers: ["pp_system_default", "pp_declining_declining"] } })
    const { gift_card } = await ok("POST", "/admin/gift-cards", { token: seed.admin, body: { value: 25, currency_code: "usd", note: "declined" } })
    const accountId = await giftCardAccount(gift_card.id)
    const cart = await guestCart("declined@plugin.test")
    assert.equal((await ok("POST", `/store/carts/${cart.id}/gift-cards`, { pk: true, body: { code: gift_card.code } })).cart.total, 55)
    await payWith(cart.id, "pp_declining_declining", 55)
    const declined = await http("POST", `/store/carts/${cart.id}/complete`, { pk: true })
    assert.notEqual(declined.body?.type, "order", JSON.stringify(declined.body))
    assert.equal(declined.status, 400, JSON.stringify(declined.body))
    assert.match(declined.body.message, /was not authorized with the provider/, JSON.stringify(declined.body))
    // The plugin's beforePaymentAuthorization hook ran confirm-cart-credit-lines (the debit of 25);
    // its compensation then calls confirmCartCreditLinesWorkflow.cancel({ transactionId }), which
    // throws "Transaction … could not be found" (that nested workflow is not stored), so
    // deleteTransactions is never called and the debit stays. The same happens on the plugin's own
    // modules. When a plugin release fixes it, these assertions fail: expect balance 25 then.
    const stats = await raw.call("RetrieveAccountStats", { account_id: accountId })
    assert.deepEqual({ balance: stats.balance, credits: stats.credits, debits: stats.debits }, { balance: "0", credits: "25", debits: "25" })
    const debits = await raw.call("ListAccountTransactions", { account_id: [accountId], reference: ["cart"], with_deleted: true })
    assert.deepEqual(
      debits.transactions.map((t) => [t.amount, t.reference_id, Boolean(t.deleted_at)]),
      [["25", cart.id, false]]
    )
    // The ledger itself stays consistent: one debit, balance derived from it.
    const verify = await verifyLedger()
    assert.equal(verify.code, 0, verify.output)
  })

  it("Delete: the plugin's delete-gift-card workflow (run by an app admin route; the plugin ships none) deletes the card in the service", { timeout: 60000 }, async () => {
    requireBoot()
    const { gift_card } = await ok("POST", "/admin/gift-cards", { token: seed.admin, body: { value: 15, currency_code: "usd", note: "to delete" } })
    const unauth = await http("DELETE", `/admin/plugin-test/gift-cards/${gift_card.id}`)
    assert.equal(unauth.status, 401)
    const deleted = await ok("DELETE", `/admin/plugin-test/gift-cards/${gift_card.id}`, { token: seed.admin })
    assert.deepEqual(deleted, { id: gift_card.id, object: "gift_card", deleted: true })
    // Gone from the plugin's routes and from the service's reads.
    assert.equal((await http("GET", `/admin/gift-cards/${gift_card.id}`, { token: seed.admin })).status, 404)
    const list = await ok("GET", `/admin/gift-cards?limit=100`, { token: seed.admin })
    assert.ok(!list.gift_cards.some((c) => c.id === gift_card.id), "the deleted card is still listed")
    assert.equal((await http("GET", `/store/gift-cards/${encodeURIComponent(gift_card.code)}`, { pk: true })).status, 404)
    await assert.rejects(raw.call("RetrieveGiftCard", { id: gift_card.id }), (e) => e.code === grpc.status.NOT_FOUND)
    const kept = await raw.call("ListGiftCards", { id: [gift_card.id], with_deleted: true })
    assert.equal(kept.gift_cards.length, 1, "soft-deleted: still readable with with_deleted")
    assert.ok(kept.gift_cards[0].deleted_at, JSON.stringify(kept.gift_cards[0]))
    // A deleted card cannot be applied to a cart.
    const cart = await guestCart("deleted-card@plugin.test")
    const refused = await http("POST", `/store/carts/${cart.id}/gift-cards`, { pk: true, body: { code: gift_card.code } })
    assert.equal(refused.status, 400, JSON.stringify(refused.body))
    assert.match(refused.body.message, /not found/)
    // Deleting an unknown card is a 404 from the plugin's workflow.
    assert.equal((await http("DELETE", `/admin/plugin-test/gift-cards/gcard_does_not_exist`, { token: seed.admin })).status, 404)
    const verify = await verifyLedger()
    assert.equal(verify.code, 0, verify.output)
  })

  it("After everything: the plugin's own tables hold nothing in Medusa's database, and verify passes on the service's", { timeout: 60000 }, async () => {
    requireBoot()
    const client = new pg.Client({ connectionString: DATABASE_URL })
    await client.connect()
    try {
      const { rows } = await client.query(
        `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename = ANY($1)`,
        [["loyalty_gift_card", "store_credit_account", "store_credit_account_transaction", "gift_card", "account_transaction"]]
      )
      for (const { tablename } of rows) {
        const { rows: n } = await client.query(`SELECT count(*)::int AS n FROM "${tablename}"`)
        assert.equal(n[0].n, 0, `${tablename} holds rows`)
      }
      assert.deepEqual(rows, [], "the plugin's own entity tables must not exist")
      // What remains of the plugin in Medusa's database is its link tables, to ids that live in the service.
      const links = await client.query(
        `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND (tablename LIKE '%gift_card%' OR tablename LIKE '%store_credit%') ORDER BY 1`
      )
      assert.deepEqual(
        links.rows.map((r) => r.tablename),
        ["cart_cart_loyalty_gift_card", "loyalty_gift_card_store_credit_store_credit_account", "order_order_loyalty_gift_card"]
      )
    } finally {
      await client.end()
    }
    const cards = await raw.call("ListGiftCards", { take: 100 })
    assert.ok(cards.gift_cards.length >= 6, `the service holds the cards: ${cards.gift_cards.length}`)
    const verify = await verifyLedger()
    assert.equal(verify.code, 0, verify.output)
  })
})
