// Layer (b): a real Medusa 2.21 app on the local PostgreSQL, with
// medusa-loyalty-grpc installed from its packed tarball, against a real
// loyalty-server process. Driven through the medusa CLI (db:migrate, user,
// exec, start) and plain HTTP. Nothing is mocked.
import { after, before, describe, it } from "node:test"
import assert from "node:assert/strict"
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { freePort } from "../../test/helpers/server.mjs"
import { httpCall, medusaTestApp, waitForHealth } from "../../test/helpers/medusa-app.mjs"

// A database of this run only (MEDUSA_TEST_DB is a prefix): two runs on one
// PostgreSQL never share, drop or terminate each other's databases. Dropped at
// the end. Logs are kept outside the repo tree. When the server supports API
// keys, the app talks to it with a bearer token (the plugin's `token` option).
const app = medusaTestApp(import.meta.url, "app", {
  database: process.env.MEDUSA_TEST_DB || "medusa_loyalty_test",
  logPrefix: "",
  env: ({ LOG_DIR }) => ({ NODE_ENV: "development", LOYALTY_EVENTS_FILE: join(LOG_DIR, "events.jsonl"), LOYALTY_MODE: "plugin" }),
})
const { DB_NAME, LOG_DIR } = app
const EVENTS_FILE = join(LOG_DIR, "events.jsonl")
const TRANSCRIPT = join(LOG_DIR, "points-api-transcript.md")
const ADMIN = { email: "admin@loyalty.test", password: "supersecret-test" }

let loyaltyServer
let deadAddress
let medusa
let baseUrl
const bootResults = {}

const baseEnv = app.env

/** Runs one medusa CLI command to completion; its output goes to LOG_DIR/<name>.log. Resolves { code, output, seconds, logFile }. */
const medusaCli = (name, args, env, timeoutMs = 300000) => app.runMedusa(name, args, { env, timeoutMs })

/** The loyalty service, read directly over gRPC with the repo's proto (independent of the adapter). */
const rawLoyaltyClient = app.rawLoyaltyClient

/** One HTTP call; also appends a curl line and the real response to the transcript. */
async function http(method, path, { token, body, headers = {}, note } = {}) {
  const res = await httpCall(baseUrl, method, path, { token, body, headers })
  if (note) {
    const parts = [`curl -s -X ${method} "$MEDUSA_URL${path}"`]
    if (token) parts.push(`-H "Authorization: Bearer $TOKEN"`)
    for (const [k, v] of Object.entries(headers)) parts.push(`-H "${k}: ${v}"`)
    if (body !== undefined) parts.push(`-H "Content-Type: application/json"`, `-d '${JSON.stringify(body)}'`)
    appendFileSync(TRANSCRIPT, `### ${note}\n\n\`\`\`bash\n${parts.join(" \\\n  ")}\n\`\`\`\n\nHTTP ${res.status}\n\n\`\`\`json\n${JSON.stringify(res.body, null, 2)}\n\`\`\`\n\n`)
  }
  return { status: res.status, body: res.body }
}

