// Layer (c): the official @medusajs/loyalty-plugin 2.21.1 (its Admin and Store
// routes, workflows, links and cart/order hooks) running in a real Medusa 2.21
// app whose `loyalty` and `store_credit` modules are medusa-loyalty-grpc's, so
// every gift card, store-credit account and ledger row lives in a real
// loyalty-server. Seeded and driven over HTTP with real admin and customer
// tokens; the loyalty service is read back over gRPC with the repo's proto.
// Uses its own uniquely named PostgreSQL database and drops it at the end.
import { after, before, describe, it } from "node:test"
import assert from "node:assert/strict"
import { execFile, spawn } from "node:child_process"
import { appendFileSync, mkdtempSync } from "node:fs"
import { createHash, randomBytes } from "node:crypto"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import * as grpc from "@grpc/grpc-js"
import * as protoLoader from "@grpc/proto-loader"
import { freePort, serverBin, serveHelp, startServer } from "../../test/helpers/server.mjs"

const APP = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const REPO_PROTOS = resolve(APP, "..", "..", "protos")
const require = createRequire(join(APP, "package.json"))
const pg = require("pg")

const DB_NAME = `medusa_loyalty_plugin_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`
const PG_ADMIN_URL = process.env.MEDUSA_TEST_PG_URL || "postgres://postgres@localhost:5432/postgres"
const DATABASE_URL = PG_ADMIN_URL.replace(/\/[^/]*$/, `/${DB_NAME}`)
const LOG_DIR = process.env.MEDUSA_LOG_DIR || mkdtempSync(join(tmpdir(), "medusa-loyalty-plugin-app-"))
const ADMIN = { email: "admin@plugin.test", password: "supersecret-test" }
const CUSTOMER = { email: "shopper@plugin.test", password: "shopper-secret-1" }
const TOKEN = serveHelp().includes("--api-keys") ? "lk_plugin_app_test_token_0123456789abcdef" : undefined
const MEDUSA_BIN = join(APP, "node_modules", "@medusajs", "cli", "cli.js")
const PLUGIN_VERSION = require("@medusajs/loyalty-plugin/package.json").version

let loyaltyServer
let raw
let medusa
let baseUrl
let booted = null // the error when boot failed, else true
const seed = {}

function env(extra = {}) {
  return {
    ...process.env,
    NODE_ENV: "development",
    DATABASE_URL,
    MEDUSA_DISABLE_TELEMETRY: "true",
    LOYALTY_GRPC_ADDRESS: loyaltyServer?.address ?? "127.0.0.1:1",
    ...(TOKEN ? { LOYALTY_GRPC_TOKEN: TOKEN } : {}),
    ...extra,
  }
}

function medusaCli(name, args, timeoutMs = 240000) {
  const logFile = join(LOG_DIR, `plugin-app-${name}.log`)
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, [MEDUSA_BIN, ...args], { cwd: APP, env: env(), stdio: ["ignore", "pipe", "pipe"], detached: true })
    let output = ""
    const onData = (d) => {
      output += d
      appendFileSync(logFile, d)
    }
    child.stdout.on("data", onData)
    child.stderr.on("data", onData)
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, "SIGKILL")
      } catch {}
      fail(new Error(`medusa ${args.join(" ")} timed out; log: ${logFile}`))
    }, timeoutMs)
    child.on("exit", (code) => {
      clearTimeout(timer)
      if (code === 0) ok(output)
      else fail(new Error(`medusa ${args.join(" ")} exited ${code}; log: ${logFile}\n${output.slice(-2000)}`))
    })
  })
}

function rawLoyaltyClient(address) {
  const def = protoLoader.loadSync(join(REPO_PROTOS, "loyalty", "v1", "loyalty.proto"), {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
    includeDirs: [REPO_PROTOS],
  })
  const Ctor = grpc.loadPackageDefinition(def).loyalty.v1.LoyaltyService
  const client = new Ctor(address, grpc.credentials.createInsecure())
  const md = new grpc.Metadata()
  if (TOKEN) md.set("authorization", `Bearer ${TOKEN}`)
  const call = (method, req) =>
    new Promise((ok, fail) => client[method](req, md, { deadline: Date.now() + 5000 }, (e, r) => (e ? fail(e) : ok(r))))
  return { call, close: () => client.close() }
}

