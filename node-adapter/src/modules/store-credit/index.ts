import { Module } from "@medusajs/framework/utils"
import StoreCreditModuleService from "./service"
import { STORE_CREDIT_MODULE } from "./joiner"

export { StoreCreditModuleService, STORE_CREDIT_MODULE }

/**
 * The `store_credit` module: `{ service, loaders, linkable }`. Use it alone with
 * `modules: [{ key: "store_credit", resolve: "medusa-loyalty-grpc/store-credit", options }]`
 * or through the plugin (which loads it next to `loyalty`).
 * `linkable.storeCreditAccount` and `linkable.accountTransaction` work with `defineLink`.
 */
const StoreCreditModule = Module(STORE_CREDIT_MODULE, {
  service: StoreCreditModuleService,
})

export default StoreCreditModule
export const linkable = StoreCreditModule.linkable
