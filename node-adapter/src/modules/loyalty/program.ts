import BigNumberJS from "bignumber.js"
import { MedusaError } from "@medusajs/framework/utils"
import { toDecimalString } from "./convert"

/**
 * The points program of the plugin's options (`points`): how orders earn and
 * what a point is worth at checkout. Amounts are decimal strings (or numbers)
 * and every computation is done in decimal (bignumber.js), never in floats.
 *
 * ```ts
 * points: {
 *   earn: {
 *     per_unit: { usd: "1", eur: "1" }, // points per 1 unit of the currency
 *     rounding: "floor",                // "floor" | "round" | "ceil" (to whole points)
 *     include_gift_cards: false,        // gift card items earn
 *     include_shipping: false,          // shipping (after its discounts) earns
 *     include_tax: false,               // tax earns
 *     registered_only: true,            // guest orders (customers without an account) earn nothing
 *   },
 *   redeem: {
 *     value_per_point: { usd: "0.01" }, // a point's value in the cart's currency
 *     hold_minutes: 60,                 // how long points applied to a cart stay held
 *     min_points: 1,                    // the fewest points a cart may apply
 *   },
 * }
 * ```
 */
export type Rounding = "floor" | "round" | "ceil"

export type PointsProgramOptions = {
  earn?: {
    per_unit?: Record<string, number | string>
    rounding?: Rounding
    include_gift_cards?: boolean
    include_shipping?: boolean
    include_tax?: boolean
    registered_only?: boolean
  } | null
  redeem?: {
    value_per_point?: Record<string, number | string>
    hold_minutes?: number
    min_points?: number | string
  } | null
}

export type EarnRules = {
  per_unit: Record<string, string>
  rounding: Rounding
  include_gift_cards: boolean
  include_shipping: boolean
  include_tax: boolean
  registered_only: boolean
}

export type RedeemRules = {
  value_per_point: Record<string, string>
  hold_minutes: number
  min_points: string
}

/** The validated program: `earn` / `redeem` are null when not configured (that part is off). */
export type PointsProgram = {
  earn: EarnRules | null
  redeem: RedeemRules | null
}

export const DEFAULT_HOLD_MINUTES = 60
/** The server refuses holds more than 30 days ahead. */
export const MAX_HOLD_MINUTES = 30 * 24 * 60

function bad(message: string): MedusaError {
  return new MedusaError(MedusaError.Types.INVALID_DATA, `medusa-loyalty-grpc options: ${message}`)
}

function positiveDecimal(value: unknown, what: string, allowZero = false): string {
  const text = toDecimalString(value)
  const n = new BigNumberJS(text)
  if (typeof value !== "number" && typeof value !== "string") {
    throw bad(`${what} must be a decimal string or a number, got ${JSON.stringify(value)}`)
  }
  if (!n.isFinite() || (allowZero ? n.isNegative() : !n.isPositive() || n.isZero())) {
    throw bad(`${what} must be a ${allowZero ? "non-negative" : "positive"} decimal, got ${JSON.stringify(value)}`)
  }
  return n.toFixed()
}

function perCurrency(map: unknown, what: string): Record<string, string> {
  if (!map || typeof map !== "object" || Array.isArray(map)) {
    throw bad(`${what} must be an object of currency code -> decimal, e.g. { usd: "1" }`)
  }
  const out: Record<string, string> = {}
  for (const [code, value] of Object.entries(map as Record<string, unknown>)) {
    if (!/^[a-zA-Z]{3}$/.test(code)) {
      throw bad(`${what}: "${code}" is not a currency code`)
    }
    out[code.toLowerCase()] = positiveDecimal(value, `${what}.${code}`)
  }
  if (!Object.keys(out).length) {
    throw bad(`${what} names no currency`)
  }
  return out
}

/** Validates the `points` options (throws invalid_data naming the bad field). */
export function resolvePointsProgram(options: PointsProgramOptions | null | undefined): PointsProgram {
  const program: PointsProgram = { earn: null, redeem: null }
  if (!options) {
    return program
  }
  if (typeof options !== "object") {
    throw bad("points must be an object")
  }
  if (options.earn) {
    const e = options.earn
    const rounding = e.rounding ?? "floor"
    if (!["floor", "round", "ceil"].includes(rounding)) {
      throw bad(`points.earn.rounding must be "floor", "round" or "ceil", got ${JSON.stringify(rounding)}`)
    }
    program.earn = {
      per_unit: perCurrency(e.per_unit, "points.earn.per_unit"),
      rounding,
      include_gift_cards: !!e.include_gift_cards,
      include_shipping: !!e.include_shipping,
      include_tax: !!e.include_tax,
      registered_only: e.registered_only ?? true,
    }
  }
  if (options.redeem) {
    const r = options.redeem
    const minutes = r.hold_minutes ?? DEFAULT_HOLD_MINUTES
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_HOLD_MINUTES) {
      throw bad(`points.redeem.hold_minutes must be a whole number of minutes from 1 to ${MAX_HOLD_MINUTES}, got ${JSON.stringify(minutes)}`)
    }
    program.redeem = {
      value_per_point: perCurrency(r.value_per_point, "points.redeem.value_per_point"),
      hold_minutes: minutes,
      min_points: positiveDecimal(r.min_points ?? 1, "points.redeem.min_points"),
    }
  }
  return program
}

