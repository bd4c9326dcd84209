import { defineLink } from "@medusajs/framework/utils"
import CustomerModule from "@medusajs/medusa/customer"
import LoyaltyModule from "medusa-loyalty-grpc/module"

/** A customer has gift cards: proves the module's `linkable` works with defineLink. */
export default defineLink(CustomerModule.linkable.customer, {
  linkable: LoyaltyModule.linkable.giftCard,
  isList: true,
})
