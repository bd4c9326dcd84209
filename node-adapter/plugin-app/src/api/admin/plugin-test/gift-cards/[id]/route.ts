import type { AuthenticatedMedusaRequest, MedusaResponse } from "@medusajs/framework/http"
import { deleteGiftCardWorkflow } from "@medusajs/loyalty-plugin/workflows"

/**
 * @medusajs/loyalty-plugin 2.21.1 ships a delete-gift-card workflow but no
 * Admin route for it: this test-app route (behind Medusa's admin auth, as
 * every /admin route) runs the plugin's own workflow unchanged.
 */
export const DELETE = async (req: AuthenticatedMedusaRequest, res: MedusaResponse) => {
  await deleteGiftCardWorkflow(req.scope).run({ input: { id: req.params.id } })
  res.json({ id: req.params.id, object: "gift_card", deleted: true })
}
