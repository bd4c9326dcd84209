// Layer (d): the Medusa Admin of the plugin test app, built by `medusa build`
// with @medusajs/loyalty-plugin's Admin extensions and served by the built
// server (NODE_ENV=production), driven in headless Chromium (Debian's
// /usr/bin/chromium through puppeteer-core: no browser is downloaded). An
// admin logs in through the form and opens the plugin's gift card list, one
// card's page and the store-credit accounts page; the codes and balances shown
// must be the ones in the loyalty service (read over gRPC). Screenshots go to
// the log folder (and to PLUGIN_APP_SCREENSHOT_DIR when set).
// Uses its own uniquely named PostgreSQL database and drops it at the end.
import { after, before, describe, it } from "node:test"
import assert from "node:assert/strict"
import { appendFileSync, copyFileSync, existsSync, mkdirSync } from "node:fs"
import { join } from "node:path"
import { medusaTestApp, okBody } from "../../test/helpers/medusa-app.mjs"

const app = medusaTestApp(import.meta.url, "admin-ui", { database: "medusa_loyalty_admin", env: { NODE_ENV: "production", PLUGIN_APP_ADMIN: "true" } })
const { DB_NAME, LOG_DIR } = app
const BUILT = join(app.APP, ".medusa", "server")
const puppeteer = app.require("puppeteer-core")
const DEVELOPMENT = { env: app.env({ NODE_ENV: "development" }) }

const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium"
const SHOT_DIR = process.env.PLUGIN_APP_SCREENSHOT_DIR
const ADMIN = { email: "admin@admin-ui.test", password: "supersecret-admin-ui" }

let raw
let baseUrl
let browser
let page
let booted = null
const seed = {}

/** One HTTP call that must answer 2xx; resolves its JSON. */
const http = async (method, path, opts) => okBody(await app.http(method, path, { ...opts, logChars: 2000 }), method, path)

/** Saves a full-page screenshot to the log folder (and PLUGIN_APP_SCREENSHOT_DIR). */
async function screenshot(name) {
  const file = join(LOG_DIR, name)
  await page.screenshot({ path: file, fullPage: true })
  if (SHOT_DIR) {
    mkdirSync(SHOT_DIR, { recursive: true })
    copyFileSync(file, join(SHOT_DIR, name))
  }
  return file
}

/** Waits (bounded) until the page's visible text contains every string; returns the text. */
async function waitForText(strings, timeoutMs = 60000) {
  try {
    await page.waitForFunction((want) => want.every((s) => document.body && document.body.innerText.includes(s)), { timeout: timeoutMs, polling: 250 }, strings)
  } catch (e) {
    const text = await page.evaluate(() => document.body?.innerText ?? "")
    await page.screenshot({ path: join(LOG_DIR, `admin-ui-failed-${Date.now()}.png`), fullPage: true }).catch(() => {})
    throw new Error(`page ${page.url()} did not show ${JSON.stringify(strings)} within ${timeoutMs} ms; it shows:\n${text.slice(0, 3000)}`)
  }
  return page.evaluate(() => document.body.innerText)
}

