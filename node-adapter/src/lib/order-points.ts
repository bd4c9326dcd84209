import BigNumberJS from "bignumber.js"
import type { Logger, MedusaContainer } from "@medusajs/framework/types"
import { ContainerRegistrationKeys, MedusaError } from "@medusajs/framework/utils"
import { LOYALTY_MODULE } from "../modules/loyalty/joiner"
import type { ILoyaltyModuleService } from "../modules/loyalty/types"
import { computeEarnedPoints, refundShares, type EarnableLine } from "../modules/loyalty/program"
import { CART_HOLD_REFERENCE, cartPoints } from "../workflows/cart-points"

/**
 * What the plugin's subscribers do with Medusa's order events, as plain
 * functions of the container (so a test or an app's own subscriber can call
 * them too). Every write is idempotent in the loyalty service: a redelivered
 * event changes nothing twice.
 */

type OrderRow = {
  id: string
  display_id?: number | null
  customer_id: string | null
  currency_code: string
  total: unknown
  metadata: Record<string, unknown> | null
  customer?: { id: string; has_account?: boolean | null } | null
  items?: (EarnableLine & { id: string; adjustments?: { code?: string | null }[] | null })[] | null
  shipping_methods?: EarnableLine[] | null
}

const ORDER_FIELDS = [
  "id",
  "display_id",
  "customer_id",
  "currency_code",
  "total",
  "metadata",
  "customer.id",
  "customer.has_account",
  "items.id",
  "items.is_giftcard",
  "items.subtotal",
  "items.discount_subtotal",
  "items.tax_total",
  "items.adjustments.code",
  "shipping_methods.id",
  "shipping_methods.subtotal",
  "shipping_methods.discount_subtotal",
  "shipping_methods.tax_total",
]

function loyaltyOf(container: MedusaContainer): ILoyaltyModuleService {
  return container.resolve<ILoyaltyModuleService>(LOYALTY_MODULE)
}

function loggerOf(container: MedusaContainer): Logger {
  return container.resolve<Logger>(ContainerRegistrationKeys.LOGGER)
}

function isNotFound(e: unknown): boolean {
  return MedusaError.isMedusaError(e as Error) && (e as MedusaError).type === MedusaError.Types.NOT_FOUND
}

export async function readOrder(container: MedusaContainer, orderId: string): Promise<OrderRow | null> {
  const query = container.resolve(ContainerRegistrationKeys.QUERY)
  const { data } = await query.graph({ entity: "order", fields: ORDER_FIELDS, filters: { id: orderId } })
  return (data?.[0] as OrderRow | undefined) ?? null
}

function label(order: OrderRow): string {
  return order.display_id ? `Order #${order.display_id}` : `Order ${order.id}`
}

export type CaptureOutcome = { captured: string; hold_id: string | null; replayed: boolean; fallback: boolean } | null

/**
 * Spends the points a completed cart applied: captures the cart's hold
 * (exactly once: a second capture replays the first). When that hold is no
 * longer active although the order carries the points discount (it expired
 * between completion and this event), the points are debited from the
 * customer's available points instead, keyed by the order.
 */
export async function captureOrderPoints(container: MedusaContainer, order: OrderRow): Promise<CaptureOutcome> {
  const applied = cartPoints(order.metadata)
  if (!applied) {
    return null
  }
  const loyalty = loyaltyOf(container)
  const { points_holds } = await loyalty.listPointsHolds(applied.customer_id, { reference_id: applied.cart_id, limit: 50 })
  const holds = points_holds.filter((h) => h.reference === CART_HOLD_REFERENCE)
  const captured = holds.find((h) => h.status === "captured")
  if (captured) {
    return { captured: captured.raw_captured_points.value, hold_id: captured.id, replayed: true, fallback: false }
  }
  const active = holds.find((h) => h.status === "active")
  if (active) {
    const res = await loyalty.capturePointsHold({ hold_id: active.id, reason: `${label(order)}: points redeemed` })
    return { captured: res.hold.raw_captured_points.value, hold_id: active.id, replayed: res.replayed, fallback: false }
  }
  const discounted = (order.items ?? []).some((i) => (i.adjustments ?? []).some((a) => a.code === applied.code))
  if (!discounted) {
    return null
  }
  loggerOf(container).warn(
    `medusa-loyalty-grpc: ${label(order)} has the points discount ${applied.code} but no active hold; debiting ${applied.points} points`
  )
  const res = await loyalty.adjustPoints({
    customer_id: applied.customer_id,
    delta: `-${applied.points}`,
    reason: `${label(order)}: points redeemed`,
    idempotency_key: `order:${order.id}:redeemed`,
  })
  return { captured: applied.points, hold_id: null, replayed: res.replayed, fallback: true }
}

export type EarnOutcome = { points: string; base: string; replayed: boolean } | null

/** Awards the order's points by the earning rule (once per order: the service keys it by order id). */
export async function earnPointsForOrder(container: MedusaContainer, order: OrderRow): Promise<EarnOutcome> {
  const earn = loyaltyOf(container).getPointsProgram().earn
  if (!earn || !order.customer_id) {
    return null
  }
  if (earn.registered_only && !order.customer?.has_account) {
    return null
  }
  const computed = computeEarnedPoints(earn, order)
  if (new BigNumberJS(computed.points).lte(0)) {
    return null
  }
  const res = await loyaltyOf(container).earnOrderPoints({
    customer_id: order.customer_id,
    order_id: order.id,
    points: computed.points,
    reason: `${label(order)}: earned on ${computed.base} ${order.currency_code}`,
  })
  return { points: res.order.raw_earned.value, base: computed.base, replayed: res.replayed }
}

