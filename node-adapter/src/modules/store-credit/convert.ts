import {
  fromStruct,
  fromTimestamp,
  listRequest,
  toDecimalString,
  toNumber,
  toRaw,
  toStruct,
  type DecimalInput,
  type ListConfig,
  type ListSpec,
  type RawValue,
} from "../loyalty/convert"
import type {
  LoyaltyMethod,
  ProtoAccountEntryInput,
  ProtoAccountTransactionOut,
  ProtoAccountTransactionTypeOut,
  ProtoCreateStoreCreditAccountInput,
  ProtoListAccountTransactionsRequest,
  ProtoListStoreCreditAccountsRequest,
  ProtoRetrieveAccountStatsResponseOut,
  ProtoStoreCreditAccountOut,
  ProtoStruct,
  ProtoUpdateStoreCreditAccountInput,
  RequestOf,
} from "../loyalty/wire"

/**
 * Store credit: JS values <-> loyalty.v1 messages (as @grpc/proto-loader
 * represents them with keepCase, enums as strings, defaults and oneofs).
 * No rule lives here; the server validates.
 */

// ------------------------------------------------------------ wire shapes
// Generated from the proto (see ../loyalty/wire.ts); named as before.

export type {
  ProtoStruct,
  ProtoAccountTransactionTypeOut as ProtoAccountTransactionType,
  ProtoStoreCreditAccountOut as ProtoStoreCreditAccount,
  ProtoAccountTransactionOut as ProtoAccountTransaction,
  ProtoCreateStoreCreditAccountInput as ProtoCreateAccountInput,
  ProtoUpdateStoreCreditAccountInput as ProtoUpdateAccountInput,
  ProtoAccountEntryInput as ProtoAccountEntryInput,
  ProtoListStoreCreditAccountsRequest as ProtoListAccountsRequest,
  ProtoListAccountTransactionsRequest as ProtoListTransactionsRequest,
  ProtoRetrieveAccountStatsResponseOut as ProtoRetrieveAccountStatsResponse,
} from "../loyalty/wire"

// ------------------------------------------------------------ Medusa shapes

/** An amount as Medusa passes it: a decimal string, BigNumber or raw `{ value, precision }` (never a float). */
export type AmountInput = DecimalInput

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
  return toStruct(value)
}

