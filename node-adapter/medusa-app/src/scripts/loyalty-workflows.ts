import { writeFileSync } from "fs"
import type { ExecArgs } from "@medusajs/framework/types"
import { ContainerRegistrationKeys, Modules } from "@medusajs/framework/utils"
import { createStep, createWorkflow, StepResponse, transform, WorkflowResponse } from "@medusajs/framework/workflows-sdk"
import { adjustPointsStep, createGiftCardsStep } from "medusa-loyalty-grpc/workflows"
import type { AccountEntryInput, StoreCreditModuleService } from "medusa-loyalty-grpc"

// ---- The step from the issue (Medusa's Loyalty Module docs), unchanged.
const createGiftCardStep = createStep("create-gift-card",
  async ({}, { container }) => {
    const loyaltyModuleService = container.resolve("loyalty")
    const giftCard = await loyaltyModuleService.createGiftCards({ code: "test-code", value: 50, currency_code: "usd",
      expires_at: null, reference_id: "order_123", reference: "order", line_item_id: "litem_123", customer_id: "customer_123" })
    return new StepResponse({ giftCard }, giftCard.id)
  },
  async (giftCardId, { container }) => {
    await container.resolve("loyalty").deleteGiftCards([giftCardId])
  })

const failingStep = createStep("fail-after-loyalty", async () => {
  throw new Error("a later step failed")
})

const issueWorkflow = createWorkflow("loyalty-test-issue-workflow", () => {
  const { giftCard } = createGiftCardStep({})
  return new WorkflowResponse(giftCard)
})

const issueWorkflowThenFail = createWorkflow("loyalty-test-issue-workflow-then-fail", () => {
  const { giftCard } = createGiftCardStep({})
  failingStep()
  return new WorkflowResponse(giftCard)
})

const shippedStepThenFail = createWorkflow("loyalty-test-shipped-step-then-fail", (input: { code: string }) => {
  const cards = createGiftCardsStep([{ code: input.code, value: 20, currency_code: "usd" }] as any)
  failingStep()
  return new WorkflowResponse(cards)
})

const shippedStepOneThenFail = createWorkflow("loyalty-test-shipped-step-one-then-fail", (input: { code: string }) => {
  const card = createGiftCardsStep({ code: input.code, value: 20, currency_code: "usd" })
  failingStep()
  return new WorkflowResponse(card)
})

const shippedStepOne = createWorkflow("loyalty-test-shipped-step-one", (input: { code: string }) => {
  const card = createGiftCardsStep({ code: input.code, value: 25, currency_code: "usd" })
  return new WorkflowResponse(card)
})

const pointsThenFail = createWorkflow("loyalty-test-points-then-fail", (input: { customer_id: string }) => {
  const result = adjustPointsStep({ customer_id: input.customer_id, delta: 30, reason: "Compensated", idempotency_key: "comp-key-1" })
  failingStep()
  return new WorkflowResponse(result)
})

// ---- Store credit: steps shaped as @medusajs/loyalty-plugin 2.21.1's, on `store_credit`.
type Entry = AccountEntryInput & { reference: string; reference_id: string }

const createAccountsStep = createStep("sc-create-accounts",
  async (input: { customer_id?: string; code?: string; currency_code: string }[], { container }) => {
    const accounts = await container.resolve<StoreCreditModuleService>("store_credit").createStoreCreditAccounts(input)
    return new StepResponse(accounts, accounts.map((a) => a.id))
  },
  async (ids: string[] | undefined, { container }) => {
    if (!ids?.length) return
    await container.resolve<StoreCreditModuleService>("store_credit").deleteStoreCreditAccounts(ids)
  })

const creditStep = createStep("sc-credit-account",
  async (input: Entry[], { container }) => {
    const transactions = await container.resolve<StoreCreditModuleService>("store_credit").creditAccounts(input)
    return new StepResponse(transactions, transactions.map((t) => t.id))
  },
  async (ids: string[] | undefined, { container }) => {
    if (!ids?.length) return
    await container.resolve<StoreCreditModuleService>("store_credit").deleteTransactions(ids)
  })

const debitStep = createStep("sc-debit-account",
  async (input: Entry[], { container }) => {
    const transactions = await container.resolve<StoreCreditModuleService>("store_credit").debitAccounts(input)
    return new StepResponse(transactions, transactions.map((t) => t.id))
  },
  async (ids: string[] | undefined, { container }) => {
    if (!ids?.length) return
    await container.resolve<StoreCreditModuleService>("store_credit").deleteTransactions(ids)
  })

