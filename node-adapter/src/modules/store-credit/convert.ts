import {
  filterValues,
  fromStruct,
  fromTimestamp,
  toDecimalString,
  toNumber,
  pagingToProto,
  toRaw,
  toStruct,
  type RawValue,
} from "../loyalty/convert"

/**
 * Store credit: JS values <-> loyalty.v1 messages (as @grpc/proto-loader
 * represents them with keepCase, enums as strings, defaults and oneofs).
 * No rule lives here; the server validates.
 */

// ------------------------------------------------------------ wire shapes

/** google.protobuf.Timestamp as proto-loader gives it. */
export type ProtoTimestamp = NonNullable<Parameters<typeof fromTimestamp>[0]>

/** google.protobuf.Struct (protobufjs's camelCase well-known type). */
export type ProtoStruct = { fields?: Record<string, unknown> }

export type ProtoAccountTransactionType =
  | "ACCOUNT_TRANSACTION_TYPE_UNSPECIFIED"
  | "ACCOUNT_TRANSACTION_TYPE_CREDIT"
  | "ACCOUNT_TRANSACTION_TYPE_DEBIT"

/** loyalty.v1.StoreCreditAccount; proto3 `optional` fields are absent when unset. */
export type ProtoStoreCreditAccount = {
  id: string
  customer_id?: string
  code?: string
  currency_code: string
  metadata?: ProtoStruct | null
  balance: string
  credits: string
  debits: string
  created_at?: ProtoTimestamp | null
  updated_at?: ProtoTimestamp | null
  deleted_at?: ProtoTimestamp | null
  gift_card_id?: string
}

/** loyalty.v1.AccountTransaction. */
export type ProtoAccountTransaction = {
  id: string
  account_id: string
  type: ProtoAccountTransactionType | string
  amount: string
  note?: string
  reference: string
  reference_id: string
  metadata?: ProtoStruct | null
  created_at?: ProtoTimestamp | null
  deleted_at?: ProtoTimestamp | null
}

/** loyalty.v1.CreateStoreCreditAccountInput. */
export type ProtoCreateAccountInput = {
  customer_id?: string
  code?: string
  currency_code: string
  metadata?: ProtoStruct
}

/** loyalty.v1.UpdateStoreCreditAccountInput (AIP-134 partial update). */
export type ProtoUpdateAccountInput = {
  id: string
  customer_id?: string
  code?: string
  currency_code?: string
  metadata?: ProtoStruct
  update_mask: { paths: string[] }
}

/** loyalty.v1.AccountEntryInput: one credit or debit. */
export type ProtoAccountEntryInput = {
  account_id: string
  amount: string
  note?: string
  reference: string
  reference_id: string
  metadata?: ProtoStruct
  idempotency_key?: string
}

/** loyalty.v1.ListStoreCreditAccountsRequest. */
export type ProtoListAccountsRequest = {
  id?: string[]
  customer_id?: string[]
  currency_code?: string[]
  code?: string[]
  q?: string
  skip?: number
  take?: number
  order?: string
  with_deleted?: boolean
  with_count?: boolean
}

/** loyalty.v1.ListAccountTransactionsRequest. */
export type ProtoListTransactionsRequest = {
  id?: string[]
  account_id?: string[]
  type?: ProtoAccountTransactionType[]
  reference?: string[]
  reference_id?: string[]
  skip?: number
  take?: number
  order?: string
  with_deleted?: boolean
  with_count?: boolean
}

export type ProtoRetrieveAccountStatsResponse = {
  id: string
  balance: string
  credits: string
  debits: string
}

// ------------------------------------------------------------ Medusa shapes

/** An amount as Medusa passes it: number, decimal string, BigNumber or raw `{ value, precision }`. */
export type AmountInput = number | string | bigint | { toString(): string }

/** createStoreCreditAccounts input (ModuleCreateStoreCreditAccount). */
export type CreateStoreCreditAccountInput = {
  customer_id?: string | null
  /** Unset: no code (the plugin's workflow step generates an "SC-..." code before calling). */
  code?: string | null
  currency_code: string
  metadata?: Record<string, unknown> | null
}

/**
 * updateStoreCreditAccounts input: `id` plus the fields to change. Every key
 * passed goes into update_mask; `null` clears the field. The server allows
 * customer_id, code, metadata, and currency_code while the account has no
 * transactions; any other key is refused there.
 */
export type UpdateStoreCreditAccountInput = {
  id: string
  customer_id?: string | null
  code?: string | null
  currency_code?: string | null
  metadata?: Record<string, unknown> | null
  [key: string]: unknown
}

/** One item of creditAccounts / debitAccounts (ModuleCreditAccount / ModuleDebitAccount). */
export type AccountEntryInput = {
  account_id: string
  amount: AmountInput
  note?: string | null
  reference?: string | null
  reference_id?: string | null
  metadata?: Record<string, unknown> | null
  /** Exactly-once per account (AIP-155): a repeat returns the original transaction, applies nothing. */
  idempotency_key?: string | null
}

export type AccountTransactionType = "credit" | "debit"

