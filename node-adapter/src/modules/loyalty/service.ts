import { MedusaError } from "@medusajs/framework/utils"
import type { ModuleJoinerConfig } from "@medusajs/framework/types"
import { LoyaltyGrpcClient, type LoyaltyGrpcOptions } from "./client"
import {
  adjustmentFromProto,
  createGiftCardToProto,
  filterValues,
  fromProtoStatus,
  fromTimestamp,
  giftCardFromProto,
  holdFromProto,
  LIST_FILTERS,
  matchesNothing,
  orderPointsFromProto,
  toDecimalString,
  toNumber,
  pagingToProto,
  toProtoStatus,
  toRaw,
  toTimestamp,
  transactionFromProto,
  updateGiftCardToProto,
  type GiftCardDTO,
  type GiftCardTransactionDTO,
  type OrderPointsDTO,
  type PointAdjustmentDTO,
  type PointsHoldDTO,
  type RawValue,
} from "./convert"
import { joinerConfig } from "./joiner"
import { resolvePointsProgram, type PointsProgram, type PointsProgramOptions } from "./program"

export type LoyaltyModuleOptions = LoyaltyGrpcOptions & {
  /** The points program: earning rules and redemption (see program.ts and the README). */
  points?: PointsProgramOptions
}

/** A number, a decimal string or a BigNumber (anything whose toString() is the decimal). */
export type DecimalInput = number | string | { toString(): string }

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
  delta: number | string | { toString(): string }
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
  amount: number | string | { toString(): string }
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

/** Server maximum for `take` (ListGiftCardsRequest). */
export const MAX_TAKE = 1000

export function invalid(message: string): MedusaError {
  return new MedusaError(MedusaError.Types.INVALID_DATA, message)
}

/** Runs a conversion; its TypeError becomes a MedusaError (never a plain Error). */
export function convert<T>(fn: () => T): T {
  try {
    return fn()
  } catch (e) {
    if (MedusaError.isMedusaError(e as any)) {
      throw e
    }
    throw invalid((e as Error).message)
  }
}

export function asArray<T>(value: T | T[]): T[] {
  return Array.isArray(value) ? value : [value]
}

function idsOf(ids: string | string[] | { id: string } | { id: string }[]): string[] {
  return asArray(ids as any).map((x: any) => (typeof x === "string" ? x : x?.id))
}

/**
 * The `loyalty` module service: Medusa's Loyalty Module surface
 * (ILoyaltyModuleService of @medusajs/loyalty-plugin) plus the points ledger,
 * every method one gRPC call to loyalty.v1.LoyaltyService.
 */
export default class LoyaltyModuleService {
  protected readonly options_: LoyaltyModuleOptions
  protected readonly grpc_: LoyaltyGrpcClient

  /** Medusa's module lifecycle hooks: close the channel on shutdown. */
  __hooks = {
    onApplicationShutdown: async () => {
      this.grpc_.close()
    },
  }

  protected readonly program_: PointsProgram

  constructor(_deps: Record<string, unknown> = {}, options: LoyaltyModuleOptions = {}) {
    this.options_ = options ?? {}
    this.grpc_ = new LoyaltyGrpcClient(this.options_)
    // Checked at boot: a malformed points program stops the app with a clear message.
    this.program_ = resolvePointsProgram(this.options_.points)
  }

  /** The points program (earning rules, redemption) from the module's options, validated. */
  getPointsProgram(): PointsProgram {
    return this.program_
  }

  __joinerConfig(): ModuleJoinerConfig {
    return joinerConfig
  }

  /** The address this service dials (for logs and error messages). */
  get address(): string {
    return this.grpc_.address
  }

  // ------------------------------------------------------------ gift cards

  createGiftCards(data: Record<string, any>[], sharedContext?: unknown): Promise<GiftCardDTO[]>
  createGiftCards(data: Record<string, any>, sharedContext?: unknown): Promise<GiftCardDTO>
  async createGiftCards(data: Record<string, any> | Record<string, any>[]): Promise<GiftCardDTO | GiftCardDTO[]> {
    return this.writeGiftCards_("CreateGiftCards", createGiftCardToProto, data)
  }

  updateGiftCards(data: Record<string, any>[], sharedContext?: unknown): Promise<GiftCardDTO[]>
  updateGiftCards(data: Record<string, any>, sharedContext?: unknown): Promise<GiftCardDTO>
  async updateGiftCards(data: Record<string, any> | Record<string, any>[]): Promise<GiftCardDTO | GiftCardDTO[]> {
    return this.writeGiftCards_("UpdateGiftCards", updateGiftCardToProto, data)
  }

