import BigNumberJS from "bignumber.js"
import type {
  AdjustPointsInput,
  CapturePointsHoldInput,
  CreateGiftCardInput,
  EarnOrderPointsInput,
  GiftCardDTO,
  GiftCardMovementInput,
  GiftCardStatus,
  GiftCardTransactionDTO,
  HoldPointsInput,
  IdsInput,
  ListConfig,
  ListPointsHoldsConfig,
  OrderPointsDTO,
  PageConfig,
  PointAdjustmentDTO,
  PointsHoldDTO,
  PointsHoldStatus,
  RawValue,
  ReverseOrderPointsInput,
  UpdateGiftCardInput,
} from "./types"
import type {
  ProtoAdjustPointsRequest,
  ProtoCapturePointsHoldRequest,
  ProtoCreateGiftCardInput,
  ProtoCreditGiftCardRequest,
  ProtoGiftCardOut,
  ProtoGiftCardStatus,
  ProtoGiftCardStatusOut,
  ProtoGiftCardTransactionOut,
  ProtoGiftCardTransactionTypeOut,
  ProtoHoldPointsRequest,
  ProtoListGiftCardsRequest,
  ProtoOrderPointsOut,
  ProtoPointAdjustmentOut,
  ProtoPointsHoldOut,
  ProtoPointsHoldStatusOut,
  ProtoStruct,
  ProtoStructOut,
  ProtoTimestamp,
  ProtoTimestampOut,
  ProtoUpdateGiftCardInput,
  ProtoValue,
  ProtoValueOut,
  LoyaltyMethod,
  RequestOf,
} from "./wire"

export type * from "./types"

/**
 * JS values <-> proto messages (as @grpc/proto-loader represents them with
 * keepCase, longs/enums as strings, defaults and oneofs). Nothing else: no
 * rule lives here, the server validates.
 */

const RAW_PRECISION = 20


// ------------------------------------------------------------ amounts

/**
 * An amount as the wire wants it: a plain decimal string. Accepts number,
 * string, Medusa's BigNumber (or anything with `raw.value` / `numeric`), a raw
 * `{ value, precision }` and bigint. Numbers and non-string values are written
 * out by bignumber.js: every digit kept, never exponent notation, never
 * rounded (the server decides what scale and magnitude it allows). Strings
 * are passed as given, and anything else as String(value), so the server's
 * own validation answers it.
 */
export function toDecimalString(value: unknown): string {
  if (value === undefined || value === null) {
    return ""
  }
  if (typeof value === "string") {
    return value
  }
  if (typeof value === "bigint") {
    return plainDecimal(value.toString())
  }
  if (typeof value === "number") {
    return numberToDecimal(value)
  }
  if (typeof value === "object") {
    const v = value as {
      raw?: { value?: unknown }
      value?: unknown
      precision?: unknown
      numeric?: unknown
      toString?: () => string
    }
    if (v.raw && typeof v.raw.value === "string") {
      // Medusa's BigNumber keeps raw.value in bignumber.js's toString() form, e.g. "1.0000000000000000000e-7".
      return plainDecimal(v.raw.value)
    }
    if (typeof v.value === "string" && typeof v.precision === "number") {
      return plainDecimal(v.value)
    }
    if (BigNumberJS.isBigNumber(v)) {
      return plainDecimal(v)
    }
    if (typeof v.numeric === "number") {
      return numberToDecimal(v.numeric)
    }
    if (typeof v.toString === "function" && v.toString !== Object.prototype.toString) {
      return String(v.toString())
    }
  }
  return String(value)
}

/**
 * A JS number as a plain decimal: the digits JS prints for it (the shortest
 * that round-trip, so 0.1 + 0.2 is "0.30000000000000004", not "0.3"), written
 * out without an exponent (1e-7 -> "0.0000001", 1e21 -> "1000000000000000000000").
 * NaN and Infinity go as "NaN" / "Infinity" for the server to refuse.
 */
function numberToDecimal(n: number): string {
  if (!Number.isFinite(n)) {
    return String(n)
  }
  return new BigNumberJS(n).toFixed()
}

/** A numeric string or bignumber.js value without exponent; text bignumber.js cannot read goes as given. */
function plainDecimal(value: string | BigNumberJS): string {
  const b = BigNumberJS.isBigNumber(value) ? value : new BigNumberJS(value)
  if (!b.isFinite()) {
    return String(value)
  }
  return b.toFixed()
}

