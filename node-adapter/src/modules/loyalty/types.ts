import type BigNumberJS from "bignumber.js"
import type { IBigNumber, ModuleJoinerConfig } from "@medusajs/framework/types"
import type { LIST_FILTERS } from "./convert"
import type { PointsProgram } from "./program"

/**
 * The `loyalty` module as apps see it: `container.resolve<ILoyaltyModuleService>("loyalty")`.
 * Medusa's Loyalty Module surface (gift cards, as @medusajs/loyalty-plugin's
 * ILoyaltyModuleService) plus the points ledger, holds and order points.
 *
 * Amounts and points are decimals: they go in as a decimal string, Medusa's
 * BigNumber, a bignumber.js value, a raw `{ value, precision }` or a bigint,
 * and are sent as an exact decimal string (never through a float). They come
 * back as Medusa's DTOs carry them: a `number` for display and sums in Medusa's
 * own code, and the exact decimal string in `raw_*.value`.
 */

/** Medusa's raw BigNumber shape: `{ value: "50", precision: 20 }`; `value` is the exact decimal. */
export type RawValue = { value: string; precision: number }

/**
 * An exact decimal as the adapter takes it: a decimal string ("12.50"),
 * Medusa's BigNumber, bignumber.js, a raw `{ value, precision }` or a bigint.
 * (A JS number is still accepted at run time, written out with every digit
 * JS prints for it, but is not part of the declared type: money is not a float.)
 */
export type DecimalInput = string | bigint | BigNumberJS | IBigNumber | RawValue

/** Medusa's list config, as Query and the plugin's workflows pass it. */
export type ListConfig = {
  skip?: number | null
  take?: number | null
  order?: string | Record<string, string>
  select?: string[]
  relations?: string[]
  withDeleted?: boolean
  [key: string]: unknown
}

export type AdjustPointsInput = {
  customer_id: string
  delta: DecimalInput
  reason?: string | null
  include_history?: boolean
  idempotency_key?: string | null
}

export type AdjustPointsResult = {
  id: string
  customer_id: string
  delta: number
  raw_delta: RawValue
  balance_after: number
  raw_balance_after: RawValue
  updated_at: Date | null
  /** True when the idempotency key matched an earlier request: its result, nothing applied now. */
  replayed: boolean
  history?: PointAdjustmentDTO[]
}

export type PointsBalance = {
  customer_id: string
  balance: number
  raw_balance: RawValue
  /** Points reserved by active, unexpired holds. */
  held: number
  raw_held: RawValue
  /** balance - held: what a hold or a negative adjustment may take. */
  available: number
  raw_available: RawValue
  updated_at: Date | null
  history?: PointAdjustmentDTO[]
}

export type HoldPointsInput = {
  customer_id: string
  points: DecimalInput
  /** What the hold is for ("cart") and its id. */
  reference?: string | null
  reference_id?: string | null
  /** Unset: the server's default (one hour). At most 30 days ahead. */
  expires_at?: Date | string | null
  idempotency_key?: string | null
}

export type HoldPointsResult = {
  hold: PointsHoldDTO
  /** The customer's available points after this hold. */
  available: number
  raw_available: RawValue
  replayed: boolean
}

export type CapturePointsHoldInput = {
  hold_id: string
  /** At most the points held; unset: all of them. */
  points?: DecimalInput | null
  reason?: string | null
}

export type CapturePointsHoldResult = {
  hold: PointsHoldDTO
  /** The ledger debit. */
  adjustment: PointAdjustmentDTO
  /** True when the hold had been captured before: that capture, nothing applied now. */
  replayed: boolean
}

export type ListPointsHoldsConfig = {
  reference_id?: string | null
  active_only?: boolean
  limit?: number
  page_token?: string
}

export type EarnOrderPointsInput = {
  customer_id: string
  order_id: string
  points: DecimalInput
  reason?: string | null
}

export type EarnOrderPointsResult = {
  adjustment: PointAdjustmentDTO
  order: OrderPointsDTO
  /** True when the order had earned before: that result, nothing applied now. */
  replayed: boolean
}

