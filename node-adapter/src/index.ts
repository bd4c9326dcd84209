// medusa-loyalty-grpc: the Loyalty Module and Store Credit Module surfaces over gRPC, for Medusa 2.x.
export { default as LoyaltyModule, linkable, LoyaltyModuleService, LOYALTY_MODULE } from "./modules/loyalty"
export { LoyaltyGrpcClient, DEFAULT_ADDRESS, DEFAULT_TIMEOUT_MS, resolveOptions } from "./modules/loyalty/client"
export type { LoyaltyGrpcOptions, TlsOptions } from "./modules/loyalty/client"
export {
  LoyaltyGrpcError,
  toMedusaError,
  asMedusaError,
  decodeStatusDetails,
  REASON_TO_TYPE,
  ERROR_REASONS,
  isErrorReason,
} from "./modules/loyalty/errors"
export type { ErrorReason, ErrorInfo, FieldViolation, StatusDetails } from "./modules/loyalty/errors"
// The module-service interfaces: container.resolve<ILoyaltyModuleService>("loyalty"),
// container.resolve<IStoreCreditModuleService>("store_credit").
export type { ILoyaltyModuleService } from "./modules/loyalty/types"
export type {
  IStoreCreditModuleService,
  StoreCreditAccountFilters,
  AccountTransactionFilters,
} from "./modules/store-credit/types"
// The wire types generated from protos/loyalty/v1/loyalty.proto: LoyaltyWire.ProtoX / ProtoXOut, RequestOf<M>, ResponseOf<M>.
export type * as LoyaltyWire from "./modules/loyalty/wire"
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
