import type { ModuleJoinerConfig } from "@medusajs/framework/types"
import type { FilterValue, IdsInput, ListConfig, ListFilters } from "../loyalty/types"
import type {
  ACCOUNT_LIST_FILTERS,
  TRANSACTION_LIST_FILTERS,
  AccountEntryInput,
  AccountStatsDTO,
  AccountTransactionDTO,
  AccountTransactionType,
  CreateStoreCreditAccountInput,
  StoreCreditAccountDTO,
  UpdateStoreCreditAccountInput,
} from "./convert"


/** The filters listStoreCreditAccounts accepts: the fields of ACCOUNT_LIST_FILTERS (convert.ts), and `q`. */
export type StoreCreditAccountFilters = ListFilters<typeof ACCOUNT_LIST_FILTERS> & { q?: string; context?: unknown }

/** The filters listAccountTransactions accepts: the fields of TRANSACTION_LIST_FILTERS (convert.ts); no `q`. */
export type AccountTransactionFilters = Omit<ListFilters<typeof TRANSACTION_LIST_FILTERS>, "type"> & {
  type?: FilterValue<AccountTransactionType>
  context?: unknown
}

/**
 * The `store_credit` module as apps see it:
 * `container.resolve<IStoreCreditModuleService>("store_credit")`. The method
 * surface of @medusajs/loyalty-plugin 2.21's Store Credit Module. Amounts go
 * in as exact decimals (string, BigNumber, raw value) and come back as a
 * `number` plus the exact decimal string in `raw_*.value`.
 */
export interface IStoreCreditModuleService {
  readonly address: string
  __joinerConfig(): ModuleJoinerConfig

  // accounts
  createStoreCreditAccounts(data: CreateStoreCreditAccountInput[], sharedContext?: unknown): Promise<StoreCreditAccountDTO[]>
  createStoreCreditAccounts(data: CreateStoreCreditAccountInput, sharedContext?: unknown): Promise<StoreCreditAccountDTO>
  updateStoreCreditAccounts(data: UpdateStoreCreditAccountInput[], sharedContext?: unknown): Promise<StoreCreditAccountDTO[]>
  updateStoreCreditAccounts(data: UpdateStoreCreditAccountInput, sharedContext?: unknown): Promise<StoreCreditAccountDTO>
  retrieveStoreCreditAccount(id: string, config?: ListConfig): Promise<StoreCreditAccountDTO>
  listStoreCreditAccounts(filters?: StoreCreditAccountFilters, config?: ListConfig): Promise<StoreCreditAccountDTO[]>
  listAndCountStoreCreditAccounts(
    filters?: StoreCreditAccountFilters,
    config?: ListConfig
  ): Promise<[StoreCreditAccountDTO[], number]>
  deleteStoreCreditAccounts(ids: IdsInput): Promise<void>
  softDeleteStoreCreditAccounts(ids: IdsInput, config?: unknown): Promise<Record<string, string[]> | void>
  restoreStoreCreditAccounts(ids: IdsInput, config?: unknown): Promise<Record<string, string[]> | void>

  // movements
  creditAccounts(data: AccountEntryInput | AccountEntryInput[]): Promise<AccountTransactionDTO[]>
  debitAccounts(data: AccountEntryInput | AccountEntryInput[]): Promise<AccountTransactionDTO[]>
  retrieveAccountStats(data: { account_id: string } | string): Promise<AccountStatsDTO>

  // transactions
  listAccountTransactions(filters?: AccountTransactionFilters, config?: ListConfig): Promise<AccountTransactionDTO[]>
  listAndCountAccountTransactions(
    filters?: AccountTransactionFilters,
    config?: ListConfig
  ): Promise<[AccountTransactionDTO[], number]>
  retrieveAccountTransaction(id: string, config?: ListConfig): Promise<AccountTransactionDTO>
  deleteTransactions(ids: IdsInput): Promise<void>
  deleteAccountTransactions(ids: IdsInput): Promise<void>
  softDeleteAccountTransactions(ids: IdsInput, config?: unknown): Promise<Record<string, string[]> | void>
  restoreAccountTransactions(ids: IdsInput, config?: unknown): Promise<never>
  createAccountTransactions(data: unknown): Promise<never>
  updateAccountTransactions(data: unknown): Promise<never>

  // the plugin's gift card calls on store_credit (delete-gift-card step)
  deleteGiftCards(ids: IdsInput): Promise<void>
  restoreGiftCards(ids: IdsInput, config?: unknown): Promise<Record<string, string[]> | void>
}