before(async () => {
  console.log(`# medusa logs: ${LOG_DIR}, database ${DB_NAME}`)
  writeFileSync(TRANSCRIPT, "")
  writeFileSync(EVENTS_FILE, "")
  await app.createDatabase()
  // A port nothing listens on: the app must boot for db:migrate and user anyway.
  deadAddress = `127.0.0.1:${await freePort()}`
  const serverStarting = app.startLoyaltyServer()
  bootResults.migrate = await medusaCli("db-migrate", ["db:migrate"], baseEnv({ LOYALTY_GRPC_ADDRESS: deadAddress }))
  loyaltyServer = await serverStarting
  if (bootResults.migrate.code !== 0) {
    const skipped = Promise.resolve({ code: -1, output: "", logFile: "(not run: db:migrate failed)" })
    Object.assign(bootResults, { user: skipped, workflows: skipped, moduleMode: skipped })
    return
  }
  // The remaining boots are independent: run them side by side to save wall time.
  const live = { LOYALTY_GRPC_ADDRESS: loyaltyServer.address }
  bootResults.user = medusaCli("user", ["user", "-e", ADMIN.email, "-p", ADMIN.password], baseEnv({ LOYALTY_GRPC_ADDRESS: deadAddress }))
  bootResults.workflows = medusaCli("exec-workflows", ["exec", "./src/scripts/loyalty-workflows.ts"], baseEnv({ ...live, LOYALTY_RESULT_FILE: join(LOG_DIR, "workflows-result.json") }))
  bootResults.moduleMode = medusaCli("exec-module-mode", ["exec", "./src/scripts/module-mode.ts"], baseEnv({ ...live, LOYALTY_MODE: "module", LOYALTY_RESULT_FILE: join(LOG_DIR, "module-mode-result.json") }))
  // medusa start boots alongside; the Admin route tests wait for its /health.
  const port = await freePort()
  baseUrl = `http://127.0.0.1:${port}`
  medusa = app.startMedusa(port, { env: live, logName: "medusa-start" })
  // Settle every promise here so a failure is reported by the test that needs it, not as an unhandled rejection.
  for (const key of ["user", "workflows", "moduleMode"]) {
    bootResults[key] = bootResults[key].catch((e) => ({ code: -1, output: String(e), logFile: e.message }))
  }
})

after(() => app.shutdown())

describe("Medusa app boots with the loyalty server down", () => {
  it("medusa db:migrate and medusa user exit 0 while nothing listens on the configured address", async () => {
    assert.equal(bootResults.migrate.code, 0, `db:migrate failed, see ${bootResults.migrate.logFile}`)
    assert.match(bootResults.migrate.output, /MODULE: loyalty/)
    assert.match(bootResults.migrate.output, /MODULE: store_credit/)
    const user = await bootResults.user
    assert.equal(user.code, 0, `user failed, see ${user.logFile}`)
    assert.match(user.output, /User created successfully/)
  })
})

