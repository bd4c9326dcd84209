import type { AuthenticatedMedusaRequest, MedusaResponse } from "@medusajs/framework/http"
import { MedusaError } from "@medusajs/framework/utils"
import { createStep, createWorkflow, WorkflowResponse } from "@medusajs/framework/workflows-sdk"
import { debitAccountStep } from "@medusajs/loyalty-plugin/workflows"

type Input = { account_id: string; amount: number; reference_id: string }

/** A step that fails after the debit, as a declined payment would. */
const failAfterDebitStep = createStep("plugin-test-fail-after-debit", async () => {
  throw new MedusaError(MedusaError.Types.NOT_ALLOWED, "plugin-test: a later checkout step failed after the debit")
})

/**
 * The plugin's own debit-account step (the one its checkout hook runs through
 * debit-accounts), then a step that fails: the workflow engine compensates the
 * debit with the plugin's compensation, store_credit.deleteTransactions(ids).
 */
const debitThenFailWorkflow = createWorkflow("plugin-test-debit-then-fail", (input: Input) => {
  const transactions = debitAccountStep([
    { account_id: input.account_id, amount: input.amount, reference: "cart", reference_id: input.reference_id, note: "Gift card usage" },
  ] as any)
  failAfterDebitStep()
  return new WorkflowResponse(transactions)
})

export const POST = async (req: AuthenticatedMedusaRequest<Input>, res: MedusaResponse) => {
  const { errors } = await debitThenFailWorkflow(req.scope).run({ input: req.validatedBody ?? req.body, throwOnError: false })
  const error = errors?.[0]?.error
  res.status(error ? 400 : 200).json({ failed: Boolean(error), message: error?.message ?? null })
}
