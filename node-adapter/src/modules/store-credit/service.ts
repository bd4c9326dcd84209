import { MedusaError } from "@medusajs/framework/utils"
import type { ModuleJoinerConfig } from "@medusajs/framework/types"
import { LoyaltyGrpcClient, type LoyaltyGrpcOptions } from "../loyalty/client"
import { idsRequest, idRequest, matchesNothing, pageRequest, type IdsInput } from "../loyalty/convert"
import { asArray, convert, invalid, MAX_TAKE, project } from "../loyalty/service"
import {
  ACCOUNT_LIST,
  accountEntriesRequest,
  accountsByIdRequest,
  accountStatsFromProto,
  accountStatsRequest,
  accountTransactionFromProto,
  createAccountsRequest,
  listAccountsRequest,
  listTransactionsRequest,
  storeCreditAccountFromProto,
  TRANSACTION_LIST,
  transactionsOfAccountsRequest,
  updateAccountsRequest,
  type AccountEntryInput,
  type AccountStatsDTO,
  type AccountTransactionDTO,
  type CreateStoreCreditAccountInput,
  type StoreCreditAccountDTO,
  type StoreCreditListConfig,
  type ProtoListAccountsRequest,
  type ProtoListTransactionsRequest,
  type UpdateStoreCreditAccountInput,
} from "./convert"
import { storeCreditJoinerConfig } from "./joiner"
import type { IStoreCreditModuleService } from "./types"

export type { IdsInput }
export type * from "./types"

export type StoreCreditModuleOptions = LoyaltyGrpcOptions

/** One page of a list read: skip / take when reading every page, and whether to count. */
type PageArgs = { skip?: number; take?: number; with_count: boolean }

/** The ids of an IdsInput, empty ones dropped. */
function idsOf(input: IdsInput | null | undefined): string[] {
  if (input === undefined || input === null) {
    return []
  }
  const items: unknown[] = Array.isArray(input) ? input : [input]
  const out: string[] = []
  for (const item of items) {
    if (typeof item === "string") {
      out.push(item)
    } else if (item && typeof item === "object" && "id" in item) {
      const id = (item as { id: unknown }).id
      for (const one of Array.isArray(id) ? id : [id]) {
        if (one !== undefined && one !== null && one !== "") {
          out.push(String(one))
        }
      }
    } else {
      throw invalid(`Expected an id, a list of ids or { id }, got ${JSON.stringify(item)}`)
    }
  }
  return out.filter((id) => id !== "")
}

function notAllowed(message: string): MedusaError {
  return new MedusaError(MedusaError.Types.NOT_ALLOWED, message)
}

const ACCOUNT_RELATIONS = ["transactions"]
const TRANSACTION_RELATIONS = ["account"]

/** The relations asked for: config.relations (only `allowed` ones), or a dotted select such as "transactions.amount". */
function relationsOf(config: StoreCreditListConfig, allowed: string[], entity: string): Set<string> {
  const wanted = new Set<string>()
  for (const relation of config.relations ?? []) {
    wanted.add(String(relation).split(".")[0])
  }
  for (const relation of wanted) {
    if (!allowed.includes(relation)) {
      throw invalid(`Unsupported ${entity} relation: ${relation}`)
    }
  }
  // A dotted select ("transactions.amount") implies its relation, as in MedusaService.
  for (const field of config.select ?? []) {
    const [head, ...rest] = String(field).split(".")
    if (rest.length && allowed.includes(head)) {
      wanted.add(head)
    }
  }
  return wanted
}

/**
 * The fields to keep: the select plus the relations asked for. Query passes a
 * relation in `relations` only (the Admin UI's `fields=*account` on an
 * account's transactions: `select` without "account", `relations: ["account"]`),
 * and projecting on `select` alone dropped the relation it had just loaded.
 */
function withRelations(select: string[] | undefined, relations: Set<string>): string[] | undefined {
  return select && select.length && relations.size ? [...select, ...relations] : select
}