describe("workflows and Query (medusa exec, plugin mode)", () => {
  let result
  let raw

  before(async () => {
    const run = await bootResults.workflows
    assert.equal(run.code, 0, `medusa exec failed, see ${run.logFile}`)
    result = JSON.parse(readFileSync(join(LOG_DIR, "workflows-result.json"), "utf8"))
    raw = rawLoyaltyClient(loyaltyServer.address)
  })
  after(() => raw?.close())

  it("the issue's workflow runs unchanged and the card exists in the Python service", async () => {
    assert.equal(result.address, loyaltyServer.address)
    const card = result.issueCard
    assert.match(card.id, /^gcard_/)
    assert.equal(card.code, "test-code")
    assert.equal(card.value, 50)
    assert.equal(card.status, "pending")
    const stored = await raw.call("RetrieveGiftCard", { id: card.id })
    assert.equal(stored.code, "test-code")
    assert.equal(stored.value, "50")
    assert.equal(stored.currency_code, "usd")
    assert.equal(stored.customer_id, "customer_123")
    assert.equal(stored.reference_id, "order_123")
    assert.equal(stored.reference, "order")
    assert.equal(stored.line_item_id, "litem_123")
  })

  it("when a later step throws, the compensation deletes the card there", async () => {
    // workflow.run() rejected with a plain object (not an Error) carrying the step's message.
    assert.deepEqual(result.issueCompensation, { rejected: true, isError: false, message: "a later step failed" })
    assert.deepEqual(result.afterIssueCompensation, [])
    assert.deepEqual(result.shippedCompensation.rejected, true)
    assert.deepEqual(result.afterShippedCompensation, [])
    // createGiftCardsStep takes one object as well as a list.
    assert.deepEqual(result.shippedOne, { isArray: false, code: "shipped-one-code", value: 25 })
    assert.deepEqual(result.shippedOneCompensation, { rejected: true, isError: false, message: "a later step failed" })
    assert.deepEqual(result.afterShippedOneCompensation, [])
    // In the service itself: only the card of the successful run has code test-code; none has compensated-code.
    const byCode = await raw.call("ListGiftCards", { code: ["test-code", "compensated-code"], with_deleted: true, with_count: true })
    assert.equal(byCode.count, 1)
    assert.deepEqual(
      byCode.gift_cards.map((c) => c.id),
      [result.issueCard.id]
    )
  })

  it("adjustPointsStep compensates with one reverse adjustment, applied once", async () => {
    assert.equal(result.pointsCompensation.rejected, true)
    assert.deepEqual(result.pointsLedger.map((a) => [a.delta, a.balance_after]), [
      [-30, 0],
      [30, 30],
    ])
    assert.match(result.pointsLedger[0].reason, /^Reversal of adj_/)
    assert.equal(result.pointsBalanceAfterRetry, 0)
    const balance = await raw.call("GetPointsBalance", { customer_id: "cus_compensation" })
    assert.equal(balance.balance, "0")
    const ledger = await raw.call("ListPointAdjustments", { customer_id: "cus_compensation" })
    assert.equal(ledger.point_adjustments.length, 2)
  })

  it("query.graph over gift_card returns the service's cards, with count", () => {
    assert.deepEqual(
      result.graph.data.map((c) => [c.code, c.value, c.currency_code, c.status]),
      [
        ["qg-3", 30, "eur", "pending"],
        ["qg-2", 20, "eur", "pending"],
      ]
    )
    assert.equal(result.graph.metadata.count, 3)
    assert.equal(result.graph.metadata.take, 2)
    assert.equal(result.graph.metadata.skip, 0)
    assert.deepEqual(result.graphById, [{ id: result.issueCard.id, code: "test-code", customer_id: "customer_123" }])
  })
})

describe("defineLink with the module's linkable", () => {
  it("a Medusa customer linked to a gift card reads it back from the service through query.graph", async () => {
    assert.equal((await bootResults.workflows).code, 0)
    const result = JSON.parse(readFileSync(join(LOG_DIR, "workflows-result.json"), "utf8"))
    assert.equal(result.linked.length, 1)
    assert.deepEqual(result.linked[0].gift_cards, [{ id: result.issueCard.id, code: "test-code", value: 50 }])
  })
})

