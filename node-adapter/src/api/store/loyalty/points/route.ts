import type { AuthenticatedMedusaRequest, MedusaResponse } from "@medusajs/framework/http"
import { MedusaError } from "@medusajs/framework/utils"
import { LOYALTY_MODULE } from "../../../../modules/loyalty/joiner"
import type { ILoyaltyModuleService } from "../../../../modules/loyalty/types"
import { historyEntry } from "../../../utils/points"

/**
 * GET /store/loyalty/points: the logged-in customer's balance, held and
 * available points, the last 20 adjustments (newest first) and what a point
 * is worth at checkout.
 */
export const GET = async (req: AuthenticatedMedusaRequest, res: MedusaResponse) => {
  const customerId = req.auth_context?.actor_id
  if (!customerId) {
    throw new MedusaError(MedusaError.Types.UNAUTHORIZED, "A logged-in customer is required")
  }
  const loyalty = req.scope.resolve<ILoyaltyModuleService>(LOYALTY_MODULE)
  const balance = await loyalty.getPointsBalance(customerId, { include_history: true })
  const redeem = loyalty.getPointsProgram().redeem
  res.json({
    loyalty_points: {
      customer_id: customerId,
      balance: balance.balance,
      held: balance.held,
      available: balance.available,
      updated_at: balance.updated_at,
      history: (balance.history ?? []).map(historyEntry),
      redeem: redeem ? { value_per_point: redeem.value_per_point, min_points: redeem.min_points } : null,
    },
  })
}
