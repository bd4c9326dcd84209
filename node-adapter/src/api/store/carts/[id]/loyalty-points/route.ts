import type { AuthenticatedMedusaRequest, MedusaResponse } from "@medusajs/framework/http"
import type { MedusaContainer } from "@medusajs/framework/types"
import { ContainerRegistrationKeys, MedusaError } from "@medusajs/framework/utils"
import { asMedusaError } from "../../../../../modules/loyalty/errors"
import {
  applyLoyaltyPointsToCartWorkflow,
  parsePoints,
  removeLoyaltyPointsFromCartWorkflow,
} from "../../../../../workflows/cart-points"

/** The cart as these routes answer it: its totals (the points discount included) and what is applied. */
export const CART_FIELDS = [
  "id",
  "customer_id",
  "currency_code",
  "metadata",
  "item_total",
  "subtotal",
  "discount_total",
  "tax_total",
  "shipping_total",
  "total",
  "promotions.id",
  "promotions.code",
  "items.id",
  "items.quantity",
  "items.unit_price",
  "items.total",
  "items.adjustments.id",
  "items.adjustments.code",
  "items.adjustments.amount",
]

async function cartView(scope: MedusaContainer, cartId: string) {
  const query = scope.resolve(ContainerRegistrationKeys.QUERY)
  const { data } = await query.graph({ entity: "cart", fields: CART_FIELDS, filters: { id: cartId } })
  return data[0]
}

function customerOf(req: AuthenticatedMedusaRequest): string {
  const id = req.auth_context?.actor_id
  if (!id) {
    throw new MedusaError(MedusaError.Types.UNAUTHORIZED, "A logged-in customer is required")
  }
  return id
}

/**
 * POST /store/carts/:id/loyalty-points {points}: the logged-in customer owning
 * the cart applies points (held for the cart, reference "cart") as the cart's
 * points promotion. Header Idempotency-Key: a repeated request holds once.
 */
export const POST = async (req: AuthenticatedMedusaRequest<{ points?: number | string }>, res: MedusaResponse) => {
  const customerId = customerOf(req)
  const points = parsePoints((req.body as { points?: unknown } | undefined)?.points)
  let result
  try {
    ;({ result } = await applyLoyaltyPointsToCartWorkflow(req.scope).run({
      input: { cart_id: req.params.id, customer_id: customerId, points, idempotency_key: req.get("idempotency-key") || null },
    }))
  } catch (e) {
    throw asMedusaError(e)
  }
  res.status(200).json({ cart: await cartView(req.scope, req.params.id), loyalty_points: result })
}

/** DELETE /store/carts/:id/loyalty-points: removes the points (promotion off, hold released). */
export const DELETE = async (req: AuthenticatedMedusaRequest, res: MedusaResponse) => {
  const customerId = customerOf(req)
  let removed
  try {
    ;({ result: removed } = await removeLoyaltyPointsFromCartWorkflow(req.scope).run({
      input: { cart_id: req.params.id, customer_id: customerId },
    }))
  } catch (e) {
    throw asMedusaError(e)
  }
  res.status(200).json({ cart: await cartView(req.scope, req.params.id), removed: removed ?? null })
}
