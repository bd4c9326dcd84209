import { MedusaError } from "@medusajs/framework/utils"
import type { ModuleJoinerConfig } from "@medusajs/framework/types"
import { LoyaltyGrpcClient, type LoyaltyGrpcOptions } from "./client"
import {
  adjustmentFromProto,
  adjustPointsRequest,
  capturePointsHoldRequest,
  createGiftCardsRequest,
  earnOrderPointsRequest,
  fromProtoStatus,
  fromTimestamp,
  GIFT_CARD_LIST,
  giftCardFromProto,
  giftCardIdsOf,
  giftCardMovementRequest,
  holdFromProto,
  holdIdRequest,
  holdPointsRequest,
  idRequest,
  idsRequest,
  listGiftCardsRequest,
  listGiftCardTransactionsRequest,
  listPointAdjustmentsRequest,
  listPointsHoldsRequest,
  matchesNothing,
  orderPointsFromProto,
  orderPointsRequest,
  orEmpty,
  pageRequest,
  pointsBalanceRequest,
  reverseOrderPointsRequest,
  toNumber,
  toRaw,
  transactionFromProto,
  updateGiftCardsRequest,
} from "./convert"
import { joinerConfig } from "./joiner"
import { resolvePointsProgram, type PointsProgram, type PointsProgramOptions } from "./program"
import type {
  AdjustPointsInput,
  AdjustPointsResult,
  CapturePointsHoldInput,
  CapturePointsHoldResult,
  CreateGiftCardInput,
  EarnOrderPointsInput,
  EarnOrderPointsResult,
  GiftCardDTO,
  GiftCardFilters,
  GiftCardMovementInput,
  GiftCardMovementResult,
  GiftCardOptions,
  GiftCardTransactionsPage,
  HoldPointsInput,
  HoldPointsResult,
  IdsInput,
  ILoyaltyModuleService,
  ListConfig,
  ListPointsHoldsConfig,
  OrderPointsDTO,
  PageConfig,
  PointAdjustmentsPage,
  PointsBalance,
  PointsHoldDTO,
  PointsHoldsPage,
  ReverseOrderPointsInput,
  ReverseOrderPointsResult,
  UpdateGiftCardInput,
} from "./types"

export type * from "./types"

export type LoyaltyModuleOptions = LoyaltyGrpcOptions & {
  /** The points program: earning rules and redemption (see program.ts and the README). */
  points?: PointsProgramOptions
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
    if (MedusaError.isMedusaError(e)) {
      throw e
    }
    throw invalid((e as Error).message)
  }
}

export function asArray<T>(value: T | T[]): T[] {
  return Array.isArray(value) ? value : [value]
}

/**
 * The `loyalty` module service: Medusa's Loyalty Module surface
 * (ILoyaltyModuleService of @medusajs/loyalty-plugin) plus the points ledger,
 * every method one gRPC call to loyalty.v1.LoyaltyService.
 */
export default class LoyaltyModuleService implements ILoyaltyModuleService {
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

  createGiftCards(data: CreateGiftCardInput[], sharedContext?: unknown): Promise<GiftCardDTO[]>
  createGiftCards(data: CreateGiftCardInput, sharedContext?: unknown): Promise<GiftCardDTO>
  async createGiftCards(data: CreateGiftCardInput | CreateGiftCardInput[]): Promise<GiftCardDTO | GiftCardDTO[]> {
    const request = convert(() => createGiftCardsRequest(asArray(data)))
    const res = await this.grpc_.call("CreateGiftCards", request)
    const cards = (res.gift_cards ?? []).map(giftCardFromProto)
    return Array.isArray(data) ? cards : cards[0]
  }

  updateGiftCards(data: UpdateGiftCardInput[], sharedContext?: unknown): Promise<GiftCardDTO[]>
  updateGiftCards(data: UpdateGiftCardInput, sharedContext?: unknown): Promise<GiftCardDTO>
  async updateGiftCards(data: UpdateGiftCardInput | UpdateGiftCardInput[]): Promise<GiftCardDTO | GiftCardDTO[]> {
    const request = convert(() => updateGiftCardsRequest(asArray(data)))
    const res = await this.grpc_.call("UpdateGiftCards", request)
    const cards = (res.gift_cards ?? []).map(giftCardFromProto)
    return Array.isArray(data) ? cards : cards[0]
  }