const ROUNDING: Record<Rounding, BigNumberJS.RoundingMode> = {
  floor: BigNumberJS.ROUND_FLOOR,
  round: BigNumberJS.ROUND_HALF_UP,
  ceil: BigNumberJS.ROUND_CEIL,
}

/** A decimal to whole points by the rule's rounding. */
export function roundPoints(value: BigNumberJS.Value, rounding: Rounding): string {
  return new BigNumberJS(value).decimalPlaces(0, ROUNDING[rounding]).toFixed()
}

function dec(value: unknown): BigNumberJS {
  const text = toDecimalString(value)
  const n = new BigNumberJS(text === "" ? "0" : text)
  return n.isFinite() ? n : new BigNumberJS(0)
}

/** The parts of an order (or cart) line the earning rule reads; amounts as Medusa gives them. */
export type EarnableLine = {
  is_giftcard?: boolean | null
  subtotal?: unknown
  discount_subtotal?: unknown
  tax_total?: unknown
}

export type EarnableOrder = {
  currency_code: string
  items?: EarnableLine[] | null
  shipping_methods?: EarnableLine[] | null
}

export type EarnComputation = {
  /** Whole points to award ("0": nothing). */
  points: string
  /** The amount that earned (in the order's currency), as a decimal string. */
  base: string
  /** Points per unit used (null: the currency earns nothing). */
  per_unit: string | null
}

/**
 * Points an order earns: per_unit[currency] x the lines' amount after their
 * discounts (points redeemed on the order are such a discount, so spent points
 * earn nothing), without tax unless include_tax, items only unless
 * include_shipping, gift cards only with include_gift_cards; rounded to whole points.
 */
export function computeEarnedPoints(rules: EarnRules, order: EarnableOrder): EarnComputation {
  const perUnit = rules.per_unit[String(order.currency_code ?? "").toLowerCase()]
  let base = new BigNumberJS(0)
  const add = (line: EarnableLine) => {
    let amount = dec(line.subtotal).minus(dec(line.discount_subtotal))
    if (rules.include_tax) {
      amount = amount.plus(dec(line.tax_total))
    }
    if (amount.isPositive()) {
      base = base.plus(amount)
    }
  }
  for (const item of order.items ?? []) {
    if (item.is_giftcard && !rules.include_gift_cards) {
      continue
    }
    add(item)
  }
  if (rules.include_shipping) {
    for (const method of order.shipping_methods ?? []) {
      add(method)
    }
  }
  if (!perUnit) {
    return { points: "0", base: base.toFixed(), per_unit: null }
  }
  return { points: roundPoints(base.times(perUnit), rules.rounding), base: base.toFixed(), per_unit: perUnit }
}

/** The value of `points` in a currency (null when that currency cannot redeem). */
export function pointsValue(rules: RedeemRules, currencyCode: string, points: BigNumberJS.Value): string | null {
  const perPoint = rules.value_per_point[String(currencyCode ?? "").toLowerCase()]
  if (!perPoint) {
    return null
  }
  return new BigNumberJS(points).times(perPoint).toFixed()
}

export type RefundLike = { id: string; amount: unknown; created_at?: unknown }

/**
 * Each refund's share of the points an order earned: earned x refunded / total,
 * computed on the running sum of refunds (oldest first) so that the shares of
 * many partial refunds add up to exactly the share of their sum (a full refund
 * in parts takes back all the order earned). Rounded by the earning rule.
 */
export function refundShares(
  earned: BigNumberJS.Value,
  orderTotal: unknown,
  refunds: RefundLike[],
  rounding: Rounding
): Map<string, string> {
  const out = new Map<string, string>()
  const total = dec(orderTotal)
  const points = new BigNumberJS(earned)
  if (!total.isPositive() || total.isZero() || !points.isPositive()) {
    return out
  }
  const sorted = [...refunds].sort((a, b) => {
    const ta = new Date(String(a.created_at ?? 0)).getTime() || 0
    const tb = new Date(String(b.created_at ?? 0)).getTime() || 0
    return ta - tb || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  })
  let running = new BigNumberJS(0)
  let taken = new BigNumberJS(0)
  for (const refund of sorted) {
    running = BigNumberJS.min(total, running.plus(dec(refund.amount)))
    const due = new BigNumberJS(roundPoints(points.times(running).div(total), rounding))
    const share = BigNumberJS.max(0, due.minus(taken))
    taken = taken.plus(share)
    out.set(refund.id, share.toFixed())
  }
  return out
}
