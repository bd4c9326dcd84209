import BigNumberJS from "bignumber.js"
import type { ICartModuleService, IPromotionModuleService, MedusaContainer } from "@medusajs/framework/types"
import { ContainerRegistrationKeys, MedusaError, Modules, PromotionActions } from "@medusajs/framework/utils"
import {
  createStep,
  createWorkflow,
  StepResponse,
  transform,
  when,
  WorkflowResponse,
} from "@medusajs/framework/workflows-sdk"
import { acquireLockStep, releaseLockStep, updateCartPromotionsWorkflow } from "@medusajs/medusa/core-flows"
import { LOYALTY_MODULE } from "../modules/loyalty/joiner"
import type { ILoyaltyModuleService } from "../modules/loyalty/types"
import { toDecimalString, type PointsHoldDTO } from "../modules/loyalty/convert"
import { pointsValue } from "../modules/loyalty/program"

/**
 * Points applied to a cart, kept in `cart.metadata.loyalty_points` (and so
 * copied to the order's metadata when the cart completes).
 */
export type CartLoyaltyPoints = {
  /** Whole points, as a decimal string. */
  points: string
  /** What they are worth in the cart's currency (the promotion's amount), a decimal string. */
  value: string
  currency_code: string
  customer_id: string
  cart_id: string
  hold_id: string
  promotion_id: string
  code: string
  expires_at: string | null
}

export const CART_POINTS_KEY = "loyalty_points"
/** Reference of the holds made for carts (reference_id is the cart id). */
export const CART_HOLD_REFERENCE = "cart"

type CartRow = {
  id: string
  customer_id: string | null
  currency_code: string
  completed_at: Date | string | null
  item_total: unknown
  metadata: Record<string, unknown> | null
  promotions?: { id: string; code: string | null }[] | null
}

export function cartPoints(metadata: Record<string, unknown> | null | undefined): CartLoyaltyPoints | null {
  const value = metadata?.[CART_POINTS_KEY]
  return value && typeof value === "object" && typeof (value as CartLoyaltyPoints).hold_id === "string"
    ? (value as CartLoyaltyPoints)
    : null
}

function loyaltyOf(container: MedusaContainer): ILoyaltyModuleService {
  return container.resolve<ILoyaltyModuleService>(LOYALTY_MODULE)
}

export async function readCart(container: MedusaContainer, cartId: string): Promise<CartRow> {
  const query = container.resolve(ContainerRegistrationKeys.QUERY)
  const { data } = await query.graph({
    entity: "cart",
    fields: ["id", "customer_id", "currency_code", "completed_at", "item_total", "metadata", "promotions.id", "promotions.code"],
    filters: { id: cartId },
  })
  const cart = data?.[0] as CartRow | undefined
  if (!cart) {
    throw new MedusaError(MedusaError.Types.NOT_FOUND, `Cart id not found: ${cartId}`)
  }
  return cart
}

/** The customer's own, open cart (404 for another customer's: its existence is not disclosed). */
function assertOwnOpenCart(cart: CartRow, customerId: string): void {
  if (!cart.customer_id || cart.customer_id !== customerId) {
    throw new MedusaError(MedusaError.Types.NOT_FOUND, `Cart id not found: ${cart.id}`)
  }
  if (cart.completed_at) {
    throw new MedusaError(MedusaError.Types.NOT_ALLOWED, `Cart ${cart.id} is already completed`)
  }
}

/** A positive whole number of points, as a decimal string. */
export function parsePoints(value: unknown): string {
  const text = typeof value === "number" ? String(value) : typeof value === "string" ? value.trim() : ""
  if (!/^[0-9]+$/.test(text) || /^0+$/.test(text)) {
    throw new MedusaError(MedusaError.Types.INVALID_DATA, "points must be a positive whole number")
  }
  return new BigNumberJS(text).toFixed()
}

// ------------------------------------------------------------ apply

export type ApplyCartPointsInput = {
  cart_id: string
  customer_id: string
  points: string
  idempotency_key?: string | null
}

type Prepared = {
  cart_id: string
  customer_id: string
  points: string
  value: string
  currency_code: string
  code: string
  expires_at: string
  idempotency_key: string | null
}