export type ReverseOrderPointsInput = {
  customer_id: string
  order_id: string
  /** Unset: all the order has left (a cancel). */
  points?: DecimalInput | null
  reason?: string | null
  /** Required: names this reversal ("cancel", a refund id). */
  idempotency_key: string
}

export type ReverseOrderPointsResult = {
  /** The points this call took back (0 when nothing was left or available). */
  reversed: number
  raw_reversed: RawValue
  /** The ledger debit; null when nothing was taken back. */
  adjustment: PointAdjustmentDTO | null
  order: OrderPointsDTO
  replayed: boolean
}

export type GiftCardMovementInput = {
  id?: string
  code?: string
  amount: DecimalInput
  currency_code: string
  reference?: string | null
  reference_id?: string | null
  idempotency_key?: string | null
}

export type GiftCardMovementResult = {
  transaction: GiftCardTransactionDTO
  balance: number
  raw_balance: RawValue
  status: "pending" | "redeemed" | null
  /** True when the idempotency key matched an earlier request: its result, nothing applied now. */
  replayed: boolean
}

export type GiftCardDTO = {
  id: string
  code: string
  status: "pending" | "redeemed" | null
  value: number
  raw_value: RawValue
  balance: number
  raw_balance: RawValue
  currency_code: string
  customer_id: string | null
  reference_id: string | null
  reference: string | null
  line_item_id: string | null
  note: string | null
  expires_at: Date | null
  metadata: Record<string, unknown> | null
  created_at: Date | null
  updated_at: Date | null
  deleted_at: Date | null
}

export type GiftCardTransactionDTO = {
  id: string
  gift_card_id: string
  type: "debit" | "credit" | null
  amount: number
  raw_amount: RawValue
  currency_code: string
  balance_after: number
  raw_balance_after: RawValue
  reference: string
  reference_id: string
  created_at: Date | null
}

export type PointAdjustmentDTO = {
  id: string
  customer_id: string
  delta: number
  raw_delta: RawValue
  reason: string
  balance_after: number
  raw_balance_after: RawValue
  created_at: Date | null
}

/** Points reserved for a purpose (a cart) until captured, released or expired. */
export type PointsHoldDTO = {
  id: string
  customer_id: string
  points: number
  raw_points: RawValue
  status: PointsHoldStatus | null
  reference: string | null
  reference_id: string | null
  expires_at: Date | null
  /** Once captured: the points spent and the ledger debit; else 0 and null. */
  captured_points: number
  raw_captured_points: RawValue
  adjustment_id: string | null
  created_at: Date | null
  updated_at: Date | null
}

export type PointsHoldStatus = "active" | "captured" | "released" | "expired"

/** What one order earned for its customer and what was taken back of it. */
export type OrderPointsDTO = {
  customer_id: string
  order_id: string
  earned: number
  raw_earned: RawValue
  reversed: number
  raw_reversed: RawValue
  created_at: Date | null
  updated_at: Date | null
}

export type GiftCardStatus = "pending" | "redeemed"

/** createGiftCards input (the plugin's CreateGiftCardDTO): a code is generated by the server when none is given. */
export type CreateGiftCardInput = {
  code?: string | null
  value: DecimalInput
  currency_code: string
  status?: GiftCardStatus | null
  customer_id?: string | null
  reference_id?: string | null
  reference?: string | null
  line_item_id?: string | null
  note?: string | null
  expires_at?: Date | string | null
  metadata?: Record<string, unknown> | null
}

/**
 * updateGiftCards input: `id` plus the fields to change. Every key passed goes
 * into update_mask; `null` clears the field; keys the server cannot update are
 * refused there (invalid_data).
 */
export type UpdateGiftCardInput = {
  id: string
  value?: DecimalInput | null
  status?: GiftCardStatus | null
  note?: string | null
  currency_code?: string | null
  expires_at?: Date | string | null
  customer_id?: string | null
  metadata?: Record<string, unknown> | null
  reference_id?: string | null
  reference?: string | null
  line_item_id?: string | null
  [key: string]: unknown
}

/**
 * The filters listGiftCards accepts: the fields of LIST_FILTERS (convert.ts,
 * where they are stated once), each a value, a list or `{ $in }` / `{ $eq }`; and `q`.
 */