/**
 * The `store_credit` module service: the method surface of the Store Credit
 * Module of `@medusajs/loyalty-plugin` 2.21 (IStoreCreditModuleService plus the
 * methods MedusaService generates for it), every method one gRPC call to
 * loyalty.v1.LoyaltyService (two when Query asks for a relation).
 *
 * Balances, credits and debits come from the account row (never summed over
 * the ledger); deleting a transaction voids it: its amount leaves the
 * balance, the row stays in the audit trail.
 */
export default class StoreCreditModuleService implements IStoreCreditModuleService {
  protected readonly options_: StoreCreditModuleOptions
  protected readonly grpc_: LoyaltyGrpcClient

  /** Medusa's module lifecycle hooks: close the channel on shutdown. */
  __hooks = {
    onApplicationShutdown: async () => {
      this.grpc_.close()
    },
  }

  constructor(_deps: Record<string, unknown> = {}, options: StoreCreditModuleOptions = {}) {
    this.options_ = options ?? {}
    this.grpc_ = new LoyaltyGrpcClient(this.options_)
  }

  __joinerConfig(): ModuleJoinerConfig {
    return storeCreditJoinerConfig
  }

  /** The address this service dials (for logs and error messages). */
  get address(): string {
    return this.grpc_.address
  }

  // ------------------------------------------------------------ accounts

  createStoreCreditAccounts(data: CreateStoreCreditAccountInput[], sharedContext?: unknown): Promise<StoreCreditAccountDTO[]>
  createStoreCreditAccounts(data: CreateStoreCreditAccountInput, sharedContext?: unknown): Promise<StoreCreditAccountDTO>
  async createStoreCreditAccounts(
    data: CreateStoreCreditAccountInput | CreateStoreCreditAccountInput[]
  ): Promise<StoreCreditAccountDTO | StoreCreditAccountDTO[]> {
    const input = asArray(data)
    if (Array.isArray(data) && !input.length) {
      return []
    }
    const request = convert(() => createAccountsRequest(input))
    const res = await this.grpc_.call("CreateStoreCreditAccounts", request)
    const accounts = (res.accounts ?? []).map(storeCreditAccountFromProto)
    return Array.isArray(data) ? accounts : accounts[0]
  }

  updateStoreCreditAccounts(data: UpdateStoreCreditAccountInput[], sharedContext?: unknown): Promise<StoreCreditAccountDTO[]>
  updateStoreCreditAccounts(data: UpdateStoreCreditAccountInput, sharedContext?: unknown): Promise<StoreCreditAccountDTO>
  async updateStoreCreditAccounts(
    data: UpdateStoreCreditAccountInput | UpdateStoreCreditAccountInput[]
  ): Promise<StoreCreditAccountDTO | StoreCreditAccountDTO[]> {
    const input = asArray(data)
    if (Array.isArray(data) && !input.length) {
      return []
    }
    const request = convert(() => updateAccountsRequest(input))
    const res = await this.grpc_.call("UpdateStoreCreditAccounts", request)
    const accounts = (res.accounts ?? []).map(storeCreditAccountFromProto)
    return Array.isArray(data) ? accounts : accounts[0]
  }

  async retrieveStoreCreditAccount(id: string, config: StoreCreditListConfig = {}): Promise<StoreCreditAccountDTO> {
    const cfg = config ?? {}
    const relations = convert(() => relationsOf(cfg, ACCOUNT_RELATIONS, "store credit account"))
    const res = await this.grpc_.call("RetrieveStoreCreditAccount", idRequest(id))
    const [account] = await this.withTransactions_([storeCreditAccountFromProto(res)], relations, cfg)
    return project(account, withRelations(cfg.select, relations))
  }

  async listStoreCreditAccounts(
    filters: Record<string, unknown> = {},
    config: StoreCreditListConfig = {}
  ): Promise<StoreCreditAccountDTO[]> {
    const [accounts] = await this.listAccounts_(filters, config, false)
    return accounts
  }