const prepareCartPointsStep = createStep(
  "prepare-loyalty-points-for-cart",
  async (input: ApplyCartPointsInput, { container }) => {
    const loyalty = loyaltyOf(container)
    const redeem = loyalty.getPointsProgram().redeem
    if (!redeem) {
      throw new MedusaError(MedusaError.Types.NOT_ALLOWED, "Points redemption is not configured (options.points.redeem)")
    }
    const cart = await readCart(container, input.cart_id)
    assertOwnOpenCart(cart, input.customer_id)
    if (cartPoints(cart.metadata)) {
      throw new MedusaError(
        MedusaError.Types.NOT_ALLOWED,
        `Points are already applied to cart ${cart.id}: remove them (DELETE) before applying others`
      )
    }
    if (new BigNumberJS(input.points).lt(redeem.min_points)) {
      throw new MedusaError(MedusaError.Types.INVALID_DATA, `points must be at least ${redeem.min_points}`)
    }
    const value = pointsValue(redeem, cart.currency_code, input.points)
    if (value === null) {
      throw new MedusaError(MedusaError.Types.NOT_ALLOWED, `Points cannot be redeemed in ${cart.currency_code} (no value_per_point for it)`)
    }
    const itemTotal = new BigNumberJS(toDecimalString(cart.item_total) || "0")
    if (new BigNumberJS(value).gt(itemTotal)) {
      throw new MedusaError(
        MedusaError.Types.NOT_ALLOWED,
        `${input.points} points are worth ${value} ${cart.currency_code}, more than the cart's items (${itemTotal.toFixed()})`
      )
    }
    const prepared: Prepared = {
      cart_id: cart.id,
      customer_id: input.customer_id,
      points: input.points,
      value,
      currency_code: cart.currency_code,
      code: "",
      expires_at: new Date(Date.now() + redeem.hold_minutes * 60_000).toISOString(),
      idempotency_key: input.idempotency_key ?? null,
    }
    return new StepResponse(prepared)
  }
)

const holdCartPointsStep = createStep(
  "hold-loyalty-points-for-cart",
  async (input: Prepared, { container }) => {
    const { hold } = await loyaltyOf(container).holdPoints({
      customer_id: input.customer_id,
      points: input.points,
      reference: CART_HOLD_REFERENCE,
      reference_id: input.cart_id,
      expires_at: input.expires_at,
      idempotency_key: input.idempotency_key ? `cart:${input.cart_id}:${input.idempotency_key}` : null,
    })
    return new StepResponse(hold, hold.id)
  },
  async (holdId: string | undefined, { container }) => {
    if (holdId) {
      await loyaltyOf(container).releasePointsHold(holdId)
    }
  }
)

/**
 * A standard promotion of the points' value off the cart's order total (tax
 * inclusive: the total drops by exactly the value), usable only by this cart
 * (a rule on the cart's id), applied through Medusa's own cart promotion
 * workflow, so the cart's totals and every refresh of it keep it.
 */
const createCartPointsPromotionStep = createStep(
  "create-loyalty-points-promotion",
  async (input: { prepared: Prepared; hold: PointsHoldDTO }, { container }) => {
    const promotions = container.resolve<IPromotionModuleService>(Modules.PROMOTION)
    const code = `POINTS-${input.hold.id.toUpperCase()}`
    const [promotion] = await promotions.createPromotions([
      {
        code,
        type: "standard",
        status: "active",
        is_automatic: false,
        is_tax_inclusive: true,
        application_method: {
          type: "fixed",
          target_type: "order",
          allocation: "across",
          // A decimal string: the column is Medusa's bigNumber (exact); the DTO's type says number.
          value: input.prepared.value as unknown as number,
          currency_code: input.prepared.currency_code,
        },
        rules: [{ attribute: "id", operator: "eq", values: [input.prepared.cart_id] }],
      },
    ])
    return new StepResponse({ id: promotion.id, code }, promotion.id)
  },
  async (promotionId: string | undefined, { container }) => {
    if (promotionId) {
      await container.resolve<IPromotionModuleService>(Modules.PROMOTION).deletePromotions([promotionId])
    }
  }
)

/** Fails (and so undoes the workflow) when Medusa did not apply the promotion to the cart. */
const assertPromotionAppliedStep = createStep(
  "assert-loyalty-points-promotion-applied",
  async (input: { cart_id: string; code: string }, { container }) => {
    const cart = await readCart(container, input.cart_id)
    if (!(cart.promotions ?? []).some((p) => p.code === input.code)) {
      throw new MedusaError(MedusaError.Types.NOT_ALLOWED, `The points discount could not be applied to cart ${input.cart_id}`)
    }
    return new StepResponse(true)
  }
)

/**
 * Sets keys of the cart's metadata (the cart module merges metadata; a key set
 * to null reads as absent); the compensation sets each key back to what it was.
 */
const setCartMetadataStep = createStep(
  "set-loyalty-points-cart-metadata",
  async (input: { cart_id: string; patch: Record<string, unknown> }, { container }) => {
    const carts = container.resolve<ICartModuleService>(Modules.CART)
    const [before] = await carts.listCarts({ id: [input.cart_id] }, { select: ["id", "metadata"] })
    const previous: Record<string, unknown> = {}
    for (const key of Object.keys(input.patch)) {
      previous[key] = before?.metadata?.[key] ?? null
    }
    await carts.updateCarts(input.cart_id, { metadata: { ...(before?.metadata ?? {}), ...input.patch } })
    return new StepResponse(true, { cart_id: input.cart_id, patch: previous })
  },
  async (undo: { cart_id: string; patch: Record<string, unknown> } | undefined, { container }) => {
    if (undo) {
      const carts = container.resolve<ICartModuleService>(Modules.CART)
      const [now] = await carts.listCarts({ id: [undo.cart_id] }, { select: ["id", "metadata"] })
      await carts.updateCarts(undo.cart_id, { metadata: { ...(now?.metadata ?? {}), ...undo.patch } })
    }
  }
)