/** A decimal string as Medusa's DTOs carry it: a number. */
export function toNumber(value: string | undefined | null): number {
  if (value === undefined || value === null || value === "") {
    return 0
  }
  return Number(value)
}

export function toRaw(value: string | undefined | null): RawValue {
  return { value: value === undefined || value === null || value === "" ? "0" : value, precision: RAW_PRECISION }
}

// ------------------------------------------------------------ time

export function toTimestamp(value: unknown): ProtoTimestamp | undefined {
  if (value === undefined || value === null || value === "") {
    return undefined
  }
  const date = value instanceof Date ? value : new Date(value as string | number)
  const ms = date.getTime()
  if (Number.isNaN(ms)) {
    // A proto Timestamp cannot carry an invalid date, so the server never sees it:
    // refuse here (rather than silently dropping the field).
    throw new TypeError(`Invalid date: ${String(value)}`)
  }
  const seconds = Math.floor(ms / 1000)
  return { seconds: String(seconds), nanos: (ms - seconds * 1000) * 1_000_000 }
}

export function fromTimestamp(ts: ProtoTimestampOut | null | undefined): Date | null {
  if (!ts) {
    return null
  }
  const seconds = Number(ts.seconds ?? 0)
  const nanos = Number(ts.nanos ?? 0)
  return new Date(seconds * 1000 + Math.floor(nanos / 1_000_000))
}

// ------------------------------------------------------------ Struct
// protobufjs bundles the well-known types with camelCase field names
// (numberValue, structValue, ...), whatever keepCase says.

export function toStruct(obj: unknown): ProtoStruct | undefined {
  if (obj === undefined || obj === null) {
    return undefined
  }
  if (typeof obj !== "object" || Array.isArray(obj)) {
    throw new TypeError("metadata must be an object")
  }
  const fields: Record<string, ProtoValue> = {}
  for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
    if (v === undefined) {
      continue
    }
    fields[k] = toValue(v)
  }
  return { fields }
}

function toValue(v: unknown): ProtoValue {
  if (v === null || v === undefined) {
    return { nullValue: "NULL_VALUE" }
  }
  if (typeof v === "number") {
    return { numberValue: v }
  }
  if (typeof v === "string") {
    return { stringValue: v }
  }
  if (typeof v === "boolean") {
    return { boolValue: v }
  }
  if (v instanceof Date) {
    return { stringValue: v.toISOString() }
  }
  if (Array.isArray(v)) {
    return { listValue: { values: v.map(toValue) } }
  }
  if (typeof v === "object") {
    return { structValue: toStruct(v) }
  }
  return { stringValue: String(v) }
}

export function fromStruct(struct: ProtoStructOut | null | undefined): Record<string, unknown> | null {
  if (!struct) {
    return null
  }
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(struct.fields ?? {})) {
    out[k] = fromValue(v)
  }
  return out
}

function fromValue(v: ProtoValueOut | null | undefined): unknown {
  if (!v) {
    return null
  }
  const kind = v.kind
  switch (kind) {
    case "nullValue":
      return null
    case "numberValue":
      return v.numberValue
    case "stringValue":
      return v.stringValue
    case "boolValue":
      return v.boolValue
    case "structValue":
      return fromStruct(v.structValue)
    case "listValue":
      return (v.listValue?.values ?? []).map(fromValue)
    default:
      return null
  }
}

// ------------------------------------------------------------ enums

const STATUS_TO_PROTO: Record<string, ProtoGiftCardStatus> = {
  pending: "GIFT_CARD_STATUS_PENDING",
  redeemed: "GIFT_CARD_STATUS_REDEEMED",
}

/**
 * "pending" / "redeemed" (any case) -> the proto enum name. Anything else goes
 * as given, for the serializer to refuse (invalid_data).
 */
export function toProtoStatus(status: unknown): ProtoGiftCardStatus | undefined {
  if (status === undefined || status === null) {
    return undefined
  }
  const s = String(status)
  return STATUS_TO_PROTO[s.toLowerCase()] ?? (s as ProtoGiftCardStatus)
}

export function fromProtoStatus(status: ProtoGiftCardStatusOut | string | undefined | null): GiftCardStatus | null {
  switch (status) {
    case "GIFT_CARD_STATUS_PENDING":
      return "pending"
    case "GIFT_CARD_STATUS_REDEEMED":
      return "redeemed"
    default:
      return null
  }
}