  async retrieveGiftCard(id: string, config: ListConfig = {}): Promise<GiftCardDTO> {
    const res = await this.grpc_.call("RetrieveGiftCard", { id: id ?? "" })
    return project(giftCardFromProto(res), config.select)
  }

  async listGiftCards(filters: Record<string, any> = {}, config: ListConfig = {}): Promise<GiftCardDTO[]> {
    const [cards] = await this.list_(filters, config, false)
    return cards
  }

  async listAndCountGiftCards(
    filters: Record<string, any> = {},
    config: ListConfig = {}
  ): Promise<[GiftCardDTO[], number]> {
    return this.list_(filters, config, true)
  }

  async deleteGiftCards(ids: string | string[]): Promise<void> {
    const list = idsOf(ids)
    if (!list.length) {
      return
    }
    await this.grpc_.call("DeleteGiftCards", { ids: list })
  }

  async softDeleteGiftCards(ids: string | string[]): Promise<Record<string, string[]> | void> {
    return this.toggleDeleted_("SoftDeleteGiftCards", ids)
  }

  async restoreGiftCards(ids: string | string[]): Promise<Record<string, string[]> | void> {
    return this.toggleDeleted_("RestoreGiftCards", ids)
  }

  /** The server's code settings, in the shape of the plugin's options. */
  async getOptions(): Promise<{ prefix: string; sections: number }> {
    const res = await this.grpc_.call("GetOptions", {})
    return { prefix: res.prefix, sections: res.sections }
  }

  async debitGiftCard(input: GiftCardMovementInput): Promise<GiftCardMovementResult> {
    return this.movement_("DebitGiftCard", input)
  }

  async creditGiftCard(input: GiftCardMovementInput): Promise<GiftCardMovementResult> {
    return this.movement_("CreditGiftCard", input)
  }

  async listGiftCardTransactions(
    giftCardId: string,
    config: { limit?: number; page_token?: string } = {}
  ): Promise<{ gift_card_transactions: GiftCardTransactionDTO[]; next_page_token: string }> {
    const res = await this.grpc_.call("ListGiftCardTransactions", {
      gift_card_id: giftCardId ?? "",
      page_size: config.limit ?? 0,
      page_token: config.page_token ?? "",
    })
    return {
      gift_card_transactions: (res.gift_card_transactions ?? []).map(transactionFromProto),
      next_page_token: res.next_page_token ?? "",
    }
  }

  // ------------------------------------------------------------ points

  async adjustPoints(input: AdjustPointsInput): Promise<AdjustPointsResult> {
    const delta = toDecimalString(input?.delta)
    const res = await this.grpc_.call("AdjustPoints", {
      customer_id: input?.customer_id ?? "",
      delta,
      reason: input?.reason ?? "",
      include_history: !!input?.include_history,
      idempotency_key: input?.idempotency_key ?? "",
    })
    const out: AdjustPointsResult = {
      id: res.id,
      customer_id: res.customer_id,
      delta: toNumber(delta),
      raw_delta: toRaw(delta),
      balance_after: toNumber(res.balance_after),
      raw_balance_after: toRaw(res.balance_after),
      updated_at: fromTimestamp(res.updated_at),
      replayed: !!res.replayed,
    }
    if (input?.include_history) {
      out.history = (res.history ?? []).map(adjustmentFromProto)
    }
    return out
  }

  async getPointsBalance(customerId: string, config: { include_history?: boolean } = {}): Promise<PointsBalance> {
    const res = await this.grpc_.call("GetPointsBalance", {
      customer_id: customerId ?? "",
      include_history: !!config.include_history,
    })
    const out: PointsBalance = {
      customer_id: res.customer_id,
      balance: toNumber(res.balance),
      raw_balance: toRaw(res.balance),
      held: toNumber(res.held),
      raw_held: toRaw(res.held),
      // A server from before holds sends no `available`: then all of the balance is.
      available: toNumber(res.available || res.balance),
      raw_available: toRaw(res.available || res.balance),
      updated_at: fromTimestamp(res.updated_at),
    }
    if (config.include_history) {
      out.history = (res.history ?? []).map(adjustmentFromProto)
    }
    return out
  }

  async listPointAdjustments(
    customerId: string,
    config: { limit?: number; page_token?: string } = {}
  ): Promise<{ point_adjustments: PointAdjustmentDTO[]; next_page_token: string }> {
    const res = await this.grpc_.call("ListPointAdjustments", {
      customer_id: customerId ?? "",
      page_size: config.limit ?? 0,
      page_token: config.page_token ?? "",
    })
    return {
      point_adjustments: (res.point_adjustments ?? []).map(adjustmentFromProto),
      next_page_token: res.next_page_token ?? "",
    }
  }