/**
 * POST /store/carts/:id/loyalty-points: holds the points (reference "cart"),
 * creates the cart's points promotion and applies it; every step undoes
 * itself when a later one fails (the hold is released, the promotion deleted).
 */
export const applyLoyaltyPointsToCartWorkflow = createWorkflow(
  "apply-loyalty-points-to-cart",
  (input: ApplyCartPointsInput) => {
    const lockKey = transform({ input }, ({ input }) => `loyalty-points:${input.cart_id}`)
    acquireLockStep({ key: lockKey, timeout: 10, ttl: 30 })
    const prepared = prepareCartPointsStep(input)
    const hold = holdCartPointsStep(prepared)
    const promotion = createCartPointsPromotionStep({ prepared, hold })
    const promoCodes = transform({ promotion }, ({ promotion }) => [promotion.code])
    updateCartPromotionsWorkflow.runAsStep({
      input: { cart_id: input.cart_id, promo_codes: promoCodes, action: PromotionActions.ADD },
    })
    assertPromotionAppliedStep({ cart_id: input.cart_id, code: promotion.code })
    const metadata = transform({ prepared, hold, promotion }, ({ prepared, hold, promotion }) => {
      const applied: CartLoyaltyPoints = {
        points: prepared.points,
        value: prepared.value,
        currency_code: prepared.currency_code,
        customer_id: prepared.customer_id,
        cart_id: prepared.cart_id,
        hold_id: hold.id,
        promotion_id: promotion.id,
        code: promotion.code,
        expires_at: hold.expires_at ? new Date(hold.expires_at).toISOString() : null,
      }
      return { cart_id: prepared.cart_id, patch: { [CART_POINTS_KEY]: applied } }
    })
    setCartMetadataStep(metadata)
    releaseLockStep({ key: lockKey })
    const result = transform({ metadata }, ({ metadata }) => metadata.patch[CART_POINTS_KEY] as CartLoyaltyPoints)
    return new WorkflowResponse(result)
  }
)

// ------------------------------------------------------------ remove

export type RemoveCartPointsInput = { cart_id: string; customer_id: string }

const readAppliedPointsStep = createStep(
  "read-loyalty-points-of-cart",
  async (input: RemoveCartPointsInput, { container }) => {
    const cart = await readCart(container, input.cart_id)
    assertOwnOpenCart(cart, input.customer_id)
    return new StepResponse({ applied: cartPoints(cart.metadata), cart_id: cart.id })
  }
)

const deletePromotionStep = createStep(
  "delete-loyalty-points-promotion",
  async (input: { promotion_id: string }, { container }) => {
    await container.resolve<IPromotionModuleService>(Modules.PROMOTION).softDeletePromotions([input.promotion_id])
    return new StepResponse(true, input.promotion_id)
  },
  async (promotionId: string | undefined, { container }) => {
    if (promotionId) {
      await container.resolve<IPromotionModuleService>(Modules.PROMOTION).restorePromotions([promotionId])
    }
  }
)

/** Releases a hold (a released or expired one comes back unchanged). No compensation: the points stay free. */
export const releaseCartHoldStep = createStep("release-loyalty-points-hold", async (input: { hold_id: string }, { container }) => {
  const hold = await loyaltyOf(container).releasePointsHold(input.hold_id)
  return new StepResponse(hold)
})

/**
 * DELETE /store/carts/:id/loyalty-points: removes the promotion from the
 * cart, deletes it and releases the hold. Without points applied: nothing to do.
 */
export const removeLoyaltyPointsFromCartWorkflow = createWorkflow(
  "remove-loyalty-points-from-cart",
  (input: RemoveCartPointsInput) => {
    const lockKey = transform({ input }, ({ input }) => `loyalty-points:${input.cart_id}`)
    acquireLockStep({ key: lockKey, timeout: 10, ttl: 30 })
    const read = readAppliedPointsStep(input)
    when("loyalty-points-applied", { read }, ({ read }) => !!read.applied).then(() => {
      const codes = transform({ read }, ({ read }) => [read.applied!.code])
      updateCartPromotionsWorkflow.runAsStep({
        input: { cart_id: input.cart_id, promo_codes: codes, action: PromotionActions.REMOVE },
      })
      const promotionId = transform({ read }, ({ read }) => ({ promotion_id: read.applied!.promotion_id }))
      deletePromotionStep(promotionId)
      setCartMetadataStep(transform({ read }, ({ read }) => ({ cart_id: read.cart_id, patch: { [CART_POINTS_KEY]: null } })))
      releaseCartHoldStep(transform({ read }, ({ read }) => ({ hold_id: read.applied!.hold_id })))
    })
    releaseLockStep({ key: lockKey })
    const result = transform({ read }, ({ read }) => read.applied)
    return new WorkflowResponse(result)
  }
)