export function storeCreditAccountFromProto(a: ProtoStoreCreditAccountOut): StoreCreditAccountDTO {
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

export function fromProtoAccountTransactionType(
  type: ProtoAccountTransactionTypeOut | string | undefined
): AccountTransactionType | null {
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
export function toProtoAccountTransactionType(type: unknown): ProtoAccountTransactionTypeOut {
  const s = String(type).toLowerCase()
  if (s === "credit" || s === "account_transaction_type_credit") {
    return "ACCOUNT_TRANSACTION_TYPE_CREDIT"
  }
  if (s === "debit" || s === "account_transaction_type_debit") {
    return "ACCOUNT_TRANSACTION_TYPE_DEBIT"
  }
  throw new TypeError(`type must be credit or debit, got ${JSON.stringify(type)}`)
}

export function accountTransactionFromProto(t: ProtoAccountTransactionOut): AccountTransactionDTO {
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

export function accountStatsFromProto(s: ProtoRetrieveAccountStatsResponseOut): AccountStatsDTO {
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
export function createStoreCreditAccountToProto(data: CreateStoreCreditAccountInput): ProtoCreateStoreCreditAccountInput {
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
export function updateStoreCreditAccountToProto(data: UpdateStoreCreditAccountInput): ProtoUpdateStoreCreditAccountInput {
  if (!data || typeof data !== "object") {
    throw new TypeError("a store credit account update must be an object")
  }
  const { id, ...rest } = data
  const paths: string[] = []
  const out: ProtoUpdateStoreCreditAccountInput = { id: optionalString(id) ?? "", update_mask: { paths } }
  const fields = out as Record<string, unknown>
  for (const [key, value] of Object.entries(rest)) {
    if (value === undefined) {
      continue
    }
    paths.push(key)
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
export type StoreCreditListConfig = ListConfig

/** The repeated-string filters ListStoreCreditAccountsRequest takes. */
export const ACCOUNT_LIST_FILTERS = [
  "id",
  "customer_id",
  "currency_code",
  "code",
] as const satisfies readonly (keyof ProtoListStoreCreditAccountsRequest)[]

/** The repeated filters ListAccountTransactionsRequest takes. */
export const TRANSACTION_LIST_FILTERS = [
  "id",
  "account_id",
  "type",
  "reference",
  "reference_id",
] as const satisfies readonly (keyof ProtoListAccountTransactionsRequest)[]

/** listStoreCreditAccounts / listAndCountStoreCreditAccounts. */
export const ACCOUNT_LIST: ListSpec<ProtoListStoreCreditAccountsRequest> = {
  what: "store credit account filter",
  fields: ACCOUNT_LIST_FILTERS,
  q: true,
}

/** listAccountTransactions / listAndCountAccountTransactions (no `q`; `type` is credit or debit). */
export const TRANSACTION_LIST: ListSpec<ProtoListAccountTransactionsRequest> = {
  what: "account transaction filter",
  fields: TRANSACTION_LIST_FILTERS,
  values: { type: toProtoAccountTransactionType },
  q: false,
}

/** Filters (a value, an array or {$in}/{$eq} each, and q) + config -> ListStoreCreditAccountsRequest. */
export function listAccountsRequest(
  filters: Record<string, unknown>,
  config: StoreCreditListConfig
): ProtoListStoreCreditAccountsRequest {
  return listRequest(ACCOUNT_LIST, filters, config)
}

/** Filters + config -> ListAccountTransactionsRequest. */
export function listTransactionsRequest(
  filters: Record<string, unknown>,
  config: StoreCreditListConfig
): ProtoListAccountTransactionsRequest {
  return listRequest(TRANSACTION_LIST, filters, config)
}

// ------------------------------------------------------------ requests
// Every request the `store_credit` module sends is built here.

export function createAccountsRequest(accounts: CreateStoreCreditAccountInput[]): RequestOf<"CreateStoreCreditAccounts"> {
  return { accounts: accounts.map(createStoreCreditAccountToProto) }
}

export function updateAccountsRequest(accounts: UpdateStoreCreditAccountInput[]): RequestOf<"UpdateStoreCreditAccounts"> {
  return { accounts: accounts.map(updateStoreCreditAccountToProto) }
}

/** CreditAccounts `{ credits }` / DebitAccounts `{ debits }`. */
export function accountEntriesRequest<M extends "CreditAccounts" | "DebitAccounts">(
  method: M,
  entries: AccountEntryInput[]
): RequestOf<M> {
  const items = entries.map(accountEntryToProto)
  return (method === "CreditAccounts" ? { credits: items } : { debits: items }) as RequestOf<M>
}

export function accountStatsRequest(data: { account_id: string } | string): RequestOf<"RetrieveAccountStats"> {
  const accountId = typeof data === "string" ? data : data?.account_id
  return { account_id: accountId ?? "" }
}

/** A list request that reads the transactions of these accounts (relations: ["transactions"]). */
export function transactionsOfAccountsRequest(
  accountIds: string[],
  withDeleted: boolean
): ProtoListAccountTransactionsRequest {
  return { account_id: accountIds, with_deleted: withDeleted }
}

/** A list request that reads these accounts, soft-deleted ones too (relations: ["account"]). */
export function accountsByIdRequest(ids: string[]): ProtoListStoreCreditAccountsRequest {
  return { id: ids, with_deleted: true }
}

/** The list methods of the store credit surface. */
export type StoreCreditListMethod = Extract<LoyaltyMethod, "ListStoreCreditAccounts" | "ListAccountTransactions">