// The plugin's delete-gift-cards step, as it ships: it calls store_credit, not loyalty.
const deleteGiftCardsOnStoreCreditStep = createStep("sc-delete-gift-cards",
  async ({ id }: { id: string[] }, { container }) => {
    await container.resolve<StoreCreditModuleService>("store_credit").deleteGiftCards({ id })
    return new StepResponse(id, id)
  },
  async (id: string[] | undefined, { container }) => {
    if (!id?.length) return
    await container.resolve<StoreCreditModuleService>("store_credit").restoreGiftCards({ id })
  })

const createAndCredit = createWorkflow("sc-test-create-and-credit", (input: { customer_id: string; amount: number }) => {
  const accounts = createAccountsStep([{ customer_id: input.customer_id, currency_code: "usd" }])
  const entries = transform({ accounts, input }, ({ accounts, input }) => [
    { account_id: accounts[0].id, amount: input.amount, reference: "order", reference_id: "order_sc_1", note: "Store credit refund" },
  ])
  const transactions = creditStep(entries)
  return new WorkflowResponse({ accounts, transactions })
})

const createAndCreditThenFail = createWorkflow("sc-test-create-and-credit-then-fail", (input: { customer_id: string }) => {
  const accounts = createAccountsStep([{ customer_id: input.customer_id, currency_code: "usd" }])
  const entries = transform({ accounts }, ({ accounts }) => [
    { account_id: accounts[0].id, amount: 10, reference: "order", reference_id: "order_sc_2" },
  ])
  creditStep(entries)
  failingStep()
  return new WorkflowResponse(accounts)
})

const debitThenFail = createWorkflow("sc-test-debit-then-fail", (input: Entry) => {
  const entries = transform({ input }, ({ input }) => [input])
  debitStep(entries)
  failingStep()
  return new WorkflowResponse(entries)
})

const deleteGiftCard = createWorkflow("sc-test-delete-gift-card", (input: { id: string }) => {
  const ids = transform({ input }, ({ input }) => ({ id: [input.id] }))
  deleteGiftCardsOnStoreCreditStep(ids)
  return new WorkflowResponse(ids)
})

const deleteGiftCardThenFail = createWorkflow("sc-test-delete-gift-card-then-fail", (input: { id: string }) => {
  const ids = transform({ input }, ({ input }) => ({ id: [input.id] }))
  deleteGiftCardsOnStoreCreditStep(ids)
  failingStep()
  return new WorkflowResponse(ids)
})

/** workflow.run() rejects with a plain object, not an Error: keep what it says. */
async function runExpectingFailure(run: () => Promise<unknown>) {
  try {
    await run()
    return { rejected: false }
  } catch (e: any) {
    return { rejected: true, isError: e instanceof Error, message: e?.message ?? String(e) }
  }
}