  async listAndCountStoreCreditAccounts(
    filters: Record<string, unknown> = {},
    config: StoreCreditListConfig = {}
  ): Promise<[StoreCreditAccountDTO[], number]> {
    return this.listAccounts_(filters, config, true)
  }

  /**
   * Permanently deletes accounts and their transactions. The server refuses
   * (not_allowed) an account that funds an existing gift card.
   */
  async deleteStoreCreditAccounts(ids: IdsInput): Promise<void> {
    const list = idsOf(ids)
    if (!list.length) {
      return
    }
    await this.grpc_.call("DeleteStoreCreditAccounts", idsRequest(list))
  }

  /** Soft-deleted accounts disappear from reads and cannot be credited or debited until restored. */
  async softDeleteStoreCreditAccounts(ids: IdsInput, _config?: unknown): Promise<Record<string, string[]> | void> {
    return this.toggleDeleted_("SoftDeleteStoreCreditAccounts", "store_credit_account_id", ids)
  }

  async restoreStoreCreditAccounts(ids: IdsInput, _config?: unknown): Promise<Record<string, string[]> | void> {
    return this.toggleDeleted_("RestoreStoreCreditAccounts", "store_credit_account_id", ids)
  }

  // ------------------------------------------------------------ movements

  /**
   * Credits one or many accounts in one transaction: every item or none.
   * Returns the transactions in input order (a replayed idempotency key
   * returns the original transaction).
   */
  async creditAccounts(data: AccountEntryInput | AccountEntryInput[]): Promise<AccountTransactionDTO[]> {
    return this.move_("CreditAccounts", data)
  }

  /** Debits one or many accounts in one transaction: every item or none; no account below zero (not_allowed). */
  async debitAccounts(data: AccountEntryInput | AccountEntryInput[]): Promise<AccountTransactionDTO[]> {
    return this.move_("DebitAccounts", data)
  }

  /** balance, credits and debits of one account, read from its row (one primary-key read). */
  async retrieveAccountStats(data: { account_id: string } | string): Promise<AccountStatsDTO> {
    const res = await this.grpc_.call("RetrieveAccountStats", accountStatsRequest(data))
    return accountStatsFromProto(res)
  }

  // ------------------------------------------------------------ transactions

  async listAccountTransactions(
    filters: Record<string, unknown> = {},
    config: StoreCreditListConfig = {}
  ): Promise<AccountTransactionDTO[]> {
    const [transactions] = await this.listTransactions_(filters, config, false)
    return transactions
  }

  async listAndCountAccountTransactions(
    filters: Record<string, unknown> = {},
    config: StoreCreditListConfig = {}
  ): Promise<[AccountTransactionDTO[], number]> {
    return this.listTransactions_(filters, config, true)
  }

  /** One transaction by id (voided ones too, with `withDeleted`). */
  async retrieveAccountTransaction(id: string, config: StoreCreditListConfig = {}): Promise<AccountTransactionDTO> {
    if (!id) {
      throw invalid("accountTransaction - id must be defined")
    }
    const cfg = config ?? {}
    const [transactions] = await this.listTransactions_({ id: [id] }, { ...cfg, skip: 0, take: 1 }, false)
    if (!transactions.length) {
      throw new MedusaError(MedusaError.Types.NOT_FOUND, `AccountTransaction with id: ${id} was not found`)
    }
    return transactions[0]
  }

  /**
   * Voids transactions (the plugin's compensation of a credit or a debit):
   * each amount leaves its account's balance and totals in one transaction;
   * refused (not_allowed, nothing changed) if an account would go below zero.
   * The voided rows stay in the audit trail (`withDeleted`).
   */
  async deleteTransactions(ids: IdsInput): Promise<void> {
    await this.void_(ids)
  }

  /** The name MedusaService generates for deleteTransactions; the same void. */
  async deleteAccountTransactions(ids: IdsInput): Promise<void> {
    await this.void_(ids)
  }