  async retrieveGiftCard(id: string, config: ListConfig = {}): Promise<GiftCardDTO> {
    const res = await this.grpc_.call("RetrieveGiftCard", idRequest(id))
    return project(giftCardFromProto(res), config.select)
  }

  async listGiftCards(filters: GiftCardFilters = {}, config: ListConfig = {}): Promise<GiftCardDTO[]> {
    const [cards] = await this.list_(filters, config, false)
    return cards
  }

  async listAndCountGiftCards(filters: GiftCardFilters = {}, config: ListConfig = {}): Promise<[GiftCardDTO[], number]> {
    return this.list_(filters, config, true)
  }

  async deleteGiftCards(ids: IdsInput): Promise<void> {
    const list = giftCardIdsOf(ids)
    if (!list.length) {
      return
    }
    await this.grpc_.call("DeleteGiftCards", idsRequest(list))
  }

  async softDeleteGiftCards(ids: IdsInput): Promise<Record<string, string[]> | void> {
    return this.toggleDeleted_("SoftDeleteGiftCards", ids)
  }

  async restoreGiftCards(ids: IdsInput): Promise<Record<string, string[]> | void> {
    return this.toggleDeleted_("RestoreGiftCards", ids)
  }

  /** The server's code settings, in the shape of the plugin's options. */
  async getOptions(): Promise<GiftCardOptions> {
    const res = await this.grpc_.call("GetOptions", {})
    return { prefix: res.prefix, sections: res.sections }
  }

  async debitGiftCard(input: GiftCardMovementInput): Promise<GiftCardMovementResult> {
    return this.movement_("DebitGiftCard", input)
  }

  async creditGiftCard(input: GiftCardMovementInput): Promise<GiftCardMovementResult> {
    return this.movement_("CreditGiftCard", input)
  }

  async listGiftCardTransactions(giftCardId: string, config: PageConfig = {}): Promise<GiftCardTransactionsPage> {
    const res = await this.grpc_.call("ListGiftCardTransactions", listGiftCardTransactionsRequest(giftCardId, config))
    return {
      gift_card_transactions: (res.gift_card_transactions ?? []).map(transactionFromProto),
      next_page_token: res.next_page_token ?? "",
    }
  }

  // ------------------------------------------------------------ points