export default async function loyaltyWorkflows({ container }: ExecArgs) {
  const loyalty: any = container.resolve("loyalty")
  const query: any = container.resolve(ContainerRegistrationKeys.QUERY)
  const out: Record<string, unknown> = { address: loyalty.address }

  // 1. The issue's step in a workflow where a later step throws: the card is created, then deleted there.
  out.issueCompensation = await runExpectingFailure(() => issueWorkflowThenFail(container).run({ input: {} }))
  out.afterIssueCompensation = (await loyalty.listGiftCards({ code: "test-code" }, { withDeleted: true })).map((c: any) => c.id)

  // 2. The issue's workflow, unchanged: the card lives in the Python service.
  const { result: card } = await issueWorkflow(container).run({ input: {} })
  out.issueCard = card

  // 3. The shipped createGiftCardsStep compensates too.
  out.shippedCompensation = await runExpectingFailure(() => shippedStepThenFail(container).run({ input: { code: "compensated-code" } }))
  out.afterShippedCompensation = (await loyalty.listGiftCards({ code: "compensated-code" }, { withDeleted: true })).map((c: any) => c.id)

  // 3b. createGiftCardsStep with one object (not a list): one card back, compensated the same way.
  const { result: one } = await shippedStepOne(container).run({ input: { code: "shipped-one-code" } })
  out.shippedOne = { isArray: Array.isArray(one), code: (one as any)?.code, value: (one as any)?.value }
  out.shippedOneCompensation = await runExpectingFailure(() => shippedStepOneThenFail(container).run({ input: { code: "compensated-one-code" } }))
  out.afterShippedOneCompensation = (await loyalty.listGiftCards({ code: "compensated-one-code" }, { withDeleted: true })).map((c: any) => c.id)

  // 4. adjustPointsStep compensates with the reverse adjustment, once.
  out.pointsCompensation = await runExpectingFailure(() => pointsThenFail(container).run({ input: { customer_id: "cus_compensation" } }))
  const ledger = await loyalty.listPointAdjustments("cus_compensation", {})
  out.pointsLedger = ledger.point_adjustments.map((a: any) => ({ delta: a.delta, reason: a.reason, balance_after: a.balance_after }))
  // A retried compensation (same derived key) is not applied twice.
  const original = ledger.point_adjustments[ledger.point_adjustments.length - 1]
  await loyalty.adjustPoints({ customer_id: "cus_compensation", delta: -30, reason: `Reversal of ${original.id}`, idempotency_key: "reversal:comp-key-1" })
  out.pointsBalanceAfterRetry = (await loyalty.getPointsBalance("cus_compensation")).balance

  // 5. query.graph over gift cards, with count.
  await loyalty.createGiftCards([
    { code: "qg-1", value: 10, currency_code: "eur" },
    { code: "qg-2", value: 20, currency_code: "eur" },
    { code: "qg-3", value: 30, currency_code: "eur" },
  ])
  const graph = await query.graph({
    entity: "gift_card",
    fields: ["id", "code", "value", "currency_code", "status"],
    filters: { currency_code: "eur" },
    pagination: { skip: 0, take: 2, order: { code: "DESC" } },
  })
  out.graph = { data: graph.data, metadata: graph.metadata }
  const byId = await query.graph({ entity: "gift_cards", fields: ["id", "code", "customer_id"], filters: { id: (card as any).id } })
  out.graphById = byId.data

  // 6. defineLink with the module's linkable: a Medusa customer linked to the card, read back through Query.
  const customers: any = container.resolve(Modules.CUSTOMER)
  const customer = await customers.createCustomers({ email: "linked@example.com", first_name: "Linked" })
  const link: any = container.resolve(ContainerRegistrationKeys.LINK)
  await link.create({ [Modules.CUSTOMER]: { customer_id: customer.id }, loyalty: { gift_card_id: (card as any).id } })
  const linked = await query.graph({ entity: "customer", fields: ["id", "gift_cards.id", "gift_cards.code", "gift_cards.value"], filters: { id: customer.id } })
  out.linked = linked.data

  // 7. Store credit: `store_credit` resolves in plugin mode and every call is gRPC.
  const storeCredit = container.resolve<StoreCreditModuleService>("store_credit")
  const sc: Record<string, unknown> = { address: storeCredit.address }
  const { result: created } = await createAndCredit(container).run({ input: { customer_id: "cus_sc_workflow", amount: 40 } })
  sc.created = created
  sc.createCompensation = await runExpectingFailure(() => createAndCreditThenFail(container).run({ input: { customer_id: "cus_sc_compensated" } }))
  sc.afterCreateCompensation = await storeCredit.listStoreCreditAccounts({ customer_id: "cus_sc_compensated" }, { withDeleted: true })
  const accountId = created.accounts[0].id
  sc.debitCompensation = await runExpectingFailure(() =>
    debitThenFail(container).run({ input: { account_id: accountId, amount: 15.5, reference: "cart", reference_id: "cart_sc_1" } })
  )
  sc.statsAfterDebitCompensation = await storeCredit.retrieveAccountStats({ account_id: accountId })
  await storeCredit.debitAccounts([{ account_id: accountId, amount: "0.25", reference: "cart", reference_id: "cart_sc_2" }])
  const accounts = await query.graph({
    entity: "store_credit_account",
    fields: ["id", "customer_id", "currency_code", "balance", "credits", "debits", "transactions.type", "transactions.amount"],
    filters: { customer_id: ["cus_sc_workflow", "cus_sc_compensated"] },
    pagination: { skip: 0, take: 10 },
  })
  sc.graphAccounts = { data: accounts.data, metadata: accounts.metadata }
  const transactions = await query.graph({
    entity: "account_transaction",
    fields: ["id", "type", "amount", "reference", "account.id", "account.balance"],
    filters: { account_id: accountId },
    pagination: { skip: 0, take: 10, order: { created_at: "ASC" } },
  })
  sc.graphTransactions = { data: transactions.data, metadata: transactions.metadata }
  // The plugin's delete-gift-card step (calls store_credit.deleteGiftCards / restoreGiftCards).
  const [kept, gone] = await loyalty.createGiftCards([
    { code: "sc-delete-compensated", value: 5, currency_code: "usd" },
    { code: "sc-delete-done", value: 5, currency_code: "usd" },
  ])
  sc.deleteCardCompensation = await runExpectingFailure(() => deleteGiftCardThenFail(container).run({ input: { id: kept.id } }))
  sc.keptCard = await loyalty.listGiftCards({ id: kept.id })
  await deleteGiftCard(container).run({ input: { id: gone.id } })
  sc.goneCard = { id: gone.id, listed: await loyalty.listGiftCards({ id: gone.id }) }
  out.storeCredit = sc

  writeFileSync(process.env.LOYALTY_RESULT_FILE!, JSON.stringify(out, null, 2))
}
