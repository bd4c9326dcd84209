import type { AuthenticatedMedusaRequest, MedusaResponse } from "@medusajs/framework/http"
import { adjustPointsWorkflow } from "../../../../../workflows/adjust-points"
import { asMedusaError } from "../../../../../modules/loyalty/errors"
import { toDecimalString } from "../../../../../modules/loyalty/convert"
import { assertCustomerExists, flag, historyEntry } from "../../../../utils/points"

type AdjustBody = {
  customer_id?: string
  delta?: number | string
  reason?: string
}

/**
 * POST /admin/loyalty/points/adjust?include_history=true
 * Body {customer_id, delta, reason?}; header Idempotency-Key is passed through.
 */
export const POST = async (req: AuthenticatedMedusaRequest<AdjustBody>, res: MedusaResponse) => {
  const body = (req.body ?? {}) as AdjustBody
  const customerId = await assertCustomerExists(req.scope, body.customer_id)
  const includeHistory = flag(req.query.include_history)
  const idempotencyKey = req.get("idempotency-key") || undefined
  // A JSON number is written out exactly as the module would (toDecimalString), never as a float.
  const delta = typeof body.delta === "number" || typeof body.delta === "string" ? toDecimalString(body.delta) : ""

  let result
  try {
    ;({ result } = await adjustPointsWorkflow(req.scope).run({
      input: {
        customer_id: customerId,
        delta,
        reason: typeof body.reason === "string" ? body.reason : "",
        include_history: includeHistory,
        idempotency_key: idempotencyKey,
      },
    }))
  } catch (e) {
    throw asMedusaError(e)
  }

  const out: Record<string, unknown> = {
    id: result.id,
    customer_id: result.customer_id,
    balance_after: result.balance_after,
    updated_at: result.updated_at,
  }
  if (includeHistory) {
    out.history = (result.history ?? []).map(historyEntry)
  }
  res.status(200).json(out)
}