  /** Same as getPointsBalance (Medusa's retrieve* naming): balance, held, available. */
  async retrievePointsBalance(customerId: string, config: { include_history?: boolean } = {}): Promise<PointsBalance> {
    return this.getPointsBalance(customerId, config)
  }

  // ------------------------------------------------------------ points holds

  /** Reserves points (refused, not_allowed, when fewer are available). */
  async holdPoints(input: HoldPointsInput): Promise<HoldPointsResult> {
    const request = convert(() => ({
      customer_id: input?.customer_id ?? "",
      points: toDecimalString(input?.points),
      reference: input?.reference ?? "",
      reference_id: input?.reference_id ?? "",
      expires_at: toTimestamp(input?.expires_at),
      idempotency_key: input?.idempotency_key ?? "",
    }))
    const res = await this.grpc_.call("HoldPoints", request)
    return {
      hold: holdFromProto(res.hold ?? {}),
      available: toNumber(res.available),
      raw_available: toRaw(res.available),
      replayed: !!res.replayed,
    }
  }

  /** Spends held points: one ledger debit, exactly once (a second capture replays the first). */
  async capturePointsHold(input: CapturePointsHoldInput): Promise<CapturePointsHoldResult> {
    const res = await this.grpc_.call("CapturePointsHold", {
      hold_id: input?.hold_id ?? "",
      points: toDecimalString(input?.points),
      reason: input?.reason ?? "",
    })
    return {
      hold: holdFromProto(res.hold ?? {}),
      adjustment: adjustmentFromProto(res.adjustment ?? {}),
      replayed: !!res.replayed,
    }
  }

  /** Gives held points back; a released or expired hold comes back unchanged, a captured one is not_allowed. */
  async releasePointsHold(holdId: string): Promise<PointsHoldDTO> {
    const res = await this.grpc_.call("ReleasePointsHold", { hold_id: holdId ?? "" })
    return holdFromProto(res)
  }

  async retrievePointsHold(holdId: string): Promise<PointsHoldDTO> {
    const res = await this.grpc_.call("GetPointsHold", { hold_id: holdId ?? "" })
    return holdFromProto(res)
  }

  /** A customer's holds, newest first, one page at a time. */
  async listPointsHolds(
    customerId: string,
    config: ListPointsHoldsConfig = {}
  ): Promise<{ points_holds: PointsHoldDTO[]; next_page_token: string }> {
    const res = await this.grpc_.call("ListPointsHolds", {
      customer_id: customerId ?? "",
      reference_id: config.reference_id ?? "",
      active_only: !!config.active_only,
      page_size: config.limit ?? 0,
      page_token: config.page_token ?? "",
    })
    return {
      points_holds: (res.holds ?? []).map(holdFromProto),
      next_page_token: res.next_page_token ?? "",
    }
  }

  // ------------------------------------------------------------ order points

  /** Awards points for an order, once per (customer, order): a redelivered event earns nothing twice. */
  async earnOrderPoints(input: EarnOrderPointsInput): Promise<EarnOrderPointsResult> {
    const res = await this.grpc_.call("EarnOrderPoints", {
      customer_id: input?.customer_id ?? "",
      order_id: input?.order_id ?? "",
      points: toDecimalString(input?.points),
      reason: input?.reason ?? "",
    })
    return {
      adjustment: adjustmentFromProto(res.adjustment ?? {}),
      order: orderPointsFromProto(res.order ?? {}),
      replayed: !!res.replayed,
    }
  }

  /** Takes back points an order earned (all it has left, or `points`), once per idempotency key. */
  async reverseOrderPoints(input: ReverseOrderPointsInput): Promise<ReverseOrderPointsResult> {
    const res = await this.grpc_.call("ReverseOrderPoints", {
      customer_id: input?.customer_id ?? "",
      order_id: input?.order_id ?? "",
      points: toDecimalString(input?.points),
      reason: input?.reason ?? "",
      idempotency_key: input?.idempotency_key ?? "",
    })
    return {
      reversed: toNumber(res.reversed),
      raw_reversed: toRaw(res.reversed),
      adjustment: res.adjustment ? adjustmentFromProto(res.adjustment) : null,
      order: orderPointsFromProto(res.order ?? {}),
      replayed: !!res.replayed,
    }
  }

  /** What an order earned and what was reversed of it (not_found when it never earned). */
  async retrieveOrderPoints(customerId: string, orderId: string): Promise<OrderPointsDTO> {
    const res = await this.grpc_.call("GetOrderPoints", { customer_id: customerId ?? "", order_id: orderId ?? "" })
    return orderPointsFromProto(res)
  }