  async adjustPoints(input: AdjustPointsInput): Promise<AdjustPointsResult> {
    const request = adjustPointsRequest(input)
    const delta = request.delta ?? ""
    const res = await this.grpc_.call("AdjustPoints", request)
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
    const res = await this.grpc_.call("GetPointsBalance", pointsBalanceRequest(customerId, config))
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

  async listPointAdjustments(customerId: string, config: PageConfig = {}): Promise<PointAdjustmentsPage> {
    const res = await this.grpc_.call("ListPointAdjustments", listPointAdjustmentsRequest(customerId, config))
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
    const request = convert(() => holdPointsRequest(input))
    const res = await this.grpc_.call("HoldPoints", request)
    return {
      hold: holdFromProto(orEmpty(res.hold)),
      available: toNumber(res.available),
      raw_available: toRaw(res.available),
      replayed: !!res.replayed,
    }
  }

  /** Spends held points: one ledger debit, exactly once (a second capture replays the first). */
  async capturePointsHold(input: CapturePointsHoldInput): Promise<CapturePointsHoldResult> {
    const res = await this.grpc_.call("CapturePointsHold", capturePointsHoldRequest(input))
    return {
      hold: holdFromProto(orEmpty(res.hold)),
      adjustment: adjustmentFromProto(orEmpty(res.adjustment)),
      replayed: !!res.replayed,
    }
  }

  /** Gives held points back; a released or expired hold comes back unchanged, a captured one is not_allowed. */
  async releasePointsHold(holdId: string): Promise<PointsHoldDTO> {
    const res = await this.grpc_.call("ReleasePointsHold", holdIdRequest(holdId))
    return holdFromProto(res)
  }

  async retrievePointsHold(holdId: string): Promise<PointsHoldDTO> {
    const res = await this.grpc_.call("GetPointsHold", holdIdRequest(holdId))
    return holdFromProto(res)
  }

  /** A customer's holds, newest first, one page at a time. */
  async listPointsHolds(customerId: string, config: ListPointsHoldsConfig = {}): Promise<PointsHoldsPage> {
    const res = await this.grpc_.call("ListPointsHolds", listPointsHoldsRequest(customerId, config))
    return {
      points_holds: (res.holds ?? []).map(holdFromProto),
      next_page_token: res.next_page_token ?? "",
    }
  }

  // ------------------------------------------------------------ order points

  /** Awards points for an order, once per (customer, order): a redelivered event earns nothing twice. */
  async earnOrderPoints(input: EarnOrderPointsInput): Promise<EarnOrderPointsResult> {
    const res = await this.grpc_.call("EarnOrderPoints", earnOrderPointsRequest(input))
    return {
      adjustment: adjustmentFromProto(orEmpty(res.adjustment)),
      order: orderPointsFromProto(orEmpty(res.order)),
      replayed: !!res.replayed,
    }
  }

  /** Takes back points an order earned (all it has left, or `points`), once per idempotency key. */
  async reverseOrderPoints(input: ReverseOrderPointsInput): Promise<ReverseOrderPointsResult> {
    const res = await this.grpc_.call("ReverseOrderPoints", reverseOrderPointsRequest(input))
    return {
      reversed: toNumber(res.reversed),
      raw_reversed: toRaw(res.reversed),
      adjustment: res.adjustment ? adjustmentFromProto(res.adjustment) : null,
      order: orderPointsFromProto(orEmpty(res.order)),
      replayed: !!res.replayed,
    }
  }

  /** What an order earned and what was reversed of it (not_found when it never earned). */
  async retrieveOrderPoints(customerId: string, orderId: string): Promise<OrderPointsDTO> {
    const res = await this.grpc_.call("GetOrderPoints", orderPointsRequest(customerId, orderId))
    return orderPointsFromProto(res)
  }

  // ------------------------------------------------------------ internals

  /** SoftDeleteGiftCards / RestoreGiftCards: nothing to do (and no call) for no ids. */
  private async toggleDeleted_(
    method: "SoftDeleteGiftCards" | "RestoreGiftCards",
    ids: IdsInput
  ): Promise<Record<string, string[]> | void> {
    const list = giftCardIdsOf(ids)
    if (!list.length) {
      return
    }
    const res = await this.grpc_.call(method, idsRequest(list))
    return { gift_card_id: res.ids ?? [] }
  }

  private async movement_(
    method: "DebitGiftCard" | "CreditGiftCard",
    input: GiftCardMovementInput
  ): Promise<GiftCardMovementResult> {
    const res = await this.grpc_.call(method, giftCardMovementRequest(input))
    return {
      transaction: transactionFromProto(orEmpty(res.transaction)),
      balance: toNumber(res.balance),
      raw_balance: toRaw(res.balance),
      status: fromProtoStatus(res.status),
      replayed: !!res.replayed,
    }
  }

  private async list_(
    filters: GiftCardFilters,
    config: ListConfig,
    withCount: boolean
  ): Promise<[GiftCardDTO[], number]> {
    const cfg = config ?? {}
    const request = convert(() => listGiftCardsRequest(filters, cfg))
    if (matchesNothing(filters, GIFT_CARD_LIST)) {
      return [[], 0]
    }
    if (cfg.take === null) {
      // Medusa's "no limit" (e.g. Query fetching by a list of ids): read every page.
      const cards: GiftCardDTO[] = []
      let skip = Number(cfg.skip ?? 0)
      let count = 0
      for (;;) {
        const res = await this.grpc_.call(
          "ListGiftCards",
          pageRequest(request, { skip, take: MAX_TAKE, with_count: withCount && cards.length === 0 })
        )
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
    const res = await this.grpc_.call("ListGiftCards", pageRequest(request, { with_count: withCount }))
    const cards = (res.gift_cards ?? []).map((gc) => project(giftCardFromProto(gc), cfg.select))
    return [cards, withCount ? res.count ?? 0 : cards.length]
  }
}

/** Keeps only the selected top-level fields (plus id), as Medusa's `select` does. */
export function project<T extends object>(card: T, select?: string[]): T {
  if (!select || !select.length || select.includes("*")) {
    return card
  }
  const keep = new Set(["id", ...select.map((s) => s.split(".")[0])])
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(card)) {
    if (keep.has(key) || (key.startsWith("raw_") && keep.has(key.slice(4)))) {
      out[key] = value
    }
  }
  // Medusa's select: the same type with fields left out (as MedusaService returns it).
  return out as T
}