describe("store_credit module (medusa exec, plugin mode)", () => {
  let sc
  let raw

  before(async () => {
    const run = await bootResults.workflows
    assert.equal(run.code, 0, `medusa exec failed, see ${run.logFile}`)
    sc = JSON.parse(readFileSync(join(LOG_DIR, "workflows-result.json"), "utf8")).storeCredit
    raw = rawLoyaltyClient(loyaltyServer.address)
  })
  after(() => raw?.close())

  it("container.resolve('store_credit') is the adapter: a workflow's account and credit live in the Python service", async () => {
    assert.equal(sc.address, loyaltyServer.address)
    const [account] = sc.created.accounts
    assert.match(account.id, /^sc_acc_/)
    assert.equal(account.customer_id, "cus_sc_workflow")
    assert.deepEqual(
      sc.created.transactions.map((t) => [t.type, t.amount, t.reference, t.reference_id, t.note]),
      [["credit", 40, "order", "order_sc_1", "Store credit refund"]]
    )
    const stored = await raw.call("RetrieveStoreCreditAccount", { id: account.id })
    assert.equal(stored.customer_id, "cus_sc_workflow")
    // 40 credited, a compensated 15.50 debit voided, then 0.25 debited outside any workflow.
    const stats = await raw.call("RetrieveAccountStats", { account_id: account.id })
    assert.deepEqual([stats.balance, stats.credits, stats.debits], ["39.75", "40", "0.25"])
  })

  it("compensations: a created account and its credit are deleted; a debit is voided and its amount comes back", async () => {
    assert.deepEqual(sc.createCompensation, { rejected: true, isError: false, message: "a later step failed" })
    assert.deepEqual(sc.afterCreateCompensation, [])
    const compensated = await raw.call("ListStoreCreditAccounts", { customer_id: ["cus_sc_compensated"], with_deleted: true, with_count: true })
    assert.equal(compensated.count, 0)

    assert.equal(sc.debitCompensation.rejected, true)
    assert.equal(sc.statsAfterDebitCompensation.balance, 40)
    assert.deepEqual(sc.statsAfterDebitCompensation.raw_debits, { value: "0", precision: 20 })
    const ledger = await raw.call("ListAccountTransactions", { account_id: [sc.created.accounts[0].id], with_deleted: true, order: "created_at ASC" })
    assert.deepEqual(
      ledger.transactions.map((t) => [t.type, t.amount, t.reference_id, Boolean(t.deleted_at)]),
      [
        ["ACCOUNT_TRANSACTION_TYPE_CREDIT", "40", "order_sc_1", false],
        ["ACCOUNT_TRANSACTION_TYPE_DEBIT", "15.5", "cart_sc_1", true],
        ["ACCOUNT_TRANSACTION_TYPE_DEBIT", "0.25", "cart_sc_2", false],
      ]
    )
  })

  it("query.graph over store_credit_account (with transactions) and account_transaction (with account)", () => {
    const { data, metadata } = sc.graphAccounts
    assert.equal(metadata.count, 1)
    assert.equal(data.length, 1)
    const [account] = data
    assert.equal(account.id, sc.created.accounts[0].id)
    assert.deepEqual([account.customer_id, account.currency_code, account.balance, account.credits, account.debits], ["cus_sc_workflow", "usd", 39.75, 40, 0.25])
    assert.deepEqual(account.transactions.map((t) => [t.type, t.amount]).sort(), [["credit", 40], ["debit", 0.25]])
    const tx = sc.graphTransactions
    assert.equal(tx.metadata.count, 2)
    assert.deepEqual(
      tx.data.map((t) => [t.type, t.amount, t.reference, t.account.id, t.account.balance]),
      [
        ["credit", 40, "order", account.id, 39.75],
        ["debit", 0.25, "cart", account.id, 39.75],
      ]
    )
  })

  it("the plugin's delete-gift-card step (deleteGiftCards / restoreGiftCards on store_credit) works", async () => {
    assert.equal(sc.deleteCardCompensation.rejected, true)
    assert.equal(sc.keptCard.length, 1, "the compensation restored the card")
    assert.deepEqual(sc.goneCard.listed, [])
    const gone = await raw.call("ListGiftCards", { id: [sc.goneCard.id], with_deleted: true })
    assert.equal(gone.gift_cards.length, 1)
    assert.ok(gone.gift_cards[0].deleted_at, "soft-deleted, so the step's restoreGiftCards compensation can undo it")
  })
})

describe("module-only install (modules: [{ key: 'loyalty', resolve: 'medusa-loyalty-grpc/module' }, { key: 'store_credit', resolve: 'medusa-loyalty-grpc/store-credit' }])", () => {
  it("medusa exec resolves `loyalty` and `store_credit`, reaches the server, and Query sees the card and the account", async () => {
    const run = await bootResults.moduleMode
    assert.equal(run.code, 0, `medusa exec (module mode) failed, see ${run.logFile}`)
    const out = JSON.parse(readFileSync(join(LOG_DIR, "module-mode-result.json"), "utf8"))
    assert.equal(out.card.code, "module-mode-code")
    assert.deepEqual(out.graph.data, [{ id: out.card.id, code: "module-mode-code" }])
    assert.equal(out.graph.metadata.count, 1)
    assert.match(out.account.id, /^sc_acc_/)
    assert.deepEqual(out.accounts, [{ id: out.account.id, code: "SC-MODULE-MODE", balance: 2.5 }])
  })
})