export function fromProtoTransactionType(
  type: ProtoGiftCardTransactionTypeOut | string | undefined
): "debit" | "credit" | null {
  switch (type) {
    case "GIFT_CARD_TRANSACTION_TYPE_DEBIT":
      return "debit"
    case "GIFT_CARD_TRANSACTION_TYPE_CREDIT":
      return "credit"
    default:
      return null
  }
}

// ------------------------------------------------------------ gift cards


export function giftCardFromProto(gc: ProtoGiftCardOut): GiftCardDTO {
  return {
    id: gc.id,
    code: gc.code,
    status: fromProtoStatus(gc.status),
    value: toNumber(gc.value),
    raw_value: toRaw(gc.value),
    balance: toNumber(gc.balance),
    raw_balance: toRaw(gc.balance),
    currency_code: gc.currency_code,
    customer_id: optional(gc.customer_id),
    reference_id: optional(gc.reference_id),
    reference: optional(gc.reference),
    line_item_id: optional(gc.line_item_id),
    note: optional(gc.note),
    expires_at: fromTimestamp(gc.expires_at),
    metadata: fromStruct(gc.metadata),
    created_at: fromTimestamp(gc.created_at),
    updated_at: fromTimestamp(gc.updated_at),
    deleted_at: fromTimestamp(gc.deleted_at),
  }
}

function optional<T>(value: T | undefined | null): T | null {
  return value === undefined ? null : value
}

function optionalString(value: unknown): string | undefined {
  return value === undefined || value === null ? undefined : String(value)
}

/** A Medusa create payload -> loyalty.v1.CreateGiftCardInput. */
export function createGiftCardToProto(data: CreateGiftCardInput): ProtoCreateGiftCardInput {
  return {
    code: optionalString(data.code),
    value: toDecimalString(data.value),
    currency_code: data.currency_code ?? "",
    status: toProtoStatus(data.status),
    customer_id: optionalString(data.customer_id),
    reference_id: optionalString(data.reference_id),
    reference: optionalString(data.reference),
    line_item_id: optionalString(data.line_item_id),
    note: optionalString(data.note),
    expires_at: toTimestamp(data.expires_at),
    metadata: toStruct(data.metadata),
  }
}

/** Fields of UpdateGiftCardInput other than id and update_mask. */
const UPDATE_CONVERTERS: {
  [K in keyof ProtoUpdateGiftCardInput]?: (value: unknown) => ProtoUpdateGiftCardInput[K]
} = {
  value: toDecimalString,
  status: toProtoStatus,
  note: optionalString,
  currency_code: optionalString,
  expires_at: toTimestamp,
  customer_id: optionalString,
  metadata: toStruct,
  reference_id: optionalString,
  reference: optionalString,
  line_item_id: optionalString,
}

/**
 * A Medusa update payload -> loyalty.v1.UpdateGiftCardInput (AIP-134): every
 * key the caller passed goes into update_mask.paths; a null value stays unset,
 * which the server reads as "clear it". Unknown keys go into the mask too, so
 * the server, not the adapter, says they cannot be updated.
 */
export function updateGiftCardToProto(data: UpdateGiftCardInput): ProtoUpdateGiftCardInput {
  const { id, ...rest } = data
  const out: Record<string, unknown> = { id: id ?? "" }
  const paths: string[] = []
  for (const [key, value] of Object.entries(rest)) {
    if (value === undefined) {
      continue
    }
    paths.push(key)
    if (value === null) {
      continue
    }
    const convert = UPDATE_CONVERTERS[key as keyof ProtoUpdateGiftCardInput]
    if (convert) {
      out[key] = convert(value)
    }
  }
  out.update_mask = { paths }
  // Built key by key from UPDATE_CONVERTERS, whose values are typed by the message's fields.
  return out as ProtoUpdateGiftCardInput
}

// ------------------------------------------------------------ transactions


export function transactionFromProto(tx: ProtoGiftCardTransactionOut): GiftCardTransactionDTO {
  return {
    id: tx.id,
    gift_card_id: tx.gift_card_id,
    type: fromProtoTransactionType(tx.type),
    amount: toNumber(tx.amount),
    raw_amount: toRaw(tx.amount),
    currency_code: tx.currency_code,
    balance_after: toNumber(tx.balance_after),
    raw_balance_after: toRaw(tx.balance_after),
    reference: tx.reference,
    reference_id: tx.reference_id,
    created_at: fromTimestamp(tx.created_at),
  }
}

// ------------------------------------------------------------ points