  // ------------------------------------------------------------ internals

  /** CreateGiftCards / UpdateGiftCards: one card in, one out; a list in, a list out. */
  private async writeGiftCards_(
    method: "CreateGiftCards" | "UpdateGiftCards",
    toProto: (card: Record<string, any>) => Record<string, any>,
    data: Record<string, any> | Record<string, any>[]
  ): Promise<GiftCardDTO | GiftCardDTO[]> {
    const input = asArray(data)
    const request = convert(() => ({ gift_cards: input.map(toProto) }))
    const res = await this.grpc_.call(method, request)
    const cards = (res.gift_cards ?? []).map(giftCardFromProto)
    return Array.isArray(data) ? cards : cards[0]
  }

  /** SoftDeleteGiftCards / RestoreGiftCards: nothing to do (and no call) for no ids. */
  private async toggleDeleted_(
    method: "SoftDeleteGiftCards" | "RestoreGiftCards",
    ids: string | string[]
  ): Promise<Record<string, string[]> | void> {
    const list = idsOf(ids)
    if (!list.length) {
      return
    }
    const res = await this.grpc_.call(method, { ids: list })
    return { gift_card_id: res.ids ?? [] }
  }

  private async movement_(method: string, input: GiftCardMovementInput): Promise<GiftCardMovementResult> {
    const request: Record<string, any> = {
      amount: toDecimalString(input?.amount),
      currency_code: input?.currency_code ?? "",
      reference: input?.reference ?? "",
      reference_id: input?.reference_id ?? "",
      idempotency_key: input?.idempotency_key ?? "",
    }
    if (input?.id) {
      request.id = input.id
    } else if (input?.code) {
      request.code = input.code
    }
    const res = await this.grpc_.call(method, request)
    return {
      transaction: transactionFromProto(res.transaction ?? {}),
      balance: toNumber(res.balance),
      raw_balance: toRaw(res.balance),
      status: fromProtoStatus(res.status),
      replayed: !!res.replayed,
    }
  }

  private buildListRequest(filters: Record<string, any>, config: ListConfig): Record<string, any> {
    const request: Record<string, any> = {}
    for (const [key, value] of Object.entries(filters ?? {})) {
      if (value === undefined || key === "context") {
        continue
      }
      if ((LIST_FILTERS as readonly string[]).includes(key)) {
        const values = filterValues(key, value)
        request[key] = key === "status" ? values.map((v) => toProtoStatus(v)) : values
      } else if (key === "q") {
        request.q = String(value ?? "")
      } else {
        throw invalid(`Unsupported gift card filter: ${key}`)
      }
    }
    return { ...request, ...pagingToProto(config) }
  }

  private async list_(
    filters: Record<string, any>,
    config: ListConfig,
    withCount: boolean
  ): Promise<[GiftCardDTO[], number]> {
    const cfg = config ?? {}
    const request = convert(() => this.buildListRequest(filters, cfg))
    if (matchesNothing(filters, LIST_FILTERS)) {
      return [[], 0]
    }
    if (cfg.take === null) {
      // Medusa's "no limit" (e.g. Query fetching by a list of ids): read every page.
      const cards: GiftCardDTO[] = []
      let skip = Number(cfg.skip ?? 0)
      let count = 0
      for (;;) {
        const res = await this.grpc_.call("ListGiftCards", {
          ...request,
          skip,
          take: MAX_TAKE,
          with_count: withCount && cards.length === 0,
        })
        const page = (res.gift_cards ?? []).map(giftCardFromProto)
        if (withCount && cards.length === 0) {
          count = res.count ?? 0
        }
        cards.push(...page)
        if (page.length < MAX_TAKE) {
          break
        }
        skip += page.length
      }
      return [cards.map((c) => project(c, cfg.select)), withCount ? count : cards.length]
    }
    const res = await this.grpc_.call("ListGiftCards", { ...request, with_count: withCount })
    const cards = (res.gift_cards ?? []).map((gc: any) => project(giftCardFromProto(gc), cfg.select))
    return [cards, withCount ? res.count ?? 0 : cards.length]
  }
}

/** Keeps only the selected top-level fields (plus id), as Medusa's `select` does. */
export function project<T extends Record<string, any>>(card: T, select?: string[]): T {
  if (!select || !select.length || select.includes("*")) {
    return card
  }
  const keep = new Set(["id", ...select.map((s) => s.split(".")[0])])
  const out: Record<string, any> = {}
  for (const key of Object.keys(card)) {
    if (keep.has(key) || (key.startsWith("raw_") && keep.has(key.slice(4)))) {
      out[key] = card[key]
    }
  }
  return out as T
}