before(async () => {
  console.log(`# admin-ui: database ${DB_NAME}, chromium ${CHROMIUM}, logs ${LOG_DIR}`)
  try {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (node-adapter/scripts/test.sh does it as root)`)
    ;({ raw, baseUrl } = await app.boot({
      admin: ADMIN,
      // The build (server + Admin with the plugin's extensions) and the migrations, side by side.
      prepare: async () => {
        const t0 = Date.now()
        await Promise.all([app.medusaCli("build", ["build"], { timeoutMs: 240000 }), app.medusaCli("db-migrate", ["db:migrate"], DEVELOPMENT)])
        seed.buildMs = Date.now() - t0
        assert.ok(existsSync(join(BUILT, "public", "admin", "index.html")), "medusa build produced no Admin (.medusa/server/public/admin/index.html)")
      },
      userEnv: { NODE_ENV: "development" },
      userFirst: true,
      startCwd: BUILT,
      healthTimeoutMs: 120000,
    }))
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
    })
    page = await browser.newPage()
    const browserLog = app.log("browser.log")
    page.on("console", (m) => appendFileSync(browserLog, `console.${m.type()}: ${m.text()}\n`))
    page.on("pageerror", (e) => appendFileSync(browserLog, `pageerror: ${e?.stack ?? e}\n`))
    page.on("response", (r) => r.status() >= 400 && appendFileSync(browserLog, `${r.status()} ${r.url()}\n`))
    await page.setViewport({ width: 1440, height: 900 })
    page.setDefaultTimeout(60000)
    booted = true
  } catch (e) {
    booted = e
  }
})

after(async () => {
  await browser?.close().catch(() => {})
  await app.shutdown()
})

function requireBoot() {
  if (booted !== true) throw booted ?? new Error("boot did not finish")
}

describe("the Medusa Admin with @medusajs/loyalty-plugin's pages, on medusa-loyalty-grpc's modules", () => {
  it("builds and serves the Admin; seeds two gift cards and a customer's store-credit account through the API", { timeout: 420000 }, async () => {
    requireBoot()
    console.log(`# admin-ui: build + migrate took ${seed.buildMs} ms`)
    seed.admin = (await http("POST", "/auth/user/emailpass", { body: ADMIN })).token
    seed.cards = []
    for (const value of [50, 25]) {
      const { gift_card } = await http("POST", "/admin/gift-cards", { token: seed.admin, body: { value, currency_code: "usd", note: `Admin UI card of ${value}` } })
      seed.cards.push(gift_card)
    }
    const { customer } = await http("POST", "/admin/customers", { token: seed.admin, body: { email: "ada@admin-ui.test", first_name: "Ada", last_name: "Lovelace" } })
    const { store_credit_account } = await http("POST", "/admin/store-credit-accounts", { token: seed.admin, body: { currency_code: "usd", customer_id: customer.id } })
    await http("POST", `/admin/store-credit-accounts/${store_credit_account.id}/credit`, { token: seed.admin, body: { amount: 20, note: "Goodwill" } })
    seed.account = store_credit_account
    seed.customer = customer
    // What the pages must show is what the loyalty service holds.
    for (const card of seed.cards) {
      const stored = await raw.call("RetrieveGiftCard", { id: card.id })
      assert.equal(stored.code, card.code)
      assert.equal(stored.balance, String(card.value))
    }
    assert.equal((await raw.call("RetrieveAccountStats", { account_id: seed.account.id })).balance, "20")
    const index = await fetch(`${baseUrl}/app`)
    assert.equal(index.status, 200)
    assert.match(await index.text(), /<div id="medusa"|<script/)
  })

  it("logs in through the Admin's form in headless Chromium", { timeout: 120000 }, async () => {
    requireBoot()
    assert.ok(seed.admin, "seeding failed")
    await page.goto(`${baseUrl}/app/login`, { waitUntil: "networkidle2" })
    await page.waitForSelector('input[name="email"]')
    await page.type('input[name="email"]', ADMIN.email)
    await page.type('input[name="password"]', ADMIN.password)
    await Promise.all([page.waitForFunction(() => !location.pathname.includes("/login"), { timeout: 60000 }), page.click('button[type="submit"]')])
    assert.ok(!new URL(page.url()).pathname.includes("/login"), page.url())
    seed.loggedIn = true
  })

  it("the plugin's gift card list shows the service's cards, their codes and values", { timeout: 120000 }, async () => {
    requireBoot()
    assert.ok(seed.loggedIn, "login failed")
    await page.goto(`${baseUrl}/app/gift-cards`, { waitUntil: "networkidle2" })
    const text = await waitForText([...seed.cards.map((c) => c.code), "2 of 2 results"])
    // Each row: the card's code, then (product, date) its value, as the service holds it.
    for (const card of seed.cards) {
      const row = text.slice(text.indexOf(card.code), text.indexOf(card.code) + 200)
      assert.match(row, new RegExp(`\\$${card.value}\\.00`), `row of ${card.code}: ${row}`)
    }
    await screenshot("admin-gift-cards.png")
  })

  it("one card's page shows its code, its value and its current balance and transactions from the service", { timeout: 120000 }, async () => {
    requireBoot()
    assert.ok(seed.loggedIn, "login failed")
    const [card] = seed.cards
    const acc = (await http("GET", `/admin/gift-cards/${card.id}?fields=${encodeURIComponent("*store_credit_account")}`, { token: seed.admin })).gift_card.store_credit_account
    // Spend 12 of it first, so the page's balance (38) differs from the card's value (50).
    await http("POST", `/admin/store-credit-accounts/${acc.id}/debit`, { token: seed.admin, body: { amount: 12, note: "Spent in store" } })
    assert.equal((await raw.call("RetrieveAccountStats", { account_id: acc.id })).balance, "38")
    await page.goto(`${baseUrl}/app/gift-cards/${card.id}`, { waitUntil: "networkidle2" })
    const text = await waitForText([card.code, "$38.00", "$50.00", "Spent in store"])
    console.log(`# admin-ui: gift card page:\n# ${text.slice(0, 1200).replace(/\n/g, "\n# ")}`)
    await screenshot("admin-gift-card.png")
  })

  it("the plugin's store-credit accounts page shows the service's accounts and balances", { timeout: 120000 }, async () => {
    requireBoot()
    assert.ok(seed.loggedIn, "login failed")
    await page.goto(`${baseUrl}/app/store-credit-accounts`, { waitUntil: "networkidle2" })
    const text = await waitForText(["ada@admin-ui.test", "$20.00", "$38.00", "$25.00"])
    const row = text.slice(text.indexOf("ada@admin-ui.test"), text.indexOf("ada@admin-ui.test") + 120)
    assert.match(row, /^ada@admin-ui\.test\s+\$20\.00\s+\$20\.00\s+\$0\.00/, `the customer's row: balance, credits, debits: ${row}`)
    await screenshot("admin-store-credit-accounts.png")
  })
  it("the points widget on the customer page shows balance, held, available and the history from the service", { timeout: 120000 }, async () => {
    requireBoot()
    assert.ok(seed.loggedIn && seed.customer, "login or seeding failed")
    const customerId = seed.customer.id
    await http("POST", "/admin/loyalty/points/adjust", { token: seed.admin, body: { customer_id: customerId, delta: 120, reason: "Welcome bonus" } })
    await http("POST", "/admin/loyalty/points/adjust", { token: seed.admin, body: { customer_id: customerId, delta: -20, reason: "Correction" } })
    // 30 of them held for a cart (the service's hold), so held and available differ from the balance.
    await raw.call("HoldPoints", { customer_id: customerId, points: "30", reference: "cart", reference_id: "cart_admin_ui" })
    const stored = await raw.call("GetPointsBalance", { customer_id: customerId })
    assert.deepEqual([stored.balance, stored.held, stored.available], ["100", "30", "70"])
    await page.goto(`${baseUrl}/app/customers/${customerId}`, { waitUntil: "networkidle2" })
    await waitForText(["Loyalty points", "Welcome bonus", "Correction", "ada@admin-ui.test"])
    const shown = await page.evaluate(() =>
      ["balance", "held", "available"].map((k) => document.querySelector(`[data-testid="loyalty-points-${k}"]`)?.textContent)
    )
    assert.deepEqual(shown, ["100", "30", "70"])
    const rows = await page.$$eval('[data-testid="loyalty-points-history-row"]', (trs) => trs.map((tr) => [...tr.querySelectorAll("td")].slice(1).map((td) => td.textContent)))
    assert.deepEqual(rows, [["-20", "Correction", "100"], ["+120", "Welcome bonus", "120"]])
  })

  it("adjusting through the widget's form changes the balance in the service; a refused adjustment shows the server's message in a toast", { timeout: 120000 }, async () => {
    requireBoot()
    assert.ok(seed.loggedIn && seed.customer, "login or seeding failed")
    const customerId = seed.customer.id
    await page.type("#loyalty-points-delta", "25")
    await page.type("#loyalty-points-reason", "Goodwill from the widget")
    await page.click('[data-testid="loyalty-points-adjust-form"] button[type="submit"]')
    await page.waitForFunction(() => document.querySelector('[data-testid="loyalty-points-balance"]')?.textContent === "125", { timeout: 30000 })
    await waitForText(["Goodwill from the widget", "Points adjusted: balance 125"])
    const stored = await raw.call("GetPointsBalance", { customer_id: customerId })
    assert.deepEqual([stored.balance, stored.held, stored.available], ["125", "30", "95"])
    const last = (await raw.call("ListPointAdjustments", { customer_id: customerId, page_size: 1 })).point_adjustments[0]
    assert.deepEqual([last.delta, last.reason], ["25", "Goodwill from the widget"])
    // The Admin scrolls its own content pane: bring the whole widget into view for the picture.
    await page.$eval('[data-testid="loyalty-points-widget"]', (el) => el.scrollIntoView({ block: "end" }))
    await screenshot("admin-points-widget.png")
    // More than the available points: the service refuses it and the Admin shows its message as a toast.
    const refused = await fetch(`${baseUrl}/admin/loyalty/points/adjust`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${seed.admin}` },
      body: JSON.stringify({ customer_id: customerId, delta: -500, reason: "too much" }),
    })
    assert.equal(refused.status, 400)
    const { message } = await refused.json()
    await page.type("#loyalty-points-delta", "-500")
    await page.click('[data-testid="loyalty-points-adjust-form"] button[type="submit"]')
    await waitForText([message])
    assert.equal((await raw.call("GetPointsBalance", { customer_id: customerId })).balance, "125")
    await page.$eval('[data-testid="loyalty-points-widget"]', (el) => el.scrollIntoView({ block: "end" }))
    await screenshot("admin-points-widget-error.png")
  })
})