export function adjustmentFromProto(a: ProtoPointAdjustmentOut): PointAdjustmentDTO {
  return {
    id: a.id,
    customer_id: a.customer_id,
    delta: toNumber(a.delta),
    raw_delta: toRaw(a.delta),
    reason: a.reason,
    balance_after: toNumber(a.balance_after),
    raw_balance_after: toRaw(a.balance_after),
    created_at: fromTimestamp(a.created_at),
  }
}

// ------------------------------------------------------------ points holds and order points



const HOLD_STATUS: Partial<Record<ProtoPointsHoldStatusOut, PointsHoldStatus>> = {
  POINTS_HOLD_STATUS_ACTIVE: "active",
  POINTS_HOLD_STATUS_CAPTURED: "captured",
  POINTS_HOLD_STATUS_RELEASED: "released",
  POINTS_HOLD_STATUS_EXPIRED: "expired",
}

export function fromProtoHoldStatus(status: ProtoPointsHoldStatusOut | string | undefined | null): PointsHoldStatus | null {
  return (status && HOLD_STATUS[status as ProtoPointsHoldStatusOut]) || null
}

export function holdFromProto(h: ProtoPointsHoldOut): PointsHoldDTO {
  return {
    id: h.id,
    customer_id: h.customer_id,
    points: toNumber(h.points),
    raw_points: toRaw(h.points),
    status: fromProtoHoldStatus(h.status),
    reference: h.reference || null,
    reference_id: h.reference_id || null,
    expires_at: fromTimestamp(h.expires_at),
    captured_points: toNumber(h.captured_points),
    raw_captured_points: toRaw(h.captured_points),
    adjustment_id: h.adjustment_id || null,
    created_at: fromTimestamp(h.created_at),
    updated_at: fromTimestamp(h.updated_at),
  }
}

export function orderPointsFromProto(o: ProtoOrderPointsOut): OrderPointsDTO {
  return {
    customer_id: o.customer_id,
    order_id: o.order_id,
    earned: toNumber(o.earned),
    raw_earned: toRaw(o.earned),
    reversed: toNumber(o.reversed),
    raw_reversed: toRaw(o.reversed),
    created_at: fromTimestamp(o.created_at),
    updated_at: fromTimestamp(o.updated_at),
  }
}

// ------------------------------------------------------------ list arguments

/** The paging part of a Medusa list config. */
export type PagingConfig = Pick<ListConfig, "skip" | "take" | "order" | "withDeleted">

/** The paging fields every list request of the service shares (skip, take, order, with_deleted). */
export type ProtoPaging = { skip?: number; take?: number; order?: string; with_deleted?: boolean }

/** Paging, order and with_deleted of a list config, for any of the service's list requests. */
export function pagingToProto(config: PagingConfig): ProtoPaging {
  const out: ProtoPaging = {}
  if (config.skip !== undefined && config.skip !== null) {
    out.skip = Number(config.skip)
  }
  if (config.take !== undefined && config.take !== null) {
    out.take = Number(config.take)
  }
  const order = toOrderString(config.order)
  if (order) {
    out.order = order
  }
  if (config.withDeleted) {
    out.with_deleted = true
  }
  return out
}

/** Medusa's `order` ({created_at: "DESC"} or "created_at DESC" / "-created_at") -> "created_at DESC". */
export function toOrderString(order: unknown): string {
  if (!order) {
    return ""
  }
  if (typeof order === "string") {
    return order
      .split(",")
      .map((part) => part.trim())
      .filter(Boolean)
      .map((part) => (part.startsWith("-") ? `${part.slice(1)} DESC` : part))
      .join(", ")
  }
  if (typeof order === "object") {
    return Object.entries(order as Record<string, unknown>)
      .map(([field, dir]) => `${field} ${String(dir ?? "ASC").toUpperCase()}`)
      .join(", ")
  }
  return String(order)
}

/**
 * What one list method accepts, stated once: the repeated filters of its
 * request (checked against the generated request type), how each value goes
 * on the wire, whether it takes `q`, and the name its errors use. Both the
 * request builder (listRequest) and the empty-list short cut (matchesNothing)
 * read it.
 */
export type ListSpec<Req> = {
  /** Names the filter in errors: "Unsupported <what>: <key>". */
  what: string
  /** The repeated filter fields of the request. */
  fields: readonly (keyof Req & string)[]
  /** How a field's values go on the wire (default: as strings). */
  values?: { [K in keyof Req]?: (value: string) => unknown }
  /** Whether the request takes a free-text `q`. */
  q: boolean
}