/** order.placed: spend the points the cart applied, then earn the order's points. */
export async function handleOrderPlaced(container: MedusaContainer, orderId: string) {
  const order = await readOrder(container, orderId)
  if (!order) {
    return { capture: null, earn: null }
  }
  // Spend first, then earn (the ledger reads in that order); both are tried even
  // when the first fails, whose error is then rethrown (the event bus logs it).
  let failure: unknown = null
  let capture: CaptureOutcome = null
  let earn: EarnOutcome = null
  try {
    capture = await captureOrderPoints(container, order)
  } catch (e) {
    failure = e
  }
  try {
    earn = await earnPointsForOrder(container, order)
  } catch (e) {
    failure = failure ?? e
  }
  if (failure) {
    throw failure
  }
  return { capture, earn }
}

/**
 * order.canceled: gives back the points the order spent (its captured hold,
 * keyed by the hold), then takes back all the order earned and has left
 * (key "cancel"; the service clamps to what is left and available).
 */
export async function handleOrderCanceled(container: MedusaContainer, orderId: string) {
  const order = await readOrder(container, orderId)
  if (!order?.customer_id) {
    return { restored: null, reversed: null }
  }
  const loyalty = loyaltyOf(container)
  let restored: string | null = null
  const applied = cartPoints(order.metadata)
  if (applied) {
    const { points_holds } = await loyalty.listPointsHolds(applied.customer_id, { reference_id: applied.cart_id, limit: 50 })
    const captured = points_holds.find((h) => h.status === "captured")
    if (captured && new BigNumberJS(captured.raw_captured_points.value).gt(0)) {
      await loyalty.adjustPoints({
        customer_id: applied.customer_id,
        delta: captured.raw_captured_points.value,
        reason: `${label(order)} canceled: redeemed points returned`,
        idempotency_key: `restore:${captured.id}`,
      })
      restored = captured.raw_captured_points.value
    }
  }
  let reversed: string | null = null
  try {
    const res = await loyalty.reverseOrderPoints({
      customer_id: order.customer_id,
      order_id: order.id,
      reason: `${label(order)} canceled`,
      idempotency_key: "cancel",
    })
    reversed = res.raw_reversed.value
  } catch (e) {
    if (!isNotFound(e)) {
      throw e
    }
  }
  return { restored, reversed }
}

/**
 * payment.refunded ({ id } of the payment): each refund of the payment takes
 * back its share of what the order earned (earned x refunded / amount paid,
 * on the running sum of the refunds), keyed by the refund's id, so the
 * refunds seen before replay and only the new one takes points.
 */
export async function handlePaymentRefunded(container: MedusaContainer, paymentId: string) {
  const query = container.resolve(ContainerRegistrationKeys.QUERY)
  const { data: payments } = await query.graph({
    entity: "payment",
    fields: ["id", "payment_collection_id", "payment_collection.amount", "refunds.id", "refunds.amount", "refunds.created_at"],
    filters: { id: paymentId },
  })
  const payment = payments?.[0] as
    | {
        id: string
        payment_collection_id: string
        payment_collection?: { amount: unknown } | null
        refunds?: { id: string; amount: unknown; created_at: unknown }[]
      }
    | undefined
  if (!payment?.refunds?.length) {
    return []
  }
  const { data: links } = await query.graph({
    entity: "order_payment_collection",
    fields: ["order_id"],
    filters: { payment_collection_id: payment.payment_collection_id },
  })
  const orderId = (links?.[0] as { order_id?: string } | undefined)?.order_id
  const order = orderId ? await readOrder(container, orderId) : null
  const earn = loyaltyOf(container).getPointsProgram().earn
  if (!order?.customer_id || !earn) {
    return []
  }
  const loyalty = loyaltyOf(container)
  let earned: string
  try {
    earned = (await loyalty.retrieveOrderPoints(order.customer_id, order.id)).raw_earned.value
  } catch (e) {
    if (isNotFound(e)) {
      return []
    }
    throw e
  }
  // The share is of what was paid: the payment collection's amount (the order's
  // total shrinks by each refund, as Medusa adds a refund credit line to it).
  const paid = payment.payment_collection?.amount ?? order.total
  const shares = refundShares(earned, paid, payment.refunds, earn.rounding)
  const out: { refund_id: string; share: string; reversed: string; replayed: boolean }[] = []
  for (const [refundId, share] of shares) {
    if (new BigNumberJS(share).lte(0)) {
      continue
    }
    const res = await loyalty.reverseOrderPoints({
      customer_id: order.customer_id,
      order_id: order.id,
      points: share,
      reason: `${label(order)}: refund ${refundId}`,
      idempotency_key: `refund:${refundId}`,
    })
    out.push({ refund_id: refundId, share, reversed: res.raw_reversed.value, replayed: res.replayed })
  }
  return out
}
