import { writeFileSync } from "fs"
import type { ExecArgs } from "@medusajs/framework/types"
import { ContainerRegistrationKeys, Modules } from "@medusajs/framework/utils"
import { createStep, createWorkflow, StepResponse, WorkflowResponse } from "@medusajs/framework/workflows-sdk"
import { adjustPointsStep, createGiftCardsStep } from "medusa-loyalty-grpc/workflows"

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

  writeFileSync(process.env.LOYALTY_RESULT_FILE!, JSON.stringify(out, null, 2))
}