/** The repeated-string filters ListGiftCardsRequest takes flat. */
export const LIST_FILTERS = [
  "id",
  "code",
  "status",
  "currency_code",
  "reference",
  "reference_id",
  "customer_id",
] as const satisfies readonly (keyof ProtoListGiftCardsRequest)[]

/** listGiftCards / listAndCountGiftCards: ListGiftCardsRequest. */
export const GIFT_CARD_LIST: ListSpec<ProtoListGiftCardsRequest> = {
  what: "gift card filter",
  fields: LIST_FILTERS,
  values: { status: toProtoStatus },
  q: true,
}

/**
 * Filters (a value, an array or {$in}/{$eq} each, and `q` where the spec takes
 * it) + config -> the list request (without with_count). An unknown filter or
 * operator is a TypeError (invalid_data through `convert`).
 */
export function listRequest<Req extends ProtoPaging>(
  spec: ListSpec<Req>,
  filters: Record<string, unknown> | undefined,
  config: PagingConfig | undefined
): Req {
  const request: Record<string, unknown> = {}
  const fields: readonly string[] = spec.fields
  for (const [key, value] of Object.entries(filters ?? {})) {
    if (value === undefined || key === "context") {
      continue
    }
    if (fields.includes(key)) {
      const values = filterValues(key, value, spec.what)
      const toWire = spec.values?.[key as keyof Req]
      request[key] = toWire ? values.map((v) => toWire(v)) : values
    } else if (key === "q" && spec.q) {
      request.q = String(value ?? "")
    } else {
      throw new TypeError(`Unsupported ${spec.what}: ${key}`)
    }
  }
  // Built field by field from spec.fields, which are keys of Req.
  return { ...request, ...pagingToProto(config ?? {}) } as Req
}

/**
 * True when one of `keys` filters on an empty list (`[]` or `{ $in: [] }`).
 * In Medusa that is SQL `IN ()`, which matches no row (the plugin's workflows
 * pass e.g. `{ code: [] }` for a cart without gift cards); on the wire an empty
 * repeated field means "no filter", so the list call is not made at all.
 */
export function matchesNothing<Req>(filters: Record<string, unknown> | undefined, spec: ListSpec<Req>): boolean {
  for (const key of spec.fields) {
    const value = filters?.[key]
    if (Array.isArray(value) && value.length === 0) {
      return true
    }
    if (value && typeof value === "object" && !Array.isArray(value)) {
      const $in = (value as Record<string, unknown>).$in
      if (Array.isArray($in) && $in.length === 0) {
        return true
      }
    }
  }
  return false
}

/**
 * A filter value (value, array, or {$in}/{$eq}) as a list of strings. `what`
 * names the filter in the error an unsupported operator raises.
 */
export function filterValues(key: string, value: unknown, what = "gift card filter"): string[] {
  if (value === undefined || value === null) {
    return []
  }
  if (Array.isArray(value)) {
    return value.map((v) => String(v))
  }
  if (typeof value === "object") {
    const ops = value as Record<string, unknown>
    const keys = Object.keys(ops)
    if (keys.every((k) => k === "$in" || k === "$eq")) {
      return keys.flatMap((k) => filterValues(key, ops[k], what))
    }
    throw new TypeError(`Unsupported operator in ${what} "${key}": ${keys.join(", ")}`)
  }
  return [String(value)]
}

// ------------------------------------------------------------ requests
// Every request the `loyalty` module sends is built here, from the method's
// Medusa-side input; the service only calls and converts the response back.

/** The request message of `method`, typed by the generated service definition. */
type Req<M extends LoyaltyMethod> = RequestOf<M>

/** A message that may be absent in a response: proto-loader gives null; read it as all defaults. */
export function orEmpty<T extends object>(message: T | null | undefined): T {
  return message ?? ({} as T)
}

/**
 * The ids deleteGiftCards, softDeleteGiftCards and restoreGiftCards send: a
 * string, a list, or `{ id }` objects, passed as given (the server refuses bad ones).
 */
export function giftCardIdsOf(ids: IdsInput): string[] {
  const items: unknown[] = Array.isArray(ids) ? ids : [ids]
  // Not narrowed on purpose: what is not an id goes to the server, which answers invalid_data.
  return items.map((x) => (typeof x === "string" ? x : (x as { id?: string } | null | undefined)?.id)) as string[]
}

/** `{ id }` (RetrieveGiftCard, RetrieveStoreCreditAccount). */
export function idRequest(id: string | null | undefined): { id: string } {
  return { id: id ?? "" }
}