  /** A soft delete of a ledger row is a void, as deleteAccountTransactions. */
  async softDeleteAccountTransactions(ids: IdsInput, _config?: unknown): Promise<Record<string, string[]> | void> {
    const voided = await this.void_(ids)
    return voided === undefined ? undefined : { account_transaction_id: voided }
  }

  /** Voids are final: a voided amount is never put back (credit or debit again instead). */
  async restoreAccountTransactions(_ids: IdsInput, _config?: unknown): Promise<never> {
    throw notAllowed("Voided store credit transactions cannot be restored; credit or debit the account again instead")
  }

  /** The ledger is written only by creditAccounts / debitAccounts (balances and rules are the server's). */
  async createAccountTransactions(_data: unknown): Promise<never> {
    throw notAllowed("Store credit transactions are created by creditAccounts or debitAccounts")
  }

  /** Ledger rows are immutable. */
  async updateAccountTransactions(_data: unknown): Promise<never> {
    throw notAllowed("Store credit transactions are immutable; void one with deleteTransactions")
  }

  // ------------------------------------------------------------ the plugin's misrouted gift card calls

  /**
   * `@medusajs/loyalty-plugin` 2.21.1's delete-gift-card step resolves
   * `store_credit` and calls `deleteGiftCards({ id: [...] })`, compensated by
   * `restoreGiftCards({ id })`. Served here as the loyalty service's
   * SoftDeleteGiftCards, so that compensation really restores the card (as
   * Medusa's own delete steps soft-delete and restore).
   */
  async deleteGiftCards(ids: IdsInput): Promise<void> {
    await this.toggleDeleted_("SoftDeleteGiftCards", "gift_card_id", ids)
  }

  /** The compensation of deleteGiftCards: RestoreGiftCards. */
  async restoreGiftCards(ids: IdsInput, _config?: unknown): Promise<Record<string, string[]> | void> {
    return this.toggleDeleted_("RestoreGiftCards", "gift_card_id", ids)
  }

  // ------------------------------------------------------------ internals

  private async move_(
    method: "CreditAccounts" | "DebitAccounts",
    data: AccountEntryInput | AccountEntryInput[]
  ): Promise<AccountTransactionDTO[]> {
    const items = asArray(data)
    if (!items.length) {
      return []
    }
    const request = convert(() => accountEntriesRequest(method, items))
    const res = await this.grpc_.call(method, request)
    return (res.transactions ?? []).map(accountTransactionFromProto)
  }

  private async void_(ids: IdsInput): Promise<string[] | undefined> {
    const list = idsOf(ids)
    if (!list.length) {
      return undefined
    }
    const res = await this.grpc_.call("DeleteAccountTransactions", idsRequest(list))
    return res.ids ?? []
  }

  /** Soft delete / restore: nothing to do (and no call) for no ids. */
  private async toggleDeleted_(
    method: "SoftDeleteStoreCreditAccounts" | "RestoreStoreCreditAccounts" | "SoftDeleteGiftCards" | "RestoreGiftCards",
    key: "store_credit_account_id" | "gift_card_id",
    ids: IdsInput
  ): Promise<Record<string, string[]> | void> {
    const list = idsOf(ids)
    if (!list.length) {
      return
    }
    const res = await this.grpc_.call(method, idsRequest(list))
    return { [key]: res.ids ?? [] }
  }

  /**
   * One list RPC with skip/take; `take: null` (Medusa's "no limit", e.g. Query
   * fetching by a list of ids) reads every page of MAX_TAKE.
   */
  private async pages_<P>(
    list: (page: PageArgs) => Promise<[P[], number]>,
    config: StoreCreditListConfig,
    withCount: boolean
  ): Promise<[P[], number]> {
    if (config.take !== null) {
      const [page, count] = await list({ with_count: withCount })
      return [page, withCount ? count : page.length]
    }
    const all: P[] = []
    let skip = Number(config.skip ?? 0)
    let count = 0
    for (;;) {
      const first = all.length === 0
      const [page, pageCount] = await list({ skip, take: MAX_TAKE, with_count: withCount && first })
      if (withCount && first) {
        count = pageCount
      }
      all.push(...page)
      if (page.length < MAX_TAKE) {
        break
      }
      skip += page.length
    }
    return [all, withCount ? count : all.length]
  }

