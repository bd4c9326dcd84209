import type { ICartModuleService, Logger } from "@medusajs/framework/types"
import { ContainerRegistrationKeys, MedusaError, Modules } from "@medusajs/framework/utils"
import { StepResponse } from "@medusajs/framework/workflows-sdk"
import { completeCartWorkflow } from "@medusajs/medusa/core-flows"
import { LOYALTY_MODULE } from "../../modules/loyalty/joiner"
import type { ILoyaltyModuleService } from "../../modules/loyalty/types"
import { CART_HOLD_REFERENCE, CART_POINTS_KEY, cartPoints, type CartLoyaltyPoints } from "../cart-points"

type ValidateInput = {
  cart: {
    id: string
    customer?: { id: string } | null
    metadata?: Record<string, unknown> | null
    promotions?: { id?: string | null; code?: string | null }[] | null
    items?: { adjustments?: { code?: string | null; promotion_id?: string | null }[] | null }[] | null
  }
}

/**
 * completeCartWorkflow's `validate` hook (the only hook of that workflow left
 * free next to @medusajs/loyalty-plugin, which takes `beforePaymentAuthorization`
 * and `orderCreated`; Medusa allows one handler per hook). Runs before the
 * order is created and the payment authorized. For a cart with points applied:
 * - its hold must be active: a hold released (by an earlier failed completion)
 *   or expired is taken again for the same points, else the completion is
 *   refused (not_allowed) and nothing is created;
 * - the compensation releases the hold when the completion fails after this
 *   hook (payment declined, inventory, ...): a failed completion spends nothing.
 * The points are captured by the order.placed subscriber, emitted only when
 * the workflow succeeded.
 */
completeCartWorkflow.hooks.validate(
  async ({ cart }: ValidateInput, { container }) => {
    const applied = cartPoints(cart?.metadata)
    if (!applied) {
      return new StepResponse(undefined, null as string | null)
    }
    const loyalty = container.resolve<ILoyaltyModuleService>(LOYALTY_MODULE)
    const onCart =
      (cart.promotions ?? []).some((p) => p.id === applied.promotion_id || p.code === applied.code) ||
      (cart.items ?? []).some((i) => (i.adjustments ?? []).some((a) => a.promotion_id === applied.promotion_id || a.code === applied.code))
    if (!onCart) {
      // The points promotion was taken off the cart (e.g. DELETE /store/carts/:id/promotions): nothing to spend.
      await loyalty.releasePointsHold(applied.hold_id)
      return new StepResponse(undefined, null as string | null)
    }
    if (cart.customer?.id !== applied.customer_id) {
      throw new MedusaError(MedusaError.Types.NOT_ALLOWED, `The points applied to cart ${cart.id} belong to another customer: remove them first`)
    }
    const hold = await loyalty.retrievePointsHold(applied.hold_id)
    if (hold.status === "captured") {
      // This cart's order exists (a repeated completion): nothing to hold.
      return new StepResponse(undefined, null as string | null)
    }
    if (hold.status === "active") {
      return new StepResponse(undefined, hold.id)
    }
    // Released (an earlier completion failed) or expired: hold the same points again.
    const redeem = loyalty.getPointsProgram().redeem
    const minutes = redeem?.hold_minutes ?? 60
    let again
    try {
      again = await loyalty.holdPoints({
        customer_id: applied.customer_id,
        points: applied.points,
        reference: CART_HOLD_REFERENCE,
        reference_id: cart.id,
        expires_at: new Date(Date.now() + minutes * 60_000),
      })
    } catch (e) {
      if (MedusaError.isMedusaError(e as Error) && (e as MedusaError).type === MedusaError.Types.NOT_ALLOWED) {
        throw new MedusaError(
          MedusaError.Types.NOT_ALLOWED,
          `The ${applied.points} points applied to cart ${cart.id} are no longer available (${(e as Error).message}): remove them and try again`
        )
      }
      throw e
    }
    const next: CartLoyaltyPoints = { ...applied, hold_id: again.hold.id, expires_at: again.hold.expires_at?.toISOString() ?? null }
    const carts = container.resolve<ICartModuleService>(Modules.CART)
    await carts.updateCarts(cart.id, { metadata: { ...(cart.metadata ?? {}), [CART_POINTS_KEY]: next } })
    return new StepResponse(undefined, again.hold.id)
  },
  async (holdId: string | null | undefined, { container }) => {
    if (!holdId) {
      return
    }
    try {
      await container.resolve<ILoyaltyModuleService>(LOYALTY_MODULE).releasePointsHold(holdId)
    } catch (e) {
      // The hold expires on its own; a compensation that throws would leave the workflow half undone.
      container
        .resolve<Logger>(ContainerRegistrationKeys.LOGGER)
        .warn(`medusa-loyalty-grpc: could not release points hold ${holdId} after a failed cart completion: ${(e as Error).message}`)
    }
  }
)
