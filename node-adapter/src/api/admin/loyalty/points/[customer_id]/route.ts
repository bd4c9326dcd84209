import type { AuthenticatedMedusaRequest, MedusaResponse } from "@medusajs/framework/http"
import { LOYALTY_MODULE } from "../../../../../modules/loyalty/joiner"
import type { ILoyaltyModuleService } from "../../../../../modules/loyalty/types"
import { assertCustomerExists, flag, historyEntry } from "../../../../utils/points"

/** GET /admin/loyalty/points/:customer_id?include_history=true — balance, held, available (and the last 20 adjustments), nothing changes. */
export const GET = async (req: AuthenticatedMedusaRequest, res: MedusaResponse) => {
  const customerId = await assertCustomerExists(req.scope, req.params.customer_id)
  const includeHistory = flag(req.query.include_history)
  const loyalty = req.scope.resolve<ILoyaltyModuleService>(LOYALTY_MODULE)
  const balance = await loyalty.getPointsBalance(customerId, { include_history: includeHistory })
  const out: Record<string, unknown> = {
    customer_id: balance.customer_id,
    balance: balance.balance,
    held: balance.held,
    available: balance.available,
    updated_at: balance.updated_at,
  }
  if (includeHistory) {
    out.history = (balance.history ?? []).map(historyEntry)
  }
  res.json(out)
}