  /** One page of ListStoreCreditAccounts: the accounts and the count. */
  private accountsPage_(request: ProtoListAccountsRequest) {
    return async (page: PageArgs): Promise<[StoreCreditAccountDTO[], number]> => {
      const res = await this.grpc_.call("ListStoreCreditAccounts", pageRequest(request, page))
      return [(res.accounts ?? []).map(storeCreditAccountFromProto), res.count ?? 0]
    }
  }

  /** One page of ListAccountTransactions: the transactions and the count. */
  private transactionsPage_(request: ProtoListTransactionsRequest) {
    return async (page: PageArgs): Promise<[AccountTransactionDTO[], number]> => {
      const res = await this.grpc_.call("ListAccountTransactions", pageRequest(request, page))
      return [(res.transactions ?? []).map(accountTransactionFromProto), res.count ?? 0]
    }
  }

  private async listAccounts_(
    filters: Record<string, unknown>,
    config: StoreCreditListConfig,
    withCount: boolean
  ): Promise<[StoreCreditAccountDTO[], number]> {
    const cfg = config ?? {}
    const request: ProtoListAccountsRequest = convert(() => listAccountsRequest(filters, cfg))
    const relations = convert(() => relationsOf(cfg, ACCOUNT_RELATIONS, "store credit account"))
    if (matchesNothing(filters, ACCOUNT_LIST)) {
      return [[], 0]
    }
    const [rows, count] = await this.pages_(this.accountsPage_(request), cfg, withCount)
    const accounts = await this.withTransactions_(rows, relations, cfg)
    return [accounts.map((a) => project(a, withRelations(cfg.select, relations))), count]
  }

  private async listTransactions_(
    filters: Record<string, unknown>,
    config: StoreCreditListConfig,
    withCount: boolean
  ): Promise<[AccountTransactionDTO[], number]> {
    const cfg = config ?? {}
    const request: ProtoListTransactionsRequest = convert(() => listTransactionsRequest(filters, cfg))
    const relations = convert(() => relationsOf(cfg, TRANSACTION_RELATIONS, "account transaction"))
    if (matchesNothing(filters, TRANSACTION_LIST)) {
      return [[], 0]
    }
    const [rows, count] = await this.pages_(this.transactionsPage_(request), cfg, withCount)
    const transactions = await this.withAccounts_(rows, relations)
    return [transactions.map((t) => project(t, withRelations(cfg.select, relations))), count]
  }

  /** relations: ["transactions"]: every transaction of these accounts (newest first), in one more list call. */
  private async withTransactions_(
    accounts: StoreCreditAccountDTO[],
    relations: Set<string>,
    config: StoreCreditListConfig
  ): Promise<StoreCreditAccountDTO[]> {
    if (!relations.has("transactions") || !accounts.length) {
      return accounts
    }
    const request = transactionsOfAccountsRequest(
      accounts.map((a) => a.id),
      !!config.withDeleted
    )
    const [transactions] = await this.pages_(this.transactionsPage_(request), { take: null }, false)
    return accounts.map((a) => ({ ...a, transactions: transactions.filter((t) => t.account_id === a.id) }))
  }

  /** relations: ["account"]: the accounts of these transactions (soft-deleted ones too), in one more list call. */
  private async withAccounts_(
    transactions: AccountTransactionDTO[],
    relations: Set<string>
  ): Promise<AccountTransactionDTO[]> {
    if (!relations.has("account") || !transactions.length) {
      return transactions
    }
    const ids = [...new Set(transactions.map((t) => t.account_id))]
    const [accounts] = await this.pages_(this.accountsPage_(accountsByIdRequest(ids)), { take: null }, false)
    const byId = new Map(accounts.map((a) => [a.id, a]))
    return transactions.map((t) => {
      const account = byId.get(t.account_id)
      return account ? { ...t, account } : t
    })
  }
}