export type GiftCardFilters = Omit<ListFilters<typeof LIST_FILTERS>, "status"> & {
  status?: FilterValue<GiftCardStatus>
  q?: string
  /** Medusa passes its context along; ignored. */
  context?: unknown
}

/** One optional FilterValue per field name of a list's filters. */
export type ListFilters<Fields extends readonly string[]> = { [K in Fields[number]]?: FilterValue }

/** One filter's value as Medusa passes it. */
export type FilterValue<T extends string = string> = T | T[] | { $in?: T[]; $eq?: T | T[] }

/** Ids as Medusa's delete/softDelete/restore methods take them: one, many, or `{ id }` selectors. */
export type IdsInput = string | string[] | { id: string | string[] } | { id: string }[]

/** A page of a ledger read (limit, page_token). */
export type PageConfig = { limit?: number; page_token?: string }

export type GiftCardTransactionsPage = { gift_card_transactions: GiftCardTransactionDTO[]; next_page_token: string }
export type PointAdjustmentsPage = { point_adjustments: PointAdjustmentDTO[]; next_page_token: string }
export type PointsHoldsPage = { points_holds: PointsHoldDTO[]; next_page_token: string }

/** The server's gift card code settings, in the shape of the plugin's options. */
export type GiftCardOptions = { prefix: string; sections: number }

export interface ILoyaltyModuleService {
  /** The address the service dials (for logs and error messages). */
  readonly address: string
  /** The points program (earning rules, redemption) from the module's options, validated. */
  getPointsProgram(): PointsProgram
  __joinerConfig(): ModuleJoinerConfig

  // gift cards
  createGiftCards(data: CreateGiftCardInput[], sharedContext?: unknown): Promise<GiftCardDTO[]>
  createGiftCards(data: CreateGiftCardInput, sharedContext?: unknown): Promise<GiftCardDTO>
  updateGiftCards(data: UpdateGiftCardInput[], sharedContext?: unknown): Promise<GiftCardDTO[]>
  updateGiftCards(data: UpdateGiftCardInput, sharedContext?: unknown): Promise<GiftCardDTO>
  retrieveGiftCard(id: string, config?: ListConfig): Promise<GiftCardDTO>
  listGiftCards(filters?: GiftCardFilters, config?: ListConfig): Promise<GiftCardDTO[]>
  listAndCountGiftCards(filters?: GiftCardFilters, config?: ListConfig): Promise<[GiftCardDTO[], number]>
  deleteGiftCards(ids: IdsInput): Promise<void>
  softDeleteGiftCards(ids: IdsInput): Promise<Record<string, string[]> | void>
  restoreGiftCards(ids: IdsInput): Promise<Record<string, string[]> | void>
  getOptions(): Promise<GiftCardOptions>
  debitGiftCard(input: GiftCardMovementInput): Promise<GiftCardMovementResult>
  creditGiftCard(input: GiftCardMovementInput): Promise<GiftCardMovementResult>
  listGiftCardTransactions(giftCardId: string, config?: PageConfig): Promise<GiftCardTransactionsPage>

  // points
  adjustPoints(input: AdjustPointsInput): Promise<AdjustPointsResult>
  getPointsBalance(customerId: string, config?: { include_history?: boolean }): Promise<PointsBalance>
  retrievePointsBalance(customerId: string, config?: { include_history?: boolean }): Promise<PointsBalance>
  listPointAdjustments(customerId: string, config?: PageConfig): Promise<PointAdjustmentsPage>

  // points holds
  holdPoints(input: HoldPointsInput): Promise<HoldPointsResult>
  capturePointsHold(input: CapturePointsHoldInput): Promise<CapturePointsHoldResult>
  releasePointsHold(holdId: string): Promise<PointsHoldDTO>
  retrievePointsHold(holdId: string): Promise<PointsHoldDTO>
  listPointsHolds(customerId: string, config?: ListPointsHoldsConfig): Promise<PointsHoldsPage>

  // order points
  earnOrderPoints(input: EarnOrderPointsInput): Promise<EarnOrderPointsResult>
  reverseOrderPoints(input: ReverseOrderPointsInput): Promise<ReverseOrderPointsResult>
  retrieveOrderPoints(customerId: string, orderId: string): Promise<OrderPointsDTO>
}
