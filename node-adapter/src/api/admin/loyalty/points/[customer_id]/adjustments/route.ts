import type { AuthenticatedMedusaRequest, MedusaResponse } from "@medusajs/framework/http"
import { LOYALTY_MODULE } from "../../../../../../modules/loyalty/joiner"
import type { ILoyaltyModuleService } from "../../../../../../modules/loyalty/types"
import { assertCustomerExists, historyEntry } from "../../../../../utils/points"

/**
 * GET /admin/loyalty/points/:customer_id/adjustments?limit=50&page_token=...
 * The customer's whole ledger, newest first, one page at a time.
 */
export const GET = async (req: AuthenticatedMedusaRequest, res: MedusaResponse) => {
  const customerId = await assertCustomerExists(req.scope, req.params.customer_id)
  const limit = req.query.limit === undefined ? 0 : Number(req.query.limit)
  const pageToken = typeof req.query.page_token === "string" ? req.query.page_token : ""
  const loyalty = req.scope.resolve<ILoyaltyModuleService>(LOYALTY_MODULE)
  const page = await loyalty.listPointAdjustments(customerId, {
    limit: Number.isFinite(limit) ? Math.trunc(limit) : 0,
    page_token: pageToken,
  })
  res.json({
    point_adjustments: page.point_adjustments.map(historyEntry),
    next_page_token: page.next_page_token || null,
  })
}
