// medusa-loyalty-grpc: the Loyalty Module and Store Credit Module surfaces over gRPC, for Medusa 2.x.
export { default as LoyaltyModule, linkable, LoyaltyModuleService, LOYALTY_MODULE } from "./modules/loyalty"
export { LoyaltyGrpcClient, DEFAULT_ADDRESS, DEFAULT_TIMEOUT_MS, resolveOptions } from "./modules/loyalty/client"
export type { LoyaltyGrpcOptions, TlsOptions } from "./modules/loyalty/client"
export { LoyaltyGrpcError, toMedusaError, asMedusaError, decodeStatusDetails } from "./modules/loyalty/errors"
export { joinerConfig, GIFT_CARD_SCHEMA } from "./modules/loyalty/joiner"
export { protosDir } from "./modules/loyalty/protos"
export * from "./modules/loyalty/convert"
export type * from "./modules/loyalty/service"
export * from "./workflows"
export {
  default as StoreCreditModule,
  linkable as storeCreditLinkable,
  StoreCreditModuleService,
  STORE_CREDIT_MODULE,
} from "./modules/store-credit"
export { storeCreditJoinerConfig, STORE_CREDIT_SCHEMA } from "./modules/store-credit/joiner"
export * from "./modules/store-credit/convert"
export type { IdsInput, StoreCreditModuleOptions } from "./modules/store-credit/service"
export * from "./modules/loyalty/program"
export * from "./lib/order-points"
