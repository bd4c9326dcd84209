import { Module } from "@medusajs/framework/utils"
import LoyaltyModuleService from "./service"
import { LOYALTY_MODULE } from "./joiner"

export { LoyaltyModuleService, LOYALTY_MODULE }

/**
 * The `loyalty` module: `{ service, loaders, linkable }`. Use it alone with
 * `modules: [{ key: "loyalty", resolve: "medusa-loyalty-grpc/module", options }]`
 * or through the plugin. `linkable.giftCard` works with `defineLink`.
 */
const LoyaltyModule = Module(LOYALTY_MODULE, {
  service: LoyaltyModuleService,
})

export default LoyaltyModule
export const linkable = LoyaltyModule.linkable