/** The account as the plugin's ModuleStoreCreditAccount, balances read from the row. */
export type StoreCreditAccountDTO = {
  id: string
  customer_id: string | null
  code: string | null
  currency_code: string
  balance: number
  raw_balance: RawValue
  credits: number
  raw_credits: RawValue
  debits: number
  raw_debits: RawValue
  metadata: Record<string, unknown> | null
  /** The gift card this account funds (its first credit referenced the card), else null. */
  gift_card_id: string | null
  created_at: Date | null
  updated_at: Date | null
  deleted_at: Date | null
  /** Only with `relations: ["transactions"]`. */
  transactions?: AccountTransactionDTO[]
}

/** The transaction as the plugin's ModuleAccountTransaction. */
export type AccountTransactionDTO = {
  id: string
  account_id: string
  type: AccountTransactionType | null
  amount: number
  raw_amount: RawValue
  note: string | null
  reference: string
  reference_id: string
  metadata: Record<string, unknown> | null
  created_at: Date | null
  /** Ledger rows never change but for voiding: the void time, else created_at. */
  updated_at: Date | null
  /** Set when voided (deleteTransactions / deleteAccountTransactions). */
  deleted_at: Date | null
  /** Only with `relations: ["account"]`. */
  account?: StoreCreditAccountDTO
}

/** retrieveAccountStats: the plugin's ModuleAccountStats, plus the exact raw values. */
export type AccountStatsDTO = {
  id: string
  balance: number
  credits: number
  debits: number
  raw_balance: RawValue
  raw_credits: RawValue
  raw_debits: RawValue
}

// ------------------------------------------------------------ conversions

function orNull<T>(value: T | undefined | null): T | null {
  return value === undefined || value === null ? null : value
}

function optionalString(value: unknown): string | undefined {
  return value === undefined || value === null ? undefined : String(value)
}

function struct(value: unknown): ProtoStruct | undefined {
  return toStruct(value) as ProtoStruct | undefined
}

export function storeCreditAccountFromProto(a: ProtoStoreCreditAccount): StoreCreditAccountDTO {
  return {
    id: a.id,
    customer_id: orNull(a.customer_id),
    code: orNull(a.code),
    currency_code: a.currency_code,
    balance: toNumber(a.balance),
    raw_balance: toRaw(a.balance),
    credits: toNumber(a.credits),
    raw_credits: toRaw(a.credits),
    debits: toNumber(a.debits),
    raw_debits: toRaw(a.debits),
    metadata: fromStruct(a.metadata),
    gift_card_id: orNull(a.gift_card_id),
    created_at: fromTimestamp(a.created_at),
    updated_at: fromTimestamp(a.updated_at),
    deleted_at: fromTimestamp(a.deleted_at),
  }
}

export function fromProtoAccountTransactionType(type: string | undefined): AccountTransactionType | null {
  switch (type) {
    case "ACCOUNT_TRANSACTION_TYPE_CREDIT":
      return "credit"
    case "ACCOUNT_TRANSACTION_TYPE_DEBIT":
      return "debit"
    default:
      return null
  }
}

/**
 * "credit" / "debit" (any case, or the proto name) -> the proto enum name.
 * Anything else cannot be put on the wire: a TypeError (invalid_data).
 */
export function toProtoAccountTransactionType(type: unknown): ProtoAccountTransactionType {
  const s = String(type).toLowerCase()
  if (s === "credit" || s === "account_transaction_type_credit") {
    return "ACCOUNT_TRANSACTION_TYPE_CREDIT"
  }
  if (s === "debit" || s === "account_transaction_type_debit") {
    return "ACCOUNT_TRANSACTION_TYPE_DEBIT"
  }
  throw new TypeError(`type must be credit or debit, got ${JSON.stringify(type)}`)
}

export function accountTransactionFromProto(t: ProtoAccountTransaction): AccountTransactionDTO {
  const createdAt = fromTimestamp(t.created_at)
  const deletedAt = fromTimestamp(t.deleted_at)
  return {
    id: t.id,
    account_id: t.account_id,
    type: fromProtoAccountTransactionType(t.type),
    amount: toNumber(t.amount),
    raw_amount: toRaw(t.amount),
    note: orNull(t.note),
    reference: t.reference ?? "",
    reference_id: t.reference_id ?? "",
    metadata: fromStruct(t.metadata),
    created_at: createdAt,
    updated_at: deletedAt ?? createdAt,
    deleted_at: deletedAt,
  }
}

export function accountStatsFromProto(s: ProtoRetrieveAccountStatsResponse): AccountStatsDTO {
  return {
    id: s.id,
    balance: toNumber(s.balance),
    credits: toNumber(s.credits),
    debits: toNumber(s.debits),
    raw_balance: toRaw(s.balance),
    raw_credits: toRaw(s.credits),
    raw_debits: toRaw(s.debits),
  }
}

