import type { MethodDefinition } from "@grpc/proto-loader"
import type { LoyaltyServiceDefinition } from "../../generated/loyalty/v1/LoyaltyService"

/**
 * The wire types: what @grpc/proto-loader sends and gives back for
 * loyalty.v1.LoyaltyService, generated from protos/loyalty/v1/loyalty.proto by
 * `npm run gen-types` (scripts/gen-types.mjs, run by `npm run build`) with the
 * loader options of protos.ts. `ProtoX` is what a request may carry (every
 * field optional), `ProtoXOut` what a response carries (defaults filled in).
 */

export type { LoyaltyServiceClient } from "../../generated/loyalty/v1/LoyaltyService"
export type { ProtoGrpcType } from "../../generated/loyalty"
export type { Struct as ProtoStruct, Struct__Output as ProtoStructOut } from "../../generated/google/protobuf/Struct"
export type { Value as ProtoValue, Value__Output as ProtoValueOut } from "../../generated/google/protobuf/Value"
export type {
  Timestamp as ProtoTimestamp,
  Timestamp__Output as ProtoTimestampOut,
} from "../../generated/google/protobuf/Timestamp"
export type { AccountEntryInput as ProtoAccountEntryInput, AccountEntryInput__Output as ProtoAccountEntryInputOut } from "../../generated/loyalty/v1/AccountEntryInput"
export type { AccountTransaction as ProtoAccountTransaction, AccountTransaction__Output as ProtoAccountTransactionOut } from "../../generated/loyalty/v1/AccountTransaction"
export type { AccountTransactionType as ProtoAccountTransactionType, AccountTransactionType__Output as ProtoAccountTransactionTypeOut } from "../../generated/loyalty/v1/AccountTransactionType"
export type { AdjustPointsRequest as ProtoAdjustPointsRequest, AdjustPointsRequest__Output as ProtoAdjustPointsRequestOut } from "../../generated/loyalty/v1/AdjustPointsRequest"
export type { AdjustPointsResponse as ProtoAdjustPointsResponse, AdjustPointsResponse__Output as ProtoAdjustPointsResponseOut } from "../../generated/loyalty/v1/AdjustPointsResponse"
export type { CapturePointsHoldRequest as ProtoCapturePointsHoldRequest, CapturePointsHoldRequest__Output as ProtoCapturePointsHoldRequestOut } from "../../generated/loyalty/v1/CapturePointsHoldRequest"
export type { CapturePointsHoldResponse as ProtoCapturePointsHoldResponse, CapturePointsHoldResponse__Output as ProtoCapturePointsHoldResponseOut } from "../../generated/loyalty/v1/CapturePointsHoldResponse"
export type { CreateGiftCardInput as ProtoCreateGiftCardInput, CreateGiftCardInput__Output as ProtoCreateGiftCardInputOut } from "../../generated/loyalty/v1/CreateGiftCardInput"
export type { CreateStoreCreditAccountInput as ProtoCreateStoreCreditAccountInput, CreateStoreCreditAccountInput__Output as ProtoCreateStoreCreditAccountInputOut } from "../../generated/loyalty/v1/CreateStoreCreditAccountInput"
export type { CreditGiftCardRequest as ProtoCreditGiftCardRequest, CreditGiftCardRequest__Output as ProtoCreditGiftCardRequestOut } from "../../generated/loyalty/v1/CreditGiftCardRequest"
export type { GetPointsBalanceResponse as ProtoGetPointsBalanceResponse, GetPointsBalanceResponse__Output as ProtoGetPointsBalanceResponseOut } from "../../generated/loyalty/v1/GetPointsBalanceResponse"
export type { GiftCard as ProtoGiftCard, GiftCard__Output as ProtoGiftCardOut } from "../../generated/loyalty/v1/GiftCard"
export type { GiftCardStatus as ProtoGiftCardStatus, GiftCardStatus__Output as ProtoGiftCardStatusOut } from "../../generated/loyalty/v1/GiftCardStatus"
export type { GiftCardTransaction as ProtoGiftCardTransaction, GiftCardTransaction__Output as ProtoGiftCardTransactionOut } from "../../generated/loyalty/v1/GiftCardTransaction"
export type { GiftCardTransactionType as ProtoGiftCardTransactionType, GiftCardTransactionType__Output as ProtoGiftCardTransactionTypeOut } from "../../generated/loyalty/v1/GiftCardTransactionType"
export type { HoldPointsRequest as ProtoHoldPointsRequest, HoldPointsRequest__Output as ProtoHoldPointsRequestOut } from "../../generated/loyalty/v1/HoldPointsRequest"
export type { ListAccountTransactionsRequest as ProtoListAccountTransactionsRequest, ListAccountTransactionsRequest__Output as ProtoListAccountTransactionsRequestOut } from "../../generated/loyalty/v1/ListAccountTransactionsRequest"
export type { ListGiftCardsRequest as ProtoListGiftCardsRequest, ListGiftCardsRequest__Output as ProtoListGiftCardsRequestOut } from "../../generated/loyalty/v1/ListGiftCardsRequest"
export type { ListStoreCreditAccountsRequest as ProtoListStoreCreditAccountsRequest, ListStoreCreditAccountsRequest__Output as ProtoListStoreCreditAccountsRequestOut } from "../../generated/loyalty/v1/ListStoreCreditAccountsRequest"
export type { OrderPoints as ProtoOrderPoints, OrderPoints__Output as ProtoOrderPointsOut } from "../../generated/loyalty/v1/OrderPoints"
export type { PointAdjustment as ProtoPointAdjustment, PointAdjustment__Output as ProtoPointAdjustmentOut } from "../../generated/loyalty/v1/PointAdjustment"
export type { PointsHold as ProtoPointsHold, PointsHold__Output as ProtoPointsHoldOut } from "../../generated/loyalty/v1/PointsHold"
export type { PointsHoldStatus as ProtoPointsHoldStatus, PointsHoldStatus__Output as ProtoPointsHoldStatusOut } from "../../generated/loyalty/v1/PointsHoldStatus"
export type { RetrieveAccountStatsResponse as ProtoRetrieveAccountStatsResponse, RetrieveAccountStatsResponse__Output as ProtoRetrieveAccountStatsResponseOut } from "../../generated/loyalty/v1/RetrieveAccountStatsResponse"
export type { StoreCreditAccount as ProtoStoreCreditAccount, StoreCreditAccount__Output as ProtoStoreCreditAccountOut } from "../../generated/loyalty/v1/StoreCreditAccount"
export type { UpdateGiftCardInput as ProtoUpdateGiftCardInput, UpdateGiftCardInput__Output as ProtoUpdateGiftCardInputOut } from "../../generated/loyalty/v1/UpdateGiftCardInput"
export type { UpdateStoreCreditAccountInput as ProtoUpdateStoreCreditAccountInput, UpdateStoreCreditAccountInput__Output as ProtoUpdateStoreCreditAccountInputOut } from "../../generated/loyalty/v1/UpdateStoreCreditAccountInput"

/** The names of the service's methods (the index signature of grpc.ServiceDefinition left out). */
export type LoyaltyMethod = keyof {
  [K in keyof LoyaltyServiceDefinition as string extends K ? never : number extends K ? never : K]: true
}

/** The request message of a method, as the client serializes it. */
export type RequestOf<M extends LoyaltyMethod> = LoyaltyServiceDefinition[M] extends MethodDefinition<
  infer Req,
  infer _Res,
  infer _ReqOut,
  infer _ResOut
>
  ? Req
  : never

/** The response message of a method, as the client deserializes it (defaults filled in). */
export type ResponseOf<M extends LoyaltyMethod> = LoyaltyServiceDefinition[M] extends MethodDefinition<
  infer _Req,
  infer _Res,
  infer _ReqOut,
  infer ResOut
>
  ? ResOut
  : never