/** `{ ids }` (the delete, soft-delete and restore methods). */
export function idsRequest(ids: string[]): { ids: string[] } {
  return { ids }
}

export function createGiftCardsRequest(cards: CreateGiftCardInput[]): Req<"CreateGiftCards"> {
  return { gift_cards: cards.map(createGiftCardToProto) }
}

export function updateGiftCardsRequest(cards: UpdateGiftCardInput[]): Req<"UpdateGiftCards"> {
  return { gift_cards: cards.map(updateGiftCardToProto) }
}

/** listGiftCards: the filters and paging (with_count and paging of a full read are the service's). */
export function listGiftCardsRequest(
  filters: Record<string, unknown> | undefined,
  config: ListConfig | undefined
): ProtoListGiftCardsRequest {
  return listRequest(GIFT_CARD_LIST, filters, config)
}

/** A list request with one page's skip / take and with_count (the service reads page after page). */
export function pageRequest<Req extends object>(
  request: Req,
  page: { skip?: number; take?: number; with_count: boolean }
): Req & { with_count: boolean } {
  return { ...request, ...page }
}

/** DebitGiftCard / CreditGiftCard: the card by id, else by code. */
export function giftCardMovementRequest(input: GiftCardMovementInput): ProtoCreditGiftCardRequest {
  const request: ProtoCreditGiftCardRequest = {
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
  return request
}

export function listGiftCardTransactionsRequest(
  giftCardId: string,
  config: PageConfig = {}
): Req<"ListGiftCardTransactions"> {
  return {
    gift_card_id: giftCardId ?? "",
    page_size: config.limit ?? 0,
    page_token: config.page_token ?? "",
  }
}

export function adjustPointsRequest(input: AdjustPointsInput): ProtoAdjustPointsRequest {
  return {
    customer_id: input?.customer_id ?? "",
    delta: toDecimalString(input?.delta),
    reason: input?.reason ?? "",
    include_history: !!input?.include_history,
    idempotency_key: input?.idempotency_key ?? "",
  }
}

export function pointsBalanceRequest(
  customerId: string,
  config: { include_history?: boolean } = {}
): Req<"GetPointsBalance"> {
  return { customer_id: customerId ?? "", include_history: !!config.include_history }
}

export function listPointAdjustmentsRequest(customerId: string, config: PageConfig = {}): Req<"ListPointAdjustments"> {
  return {
    customer_id: customerId ?? "",
    page_size: config.limit ?? 0,
    page_token: config.page_token ?? "",
  }
}

export function holdPointsRequest(input: HoldPointsInput): ProtoHoldPointsRequest {
  return {
    customer_id: input?.customer_id ?? "",
    points: toDecimalString(input?.points),
    reference: input?.reference ?? "",
    reference_id: input?.reference_id ?? "",
    expires_at: toTimestamp(input?.expires_at),
    idempotency_key: input?.idempotency_key ?? "",
  }
}

export function capturePointsHoldRequest(input: CapturePointsHoldInput): ProtoCapturePointsHoldRequest {
  return {
    hold_id: input?.hold_id ?? "",
    points: toDecimalString(input?.points),
    reason: input?.reason ?? "",
  }
}

/** ReleasePointsHold / GetPointsHold. */
export function holdIdRequest(holdId: string): { hold_id: string } {
  return { hold_id: holdId ?? "" }
}

export function listPointsHoldsRequest(customerId: string, config: ListPointsHoldsConfig = {}): Req<"ListPointsHolds"> {
  return {
    customer_id: customerId ?? "",
    reference_id: config.reference_id ?? "",
    active_only: !!config.active_only,
    page_size: config.limit ?? 0,
    page_token: config.page_token ?? "",
  }
}

export function earnOrderPointsRequest(input: EarnOrderPointsInput): Req<"EarnOrderPoints"> {
  return {
    customer_id: input?.customer_id ?? "",
    order_id: input?.order_id ?? "",
    points: toDecimalString(input?.points),
    reason: input?.reason ?? "",
  }
}

export function reverseOrderPointsRequest(input: ReverseOrderPointsInput): Req<"ReverseOrderPoints"> {
  return {
    customer_id: input?.customer_id ?? "",
    order_id: input?.order_id ?? "",
    points: toDecimalString(input?.points),
    reason: input?.reason ?? "",
    idempotency_key: input?.idempotency_key ?? "",
  }
}

export function orderPointsRequest(customerId: string, orderId: string): Req<"GetOrderPoints"> {
  return { customer_id: customerId ?? "", order_id: orderId ?? "" }
}