describe("Admin routes: the Loyalty Points API (medusa start, plugin mode)", () => {
  let token
  let customerId

  before(async () => {
    assert.ok(medusa, "medusa start was not launched (db:migrate failed?)")
    await waitForHealth(baseUrl, medusa, 240000)
    assert.equal((await bootResults.user).code, 0, "the admin user was not created")

    const auth = await http("POST", "/auth/user/emailpass", { body: ADMIN })
    assert.equal(auth.status, 200, JSON.stringify(auth.body))
    token = auth.body.token
    assert.ok(token)
    const created = await http("POST", "/admin/customers", { token, body: { email: "jane@example.com", first_name: "Jane" } })
    assert.equal(created.status, 200, JSON.stringify(created.body))
    customerId = created.body.customer.id
  })

  it("+100 'Welcome bonus', then -50 'Redeemed for discount' with history: balance_after 50, two entries newest first", async () => {
    const first = await http("POST", "/admin/loyalty/points/adjust", {
      token,
      body: { customer_id: customerId, delta: 100, reason: "Welcome bonus" },
      note: "Add 100 points",
    })
    assert.equal(first.status, 200, JSON.stringify(first.body))
    assert.deepEqual(Object.keys(first.body).sort(), ["balance_after", "customer_id", "id", "updated_at"])
    assert.equal(first.body.balance_after, 100)
    assert.equal(first.body.customer_id, customerId)
    assert.match(first.body.id, /^adj_/)

    const second = await http("POST", "/admin/loyalty/points/adjust?include_history=true", {
      token,
      body: { customer_id: customerId, delta: -50, reason: "Redeemed for discount" },
      note: "Remove 50 points, with history",
    })
    assert.equal(second.status, 200, JSON.stringify(second.body))
    assert.equal(second.body.balance_after, 50)
    assert.equal(second.body.history.length, 2)
    assert.deepEqual(
      second.body.history.map((h) => [h.id, h.delta, h.reason, h.balance_after]),
      [
        [second.body.id, -50, "Redeemed for discount", 50],
        [first.body.id, 100, "Welcome bonus", 100],
      ]
    )
    assert.ok(Date.parse(second.body.history[0].created_at) >= Date.parse(second.body.history[1].created_at))
  })

  it("GET balance (with history) and the paginated adjustments", async () => {
    const balance = await http("GET", `/admin/loyalty/points/${customerId}?include_history=true`, { token, note: "Read the balance" })
    assert.equal(balance.status, 200)
    assert.equal(balance.body.balance, 50)
    assert.deepEqual(
      balance.body.history.map((h) => h.reason),
      ["Redeemed for discount", "Welcome bonus"]
    )
    const page1 = await http("GET", `/admin/loyalty/points/${customerId}/adjustments?limit=1`, { token, note: "List adjustments, one per page" })
    assert.equal(page1.status, 200)
    assert.deepEqual(
      page1.body.point_adjustments.map((a) => a.reason),
      ["Redeemed for discount"]
    )
    assert.ok(page1.body.next_page_token)
    const page2 = await http("GET", `/admin/loyalty/points/${customerId}/adjustments?limit=1&page_token=${encodeURIComponent(page1.body.next_page_token)}`, { token })
    assert.deepEqual(
      page2.body.point_adjustments.map((a) => a.reason),
      ["Welcome bonus"]
    )
  })

  it("400 for a bad delta, with the server's message", async () => {
    const res = await http("POST", "/admin/loyalty/points/adjust", { token, body: { customer_id: customerId, delta: 0 }, note: "A zero delta" })
    assert.equal(res.status, 400)
    assert.deepEqual(res.body, { type: "invalid_data", message: "delta must be a non-zero number" })
    const text = await http("POST", "/admin/loyalty/points/adjust", { token, body: { customer_id: customerId, delta: "ten" } })
    assert.equal(text.status, 400)
    // The server's sentence for the field, then what notation it accepts.
    assert.match(text.body.message, /^delta must be a non-zero number/)
  })

  it("401 without admin authentication", async () => {
    const res = await http("POST", "/admin/loyalty/points/adjust", { body: { customer_id: customerId, delta: 5 }, note: "Without a token" })
    assert.equal(res.status, 401)
    const get = await http("GET", `/admin/loyalty/points/${customerId}`)
    assert.equal(get.status, 401)
  })

  it("404 for a customer Medusa does not know, before any point moves", async () => {
    const res = await http("POST", "/admin/loyalty/points/adjust", { token, body: { customer_id: "cus_does_not_exist", delta: 5 }, note: "An unknown customer" })
    assert.equal(res.status, 404)
    assert.deepEqual(res.body, { type: "not_found", message: "Customer with id: cus_does_not_exist was not found" })
    const raw = rawLoyaltyClient(loyaltyServer.address)
    try {
      const ledger = await raw.call("ListPointAdjustments", { customer_id: "cus_does_not_exist" })
      assert.equal(ledger.point_adjustments.length, 0)
    } finally {
      raw.close()
    }
  })

  it("400 not_allowed when the balance would go negative; nothing changes", async () => {
    const res = await http("POST", "/admin/loyalty/points/adjust", { token, body: { customer_id: customerId, delta: -500 } })
    assert.equal(res.status, 400)
    assert.equal(res.body.type, "not_allowed")
    const balance = await http("GET", `/admin/loyalty/points/${customerId}`, { token })
    assert.equal(balance.body.balance, 50)
  })

  it("an Idempotency-Key header is passed through: the same key applies once", async () => {
    const body = { customer_id: customerId, delta: 7, reason: "Review bonus" }
    const a = await http("POST", "/admin/loyalty/points/adjust", { token, body, headers: { "Idempotency-Key": "review-bonus-1" }, note: "With an Idempotency-Key (send it twice: applied once)" })
    const b = await http("POST", "/admin/loyalty/points/adjust", { token, body, headers: { "Idempotency-Key": "review-bonus-1" } })
    assert.equal(a.status, 200)
    assert.equal(b.status, 200)
    assert.equal(b.body.id, a.body.id)
    assert.equal(b.body.balance_after, 57)
    const balance = await http("GET", `/admin/loyalty/points/${customerId}`, { token })
    assert.equal(balance.body.balance, 57)
  })

  it("emits loyalty.points.adjusted (customer_id, delta, balance_after) after each adjustment", async () => {
    // The subscriber in the test app appends each event to a file.
    let events = []
    for (let i = 0; i < 20; i++) {
      events = readFileSync(EVENTS_FILE, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l))
      if (events.filter((e) => e.data.customer_id === customerId).length >= 3) break
      await new Promise((r) => setTimeout(r, 250))
    }
    // A little longer, so a late duplicate (the replayed Idempotency-Key request) would show up too.
    await new Promise((r) => setTimeout(r, 1000))
    events = readFileSync(EVENTS_FILE, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l))
    const mine = events.filter((e) => e.name === "loyalty.points.adjusted" && e.data.customer_id === customerId)
    // Exactly one event per applied adjustment: the replayed request emits none.
    assert.deepEqual(
      mine.map((e) => [e.data.delta, e.data.balance_after]),
      [
        [100, 100],
        [-50, 50],
        [7, 57],
      ]
    )
  })

  it("with the loyalty server down, a call fails with unexpected_state naming the address", async () => {
    await loyaltyServer.stop()
    const res = await http("GET", `/admin/loyalty/points/${customerId}`, { token })
    assert.equal(res.status, 500)
    assert.equal(res.body.type, "unexpected_state")
    assert.match(res.body.message, new RegExp(`Loyalty gRPC server at ${loyaltyServer.address.replace(/\./g, "\\.")} is unreachable`))
  })
})