/** A Medusa create payload -> loyalty.v1.CreateStoreCreditAccountInput. */
export function createStoreCreditAccountToProto(data: CreateStoreCreditAccountInput): ProtoCreateAccountInput {
  if (!data || typeof data !== "object") {
    throw new TypeError("a store credit account must be an object")
  }
  return {
    customer_id: optionalString(data.customer_id),
    code: optionalString(data.code),
    currency_code: data.currency_code ?? "",
    metadata: struct(data.metadata),
  }
}

/** Fields of UpdateStoreCreditAccountInput other than id and update_mask. */
const UPDATE_CONVERTERS: Record<string, (value: unknown) => string | ProtoStruct | undefined> = {
  customer_id: optionalString,
  code: optionalString,
  currency_code: optionalString,
  metadata: struct,
}

/**
 * A Medusa update payload -> loyalty.v1.UpdateStoreCreditAccountInput
 * (AIP-134), as for gift cards: every key passed goes into update_mask.paths;
 * a null value stays unset, which the server reads as "clear it". Unknown keys
 * go into the mask too, so the server, not the adapter, refuses them.
 */
export function updateStoreCreditAccountToProto(data: UpdateStoreCreditAccountInput): ProtoUpdateAccountInput {
  if (!data || typeof data !== "object") {
    throw new TypeError("a store credit account update must be an object")
  }
  const { id, ...rest } = data
  const out: ProtoUpdateAccountInput = { id: optionalString(id) ?? "", update_mask: { paths: [] } }
  const fields = out as unknown as Record<string, unknown>
  for (const [key, value] of Object.entries(rest)) {
    if (value === undefined) {
      continue
    }
    out.update_mask.paths.push(key)
    const convert = UPDATE_CONVERTERS[key]
    if (value !== null && convert) {
      fields[key] = convert(value)
    }
  }
  return out
}

/**
 * One credit or debit -> loyalty.v1.AccountEntryInput. The amount goes as an
 * exact decimal string (never a float); an idempotency key only when the
 * caller passed one.
 */
export function accountEntryToProto(entry: AccountEntryInput): ProtoAccountEntryInput {
  if (!entry || typeof entry !== "object") {
    throw new TypeError("a credit or debit must be an object")
  }
  const out: ProtoAccountEntryInput = {
    account_id: optionalString(entry.account_id) ?? "",
    amount: toDecimalString(entry.amount),
    note: optionalString(entry.note),
    reference: optionalString(entry.reference) ?? "",
    reference_id: optionalString(entry.reference_id) ?? "",
    metadata: struct(entry.metadata),
  }
  if (entry.idempotency_key !== undefined && entry.idempotency_key !== null && entry.idempotency_key !== "") {
    out.idempotency_key = String(entry.idempotency_key)
  }
  return out
}

// ------------------------------------------------------------ list arguments

/** Medusa's list config, as Query and the plugin's workflows pass it. */
export type StoreCreditListConfig = {
  skip?: number | null
  take?: number | null
  order?: string | Record<string, string>
  select?: string[]
  relations?: string[]
  withDeleted?: boolean
  [key: string]: unknown
}

/** The repeated-string filters ListStoreCreditAccountsRequest takes. */
export const ACCOUNT_LIST_FILTERS = ["id", "customer_id", "currency_code", "code"] as const

/** The repeated filters ListAccountTransactionsRequest takes. */
export const TRANSACTION_LIST_FILTERS = ["id", "account_id", "type", "reference", "reference_id"] as const

/** Filters (a value, an array or {$in}/{$eq} each, and q) + config -> ListStoreCreditAccountsRequest. */
export function listAccountsRequest(
  filters: Record<string, unknown>,
  config: StoreCreditListConfig
): ProtoListAccountsRequest {
  const request: ProtoListAccountsRequest = {}
  for (const [key, value] of Object.entries(filters ?? {})) {
    if (value === undefined || key === "context") {
      continue
    }
    if ((ACCOUNT_LIST_FILTERS as readonly string[]).includes(key)) {
      request[key as (typeof ACCOUNT_LIST_FILTERS)[number]] = filterValues(key, value, "store credit account filter")
    } else if (key === "q") {
      request.q = String(value ?? "")
    } else {
      throw new TypeError(`Unsupported store credit account filter: ${key}`)
    }
  }
  return { ...request, ...pagingToProto(config ?? {}) }
}

/** Filters + config -> ListAccountTransactionsRequest. */
export function listTransactionsRequest(
  filters: Record<string, unknown>,
  config: StoreCreditListConfig
): ProtoListTransactionsRequest {
  const request: ProtoListTransactionsRequest = {}
  for (const [key, value] of Object.entries(filters ?? {})) {
    if (value === undefined || key === "context") {
      continue
    }
    if (key === "type") {
      request.type = filterValues(key, value, "account transaction filter").map(toProtoAccountTransactionType)
    } else if ((TRANSACTION_LIST_FILTERS as readonly string[]).includes(key)) {
      request[key as Exclude<(typeof TRANSACTION_LIST_FILTERS)[number], "type">] = filterValues(
        key,
        value,
        "account transaction filter"
      )
    } else {
      throw new TypeError(`Unsupported account transaction filter: ${key}`)
    }
  }
  return { ...request, ...pagingToProto(config ?? {}) }
}