async function pgAdmin(sql) {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

async function dropDatabase() {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL })
  await client.connect()
  try {
    await client.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [DB_NAME])
    await client.query(`DROP DATABASE IF EXISTS "${DB_NAME}"`)
  } finally {
    await client.end()
  }
}

async function waitForHealth(url, child, timeoutMs) {
  const t0 = Date.now()
  while (Date.now() - t0 < timeoutMs) {
    if (child.exitCode !== null) throw new Error(`medusa start exited with ${child.exitCode}; log: ${join(LOG_DIR, "plugin-app-start.log")}`)
    try {
      const res = await fetch(`${url}/health`)
      if (res.ok) return
    } catch {}
    await new Promise((r) => setTimeout(r, 500))
  }
  throw new Error(`medusa start not healthy after ${timeoutMs} ms`)
}

/** One HTTP call. `token` is a bearer JWT; `pk` adds the publishable key header. */
async function http(method, path, { token, body, pk } = {}) {
  const headers = {}
  if (body !== undefined) headers["Content-Type"] = "application/json"
  if (token) headers.Authorization = `Bearer ${token}`
  if (pk) headers["x-publishable-api-key"] = seed.publishableKey
  const res = await fetch(`${baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  const text = await res.text()
  let json
  try {
    json = JSON.parse(text)
  } catch {
    json = text
  }
  appendFileSync(join(LOG_DIR, "plugin-app-http.log"), `${method} ${path} -> ${res.status}\n${text.slice(0, 4000)}\n\n`)
  return { status: res.status, body: json }
}

/** Like http(), but fails with the response when the status is not 2xx. */
async function ok(method, path, opts) {
  const res = await http(method, path, opts)
  assert.ok(res.status >= 200 && res.status < 300, `${method} ${path} -> ${res.status}: ${JSON.stringify(res.body)}`)
  return res.body
}

function verifyLedger() {
  return new Promise((done) => {
    execFile(serverBin(), ["verify", "--database-url", loyaltyServer.databaseUrl], { encoding: "utf8" }, (err, stdout, stderr) =>
      done({ code: err ? (err.code ?? 1) : 0, output: `${stdout}${stderr}` })
    )
  })
}

before(async () => {
  console.log(`# plugin-app: @medusajs/loyalty-plugin ${PLUGIN_VERSION}, database ${DB_NAME}, logs ${LOG_DIR}`)
  try {
    const sha = TOKEN && createHash("sha256").update(TOKEN).digest("hex")
    const serverStarting = startServer({ extraArgs: TOKEN ? ["--api-keys", `medusa:${sha}=loyalty:read,loyalty:write`] : [] })
    await pgAdmin(`CREATE DATABASE "${DB_NAME}"`)
    loyaltyServer = await serverStarting
    raw = rawLoyaltyClient(loyaltyServer.address)
    const migrated = await medusaCli("db-migrate", ["db:migrate"])
    seed.migrateOutput = migrated
    const userCreated = medusaCli("user", ["user", "-e", ADMIN.email, "-p", ADMIN.password])
    const port = await freePort()
    baseUrl = `http://127.0.0.1:${port}`
    const startLog = join(LOG_DIR, "plugin-app-start.log")
    medusa = spawn(process.execPath, [MEDUSA_BIN, "start", "--port", String(port)], {
      cwd: APP,
      env: env({ PORT: String(port) }),
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    })
    medusa.stdout.on("data", (d) => appendFileSync(startLog, d))
    medusa.stderr.on("data", (d) => appendFileSync(startLog, d))
    await userCreated
    await waitForHealth(baseUrl, medusa, 180000)
    booted = true
  } catch (e) {
    booted = e
  }
})

after(async () => {
  if (medusa && medusa.exitCode === null) {
    const gone = new Promise((r) => medusa.once("exit", r))
    try {
      process.kill(-medusa.pid, "SIGTERM")
    } catch {}
    const timer = setTimeout(() => {
      try {
        process.kill(-medusa.pid, "SIGKILL")
      } catch {}
    }, 8000)
    await gone
    clearTimeout(timer)
  }
  raw?.close()
  await loyaltyServer?.stop()
  await dropDatabase()
})

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
})
