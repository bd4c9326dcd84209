import type { ModuleJoinerConfig } from "@medusajs/framework/types"

export const STORE_CREDIT_MODULE = "store_credit"

/**
 * The types Query (query.graph / remote joiner) sees: the plugin's
 * StoreCreditAccount and AccountTransaction, plus the balances our rows carry.
 * `transactions` and `account` are relations inside this module: Query passes
 * them to the list methods as `relations`.
 */
export const STORE_CREDIT_SCHEMA = `
  enum AccountTransactionType {
    credit
    debit
  }

  type StoreCreditAccount {
    id: ID!
    code: String
    currency_code: String!
    customer_id: String
    balance: Float!
    raw_balance: JSON
    credits: Float!
    raw_credits: JSON
    debits: Float!
    raw_debits: JSON
    metadata: JSON
    gift_card_id: String
    transactions: [AccountTransaction]!
    created_at: DateTime!
    updated_at: DateTime!
    deleted_at: DateTime
  }

  type AccountTransaction {
    id: ID!
    account_id: String!
    account: StoreCreditAccount!
    type: AccountTransactionType!
    amount: Float!
    raw_amount: JSON
    note: String
    reference: String!
    reference_id: String!
    metadata: JSON
    created_at: DateTime!
    updated_at: DateTime!
    deleted_at: DateTime
  }
`

/**
 * How Medusa's Query reaches this service, with the aliases and method
 * suffixes MedusaService generates for the plugin's models:
 * `query.graph({ entity: "store_credit_account" })` calls
 * listStoreCreditAccounts / listAndCountStoreCreditAccounts, and
 * `entity: "account_transaction"` listAccountTransactions /
 * listAndCountAccountTransactions. The linkable keys are the plugin's, so its
 * links (gift card <-> account, account -> customer) resolve against this module.
 */
export const storeCreditJoinerConfig: ModuleJoinerConfig = {
  serviceName: STORE_CREDIT_MODULE,
  primaryKeys: ["id"],
  linkableKeys: {
    store_credit_account_id: "StoreCreditAccount",
    account_transaction_id: "AccountTransaction",
  },
  schema: STORE_CREDIT_SCHEMA,
  alias: [
    {
      name: ["store_credit_account", "store_credit_accounts"],
      entity: "StoreCreditAccount",
      args: { entity: "StoreCreditAccount", methodSuffix: "StoreCreditAccounts" },
    },
    {
      name: ["account_transaction", "account_transactions"],
      entity: "AccountTransaction",
      args: { entity: "AccountTransaction", methodSuffix: "AccountTransactions" },
    },
  ],
  idPrefixToEntityName: { sc_acc: "StoreCreditAccount", sc_trx: "AccountTransaction" },
} as ModuleJoinerConfig
