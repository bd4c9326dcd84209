import type { ModuleJoinerConfig } from "@medusajs/framework/types"

export const LOYALTY_MODULE = "loyalty"

/** The GiftCard type Query (query.graph / remote joiner) sees. */
export const GIFT_CARD_SCHEMA = `
  enum GiftCardStatus {
    pending
    redeemed
  }

  type GiftCard {
    id: ID!
    code: String!
    status: GiftCardStatus!
    value: Float!
    raw_value: JSON
    balance: Float!
    raw_balance: JSON
    currency_code: String!
    customer_id: String
    reference_id: String
    reference: String
    line_item_id: String
    note: String
    expires_at: DateTime
    metadata: JSON
    created_at: DateTime!
    updated_at: DateTime!
    deleted_at: DateTime
  }
`

/**
 * How Medusa's Query reaches this service: `query.graph({ entity: "gift_card" })`
 * calls listGiftCards / listAndCountGiftCards (methodSuffix "GiftCards").
 * `serviceName` is required, or plugin mode fails with "doesn't have a serviceName".
 */
export const joinerConfig: ModuleJoinerConfig = {
  serviceName: LOYALTY_MODULE,
  primaryKeys: ["id"],
  linkableKeys: { gift_card_id: "GiftCard" },
  schema: GIFT_CARD_SCHEMA,
  alias: [
    {
      name: ["gift_card", "gift_cards"],
      entity: "GiftCard",
      args: { entity: "GiftCard", methodSuffix: "GiftCards" },
    },
  ],
  idPrefixToEntityName: { gcard: "GiftCard" },
} as ModuleJoinerConfig
