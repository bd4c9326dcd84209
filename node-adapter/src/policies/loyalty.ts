import { definePolicies } from "@medusajs/framework/utils"

/** RBAC policies of the Points API, synced by Medusa where RBAC is enabled. */
export const loyaltyPolicies = definePolicies([
  { name: "ReadLoyaltyPoints", resource: "loyalty", operation: "read", description: "Read loyalty point balances and adjustments" },
  { name: "WriteLoyaltyPoints", resource: "loyalty", operation: "write", description: "Adjust loyalty points" },
])
