import datetime

from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PointsHoldStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    POINTS_HOLD_STATUS_UNSPECIFIED: _ClassVar[PointsHoldStatus]
    POINTS_HOLD_STATUS_ACTIVE: _ClassVar[PointsHoldStatus]
    POINTS_HOLD_STATUS_CAPTURED: _ClassVar[PointsHoldStatus]
    POINTS_HOLD_STATUS_RELEASED: _ClassVar[PointsHoldStatus]
    POINTS_HOLD_STATUS_EXPIRED: _ClassVar[PointsHoldStatus]

class GiftCardStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GIFT_CARD_STATUS_UNSPECIFIED: _ClassVar[GiftCardStatus]
    GIFT_CARD_STATUS_PENDING: _ClassVar[GiftCardStatus]
    GIFT_CARD_STATUS_REDEEMED: _ClassVar[GiftCardStatus]

class GiftCardTransactionType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GIFT_CARD_TRANSACTION_TYPE_UNSPECIFIED: _ClassVar[GiftCardTransactionType]
    GIFT_CARD_TRANSACTION_TYPE_DEBIT: _ClassVar[GiftCardTransactionType]
    GIFT_CARD_TRANSACTION_TYPE_CREDIT: _ClassVar[GiftCardTransactionType]

class AccountTransactionType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACCOUNT_TRANSACTION_TYPE_UNSPECIFIED: _ClassVar[AccountTransactionType]
    ACCOUNT_TRANSACTION_TYPE_CREDIT: _ClassVar[AccountTransactionType]
    ACCOUNT_TRANSACTION_TYPE_DEBIT: _ClassVar[AccountTransactionType]
POINTS_HOLD_STATUS_UNSPECIFIED: PointsHoldStatus
POINTS_HOLD_STATUS_ACTIVE: PointsHoldStatus
POINTS_HOLD_STATUS_CAPTURED: PointsHoldStatus
POINTS_HOLD_STATUS_RELEASED: PointsHoldStatus
POINTS_HOLD_STATUS_EXPIRED: PointsHoldStatus
GIFT_CARD_STATUS_UNSPECIFIED: GiftCardStatus
GIFT_CARD_STATUS_PENDING: GiftCardStatus
GIFT_CARD_STATUS_REDEEMED: GiftCardStatus
GIFT_CARD_TRANSACTION_TYPE_UNSPECIFIED: GiftCardTransactionType
GIFT_CARD_TRANSACTION_TYPE_DEBIT: GiftCardTransactionType
GIFT_CARD_TRANSACTION_TYPE_CREDIT: GiftCardTransactionType
ACCOUNT_TRANSACTION_TYPE_UNSPECIFIED: AccountTransactionType
ACCOUNT_TRANSACTION_TYPE_CREDIT: AccountTransactionType
ACCOUNT_TRANSACTION_TYPE_DEBIT: AccountTransactionType

class PointAdjustment(_message.Message):
    __slots__ = ("id", "customer_id", "delta", "reason", "balance_after", "created_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    DELTA_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    BALANCE_AFTER_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    customer_id: str
    delta: str
    reason: str
    balance_after: str
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., customer_id: _Optional[str] = ..., delta: _Optional[str] = ..., reason: _Optional[str] = ..., balance_after: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AdjustPointsRequest(_message.Message):
    __slots__ = ("customer_id", "delta", "reason", "include_history", "idempotency_key")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    DELTA_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_HISTORY_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    delta: str
    reason: str
    include_history: bool
    idempotency_key: str
    def __init__(self, customer_id: _Optional[str] = ..., delta: _Optional[str] = ..., reason: _Optional[str] = ..., include_history: _Optional[bool] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class AdjustPointsResponse(_message.Message):
    __slots__ = ("id", "customer_id", "balance_after", "updated_at", "history", "replayed")
    ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    BALANCE_AFTER_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    id: str
    customer_id: str
    balance_after: str
    updated_at: _timestamp_pb2.Timestamp
    history: _containers.RepeatedCompositeFieldContainer[PointAdjustment]
    replayed: bool
    def __init__(self, id: _Optional[str] = ..., customer_id: _Optional[str] = ..., balance_after: _Optional[str] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., history: _Optional[_Iterable[_Union[PointAdjustment, _Mapping]]] = ..., replayed: _Optional[bool] = ...) -> None: ...

class BatchAdjustPointsItem(_message.Message):
    __slots__ = ("customer_id", "delta", "reason", "idempotency_key")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    DELTA_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    delta: str
    reason: str
    idempotency_key: str
    def __init__(self, customer_id: _Optional[str] = ..., delta: _Optional[str] = ..., reason: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class BatchAdjustPointsRequest(_message.Message):
    __slots__ = ("adjustments",)
    ADJUSTMENTS_FIELD_NUMBER: _ClassVar[int]
    adjustments: _containers.RepeatedCompositeFieldContainer[BatchAdjustPointsItem]
    def __init__(self, adjustments: _Optional[_Iterable[_Union[BatchAdjustPointsItem, _Mapping]]] = ...) -> None: ...

class BatchAdjustPointsResponse(_message.Message):
    __slots__ = ("adjustments", "replayed")
    ADJUSTMENTS_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    adjustments: _containers.RepeatedCompositeFieldContainer[PointAdjustment]
    replayed: _containers.RepeatedScalarFieldContainer[bool]
    def __init__(self, adjustments: _Optional[_Iterable[_Union[PointAdjustment, _Mapping]]] = ..., replayed: _Optional[_Iterable[bool]] = ...) -> None: ...

class GetPointsBalanceRequest(_message.Message):
    __slots__ = ("customer_id", "include_history")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_HISTORY_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    include_history: bool
    def __init__(self, customer_id: _Optional[str] = ..., include_history: _Optional[bool] = ...) -> None: ...

class GetPointsBalanceResponse(_message.Message):
    __slots__ = ("customer_id", "balance", "updated_at", "history", "held", "available")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    HELD_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    balance: str
    updated_at: _timestamp_pb2.Timestamp
    history: _containers.RepeatedCompositeFieldContainer[PointAdjustment]
    held: str
    available: str
    def __init__(self, customer_id: _Optional[str] = ..., balance: _Optional[str] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., history: _Optional[_Iterable[_Union[PointAdjustment, _Mapping]]] = ..., held: _Optional[str] = ..., available: _Optional[str] = ...) -> None: ...

class ListPointAdjustmentsRequest(_message.Message):
    __slots__ = ("customer_id", "page_size", "page_token")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    page_size: int
    page_token: str
    def __init__(self, customer_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListPointAdjustmentsResponse(_message.Message):
    __slots__ = ("point_adjustments", "next_page_token")
    POINT_ADJUSTMENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    point_adjustments: _containers.RepeatedCompositeFieldContainer[PointAdjustment]
    next_page_token: str
    def __init__(self, point_adjustments: _Optional[_Iterable[_Union[PointAdjustment, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class PointsHold(_message.Message):
    __slots__ = ("id", "customer_id", "points", "status", "reference", "reference_id", "expires_at", "captured_points", "adjustment_id", "created_at", "updated_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_ID_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    CAPTURED_POINTS_FIELD_NUMBER: _ClassVar[int]
    ADJUSTMENT_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    customer_id: str
    points: str
    status: PointsHoldStatus
    reference: str
    reference_id: str
    expires_at: _timestamp_pb2.Timestamp
    captured_points: str
    adjustment_id: str
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., customer_id: _Optional[str] = ..., points: _Optional[str] = ..., status: _Optional[_Union[PointsHoldStatus, str]] = ..., reference: _Optional[str] = ..., reference_id: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., captured_points: _Optional[str] = ..., adjustment_id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class HoldPointsRequest(_message.Message):
    __slots__ = ("customer_id", "points", "reference", "reference_id", "expires_at", "idempotency_key")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_ID_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    points: str
    reference: str
    reference_id: str
    expires_at: _timestamp_pb2.Timestamp
    idempotency_key: str
    def __init__(self, customer_id: _Optional[str] = ..., points: _Optional[str] = ..., reference: _Optional[str] = ..., reference_id: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class HoldPointsResponse(_message.Message):
    __slots__ = ("hold", "available", "replayed")
    HOLD_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    hold: PointsHold
    available: str
    replayed: bool
    def __init__(self, hold: _Optional[_Union[PointsHold, _Mapping]] = ..., available: _Optional[str] = ..., replayed: _Optional[bool] = ...) -> None: ...

class CapturePointsHoldRequest(_message.Message):
    __slots__ = ("hold_id", "points", "reason")
    HOLD_ID_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    hold_id: str
    points: str
    reason: str
    def __init__(self, hold_id: _Optional[str] = ..., points: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class CapturePointsHoldResponse(_message.Message):
    __slots__ = ("hold", "adjustment", "replayed")
    HOLD_FIELD_NUMBER: _ClassVar[int]
    ADJUSTMENT_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    hold: PointsHold
    adjustment: PointAdjustment
    replayed: bool
    def __init__(self, hold: _Optional[_Union[PointsHold, _Mapping]] = ..., adjustment: _Optional[_Union[PointAdjustment, _Mapping]] = ..., replayed: _Optional[bool] = ...) -> None: ...

class ReleasePointsHoldRequest(_message.Message):
    __slots__ = ("hold_id",)
    HOLD_ID_FIELD_NUMBER: _ClassVar[int]
    hold_id: str
    def __init__(self, hold_id: _Optional[str] = ...) -> None: ...

class GetPointsHoldRequest(_message.Message):
    __slots__ = ("hold_id",)
    HOLD_ID_FIELD_NUMBER: _ClassVar[int]
    hold_id: str
    def __init__(self, hold_id: _Optional[str] = ...) -> None: ...

class ListPointsHoldsRequest(_message.Message):
    __slots__ = ("customer_id", "reference_id", "active_only", "page_size", "page_token")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_ID_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_ONLY_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    reference_id: str
    active_only: bool
    page_size: int
    page_token: str
    def __init__(self, customer_id: _Optional[str] = ..., reference_id: _Optional[str] = ..., active_only: _Optional[bool] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListPointsHoldsResponse(_message.Message):
    __slots__ = ("holds", "next_page_token")
    HOLDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    holds: _containers.RepeatedCompositeFieldContainer[PointsHold]
    next_page_token: str
    def __init__(self, holds: _Optional[_Iterable[_Union[PointsHold, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class OrderPoints(_message.Message):
    __slots__ = ("customer_id", "order_id", "earned", "reversed", "created_at", "updated_at")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    EARNED_FIELD_NUMBER: _ClassVar[int]
    REVERSED_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    order_id: str
    earned: str
    reversed: str
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, customer_id: _Optional[str] = ..., order_id: _Optional[str] = ..., earned: _Optional[str] = ..., reversed: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class EarnOrderPointsRequest(_message.Message):
    __slots__ = ("customer_id", "order_id", "points", "reason")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    order_id: str
    points: str
    reason: str
    def __init__(self, customer_id: _Optional[str] = ..., order_id: _Optional[str] = ..., points: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class EarnOrderPointsResponse(_message.Message):
    __slots__ = ("adjustment", "order", "replayed")
    ADJUSTMENT_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    adjustment: PointAdjustment
    order: OrderPoints
    replayed: bool
    def __init__(self, adjustment: _Optional[_Union[PointAdjustment, _Mapping]] = ..., order: _Optional[_Union[OrderPoints, _Mapping]] = ..., replayed: _Optional[bool] = ...) -> None: ...

class ReverseOrderPointsRequest(_message.Message):
    __slots__ = ("customer_id", "order_id", "points", "reason", "idempotency_key")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    order_id: str
    points: str
    reason: str
    idempotency_key: str
    def __init__(self, customer_id: _Optional[str] = ..., order_id: _Optional[str] = ..., points: _Optional[str] = ..., reason: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class ReverseOrderPointsResponse(_message.Message):
    __slots__ = ("reversed", "adjustment", "order", "replayed")
    REVERSED_FIELD_NUMBER: _ClassVar[int]
    ADJUSTMENT_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    reversed: str
    adjustment: PointAdjustment
    order: OrderPoints
    replayed: bool
    def __init__(self, reversed: _Optional[str] = ..., adjustment: _Optional[_Union[PointAdjustment, _Mapping]] = ..., order: _Optional[_Union[OrderPoints, _Mapping]] = ..., replayed: _Optional[bool] = ...) -> None: ...

class GetOrderPointsRequest(_message.Message):
    __slots__ = ("customer_id", "order_id")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    order_id: str
    def __init__(self, customer_id: _Optional[str] = ..., order_id: _Optional[str] = ...) -> None: ...

class GiftCard(_message.Message):
    __slots__ = ("id", "code", "status", "value", "balance", "currency_code", "customer_id", "reference_id", "reference", "line_item_id", "note", "expires_at", "metadata", "created_at", "updated_at", "deleted_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_ID_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    LINE_ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    DELETED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    code: str
    status: GiftCardStatus
    value: str
    balance: str
    currency_code: str
    customer_id: str
    reference_id: str
    reference: str
    line_item_id: str
    note: str
    expires_at: _timestamp_pb2.Timestamp
    metadata: _struct_pb2.Struct
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    deleted_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., code: _Optional[str] = ..., status: _Optional[_Union[GiftCardStatus, str]] = ..., value: _Optional[str] = ..., balance: _Optional[str] = ..., currency_code: _Optional[str] = ..., customer_id: _Optional[str] = ..., reference_id: _Optional[str] = ..., reference: _Optional[str] = ..., line_item_id: _Optional[str] = ..., note: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deleted_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateGiftCardInput(_message.Message):
    __slots__ = ("code", "value", "currency_code", "status", "customer_id", "reference_id", "reference", "line_item_id", "note", "expires_at", "metadata")
    CODE_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_ID_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    LINE_ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    code: str
    value: str
    currency_code: str
    status: GiftCardStatus
    customer_id: str
    reference_id: str
    reference: str
    line_item_id: str
    note: str
    expires_at: _timestamp_pb2.Timestamp
    metadata: _struct_pb2.Struct
    def __init__(self, code: _Optional[str] = ..., value: _Optional[str] = ..., currency_code: _Optional[str] = ..., status: _Optional[_Union[GiftCardStatus, str]] = ..., customer_id: _Optional[str] = ..., reference_id: _Optional[str] = ..., reference: _Optional[str] = ..., line_item_id: _Optional[str] = ..., note: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class CreateGiftCardsRequest(_message.Message):
    __slots__ = ("gift_cards",)
    GIFT_CARDS_FIELD_NUMBER: _ClassVar[int]
    gift_cards: _containers.RepeatedCompositeFieldContainer[CreateGiftCardInput]
    def __init__(self, gift_cards: _Optional[_Iterable[_Union[CreateGiftCardInput, _Mapping]]] = ...) -> None: ...

class CreateGiftCardsResponse(_message.Message):
    __slots__ = ("gift_cards",)
    GIFT_CARDS_FIELD_NUMBER: _ClassVar[int]
    gift_cards: _containers.RepeatedCompositeFieldContainer[GiftCard]
    def __init__(self, gift_cards: _Optional[_Iterable[_Union[GiftCard, _Mapping]]] = ...) -> None: ...

class UpdateGiftCardInput(_message.Message):
    __slots__ = ("id", "value", "status", "note", "currency_code", "expires_at", "customer_id", "metadata", "reference_id", "reference", "line_item_id", "update_mask")
    ID_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_ID_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    LINE_ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    id: str
    value: str
    status: GiftCardStatus
    note: str
    currency_code: str
    expires_at: _timestamp_pb2.Timestamp
    customer_id: str
    metadata: _struct_pb2.Struct
    reference_id: str
    reference: str
    line_item_id: str
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, id: _Optional[str] = ..., value: _Optional[str] = ..., status: _Optional[_Union[GiftCardStatus, str]] = ..., note: _Optional[str] = ..., currency_code: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., customer_id: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., reference_id: _Optional[str] = ..., reference: _Optional[str] = ..., line_item_id: _Optional[str] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateGiftCardsRequest(_message.Message):
    __slots__ = ("gift_cards",)
    GIFT_CARDS_FIELD_NUMBER: _ClassVar[int]
    gift_cards: _containers.RepeatedCompositeFieldContainer[UpdateGiftCardInput]
    def __init__(self, gift_cards: _Optional[_Iterable[_Union[UpdateGiftCardInput, _Mapping]]] = ...) -> None: ...

class UpdateGiftCardsResponse(_message.Message):
    __slots__ = ("gift_cards",)
    GIFT_CARDS_FIELD_NUMBER: _ClassVar[int]
    gift_cards: _containers.RepeatedCompositeFieldContainer[GiftCard]
    def __init__(self, gift_cards: _Optional[_Iterable[_Union[GiftCard, _Mapping]]] = ...) -> None: ...

class RetrieveGiftCardRequest(_message.Message):
    __slots__ = ("id", "code")
    ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    id: str
    code: str
    def __init__(self, id: _Optional[str] = ..., code: _Optional[str] = ...) -> None: ...

class ListGiftCardsRequest(_message.Message):
    __slots__ = ("id", "code", "status", "currency_code", "reference", "reference_id", "customer_id", "q", "skip", "take", "order", "with_deleted", "with_count")
    ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    Q_FIELD_NUMBER: _ClassVar[int]
    SKIP_FIELD_NUMBER: _ClassVar[int]
    TAKE_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    WITH_DELETED_FIELD_NUMBER: _ClassVar[int]
    WITH_COUNT_FIELD_NUMBER: _ClassVar[int]
    id: _containers.RepeatedScalarFieldContainer[str]
    code: _containers.RepeatedScalarFieldContainer[str]
    status: _containers.RepeatedScalarFieldContainer[GiftCardStatus]
    currency_code: _containers.RepeatedScalarFieldContainer[str]
    reference: _containers.RepeatedScalarFieldContainer[str]
    reference_id: _containers.RepeatedScalarFieldContainer[str]
    customer_id: _containers.RepeatedScalarFieldContainer[str]
    q: str
    skip: int
    take: int
    order: str
    with_deleted: bool
    with_count: bool
    def __init__(self, id: _Optional[_Iterable[str]] = ..., code: _Optional[_Iterable[str]] = ..., status: _Optional[_Iterable[_Union[GiftCardStatus, str]]] = ..., currency_code: _Optional[_Iterable[str]] = ..., reference: _Optional[_Iterable[str]] = ..., reference_id: _Optional[_Iterable[str]] = ..., customer_id: _Optional[_Iterable[str]] = ..., q: _Optional[str] = ..., skip: _Optional[int] = ..., take: _Optional[int] = ..., order: _Optional[str] = ..., with_deleted: _Optional[bool] = ..., with_count: _Optional[bool] = ...) -> None: ...

class ListGiftCardsResponse(_message.Message):
    __slots__ = ("gift_cards", "count")
    GIFT_CARDS_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    gift_cards: _containers.RepeatedCompositeFieldContainer[GiftCard]
    count: int
    def __init__(self, gift_cards: _Optional[_Iterable[_Union[GiftCard, _Mapping]]] = ..., count: _Optional[int] = ...) -> None: ...

class DeleteGiftCardsRequest(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ...) -> None: ...

class DeleteGiftCardsResponse(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ...) -> None: ...

class SoftDeleteGiftCardsRequest(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ...) -> None: ...

class SoftDeleteGiftCardsResponse(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ...) -> None: ...

class RestoreGiftCardsRequest(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ...) -> None: ...

class RestoreGiftCardsResponse(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GiftCardTransaction(_message.Message):
    __slots__ = ("id", "gift_card_id", "type", "amount", "currency_code", "balance_after", "reference", "reference_id", "created_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    GIFT_CARD_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    BALANCE_AFTER_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    gift_card_id: str
    type: GiftCardTransactionType
    amount: str
    currency_code: str
    balance_after: str
    reference: str
    reference_id: str
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., gift_card_id: _Optional[str] = ..., type: _Optional[_Union[GiftCardTransactionType, str]] = ..., amount: _Optional[str] = ..., currency_code: _Optional[str] = ..., balance_after: _Optional[str] = ..., reference: _Optional[str] = ..., reference_id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class DebitGiftCardRequest(_message.Message):
    __slots__ = ("id", "code", "amount", "currency_code", "reference", "reference_id", "idempotency_key")
    ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    id: str
    code: str
    amount: str
    currency_code: str
    reference: str
    reference_id: str
    idempotency_key: str
    def __init__(self, id: _Optional[str] = ..., code: _Optional[str] = ..., amount: _Optional[str] = ..., currency_code: _Optional[str] = ..., reference: _Optional[str] = ..., reference_id: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class DebitGiftCardResponse(_message.Message):
    __slots__ = ("transaction", "balance", "status", "replayed")
    TRANSACTION_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    transaction: GiftCardTransaction
    balance: str
    status: GiftCardStatus
    replayed: bool
    def __init__(self, transaction: _Optional[_Union[GiftCardTransaction, _Mapping]] = ..., balance: _Optional[str] = ..., status: _Optional[_Union[GiftCardStatus, str]] = ..., replayed: _Optional[bool] = ...) -> None: ...

class CreditGiftCardRequest(_message.Message):
    __slots__ = ("id", "code", "amount", "currency_code", "reference", "reference_id", "idempotency_key")
    ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    id: str
    code: str
    amount: str
    currency_code: str
    reference: str
    reference_id: str
    idempotency_key: str
    def __init__(self, id: _Optional[str] = ..., code: _Optional[str] = ..., amount: _Optional[str] = ..., currency_code: _Optional[str] = ..., reference: _Optional[str] = ..., reference_id: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class CreditGiftCardResponse(_message.Message):
    __slots__ = ("transaction", "balance", "status", "replayed")
    TRANSACTION_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    transaction: GiftCardTransaction
    balance: str
    status: GiftCardStatus
    replayed: bool
    def __init__(self, transaction: _Optional[_Union[GiftCardTransaction, _Mapping]] = ..., balance: _Optional[str] = ..., status: _Optional[_Union[GiftCardStatus, str]] = ..., replayed: _Optional[bool] = ...) -> None: ...

class ListGiftCardTransactionsRequest(_message.Message):
    __slots__ = ("gift_card_id", "page_size", "page_token")
    GIFT_CARD_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    gift_card_id: str
    page_size: int
    page_token: str
    def __init__(self, gift_card_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListGiftCardTransactionsResponse(_message.Message):
    __slots__ = ("gift_card_transactions", "next_page_token")
    GIFT_CARD_TRANSACTIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    gift_card_transactions: _containers.RepeatedCompositeFieldContainer[GiftCardTransaction]
    next_page_token: str
    def __init__(self, gift_card_transactions: _Optional[_Iterable[_Union[GiftCardTransaction, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetOptionsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetOptionsResponse(_message.Message):
    __slots__ = ("prefix", "sections")
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    SECTIONS_FIELD_NUMBER: _ClassVar[int]
    prefix: str
    sections: int
    def __init__(self, prefix: _Optional[str] = ..., sections: _Optional[int] = ...) -> None: ...

class StoreCreditAccount(_message.Message):
    __slots__ = ("id", "customer_id", "code", "currency_code", "metadata", "balance", "credits", "debits", "created_at", "updated_at", "deleted_at", "gift_card_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    CREDITS_FIELD_NUMBER: _ClassVar[int]
    DEBITS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    DELETED_AT_FIELD_NUMBER: _ClassVar[int]
    GIFT_CARD_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    customer_id: str
    code: str
    currency_code: str
    metadata: _struct_pb2.Struct
    balance: str
    credits: str
    debits: str
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    deleted_at: _timestamp_pb2.Timestamp
    gift_card_id: str
    def __init__(self, id: _Optional[str] = ..., customer_id: _Optional[str] = ..., code: _Optional[str] = ..., currency_code: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., balance: _Optional[str] = ..., credits: _Optional[str] = ..., debits: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deleted_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., gift_card_id: _Optional[str] = ...) -> None: ...

class CreateStoreCreditAccountInput(_message.Message):
    __slots__ = ("customer_id", "code", "currency_code", "metadata")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    code: str
    currency_code: str
    metadata: _struct_pb2.Struct
    def __init__(self, customer_id: _Optional[str] = ..., code: _Optional[str] = ..., currency_code: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class CreateStoreCreditAccountsRequest(_message.Message):
    __slots__ = ("accounts",)
    ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    accounts: _containers.RepeatedCompositeFieldContainer[CreateStoreCreditAccountInput]
    def __init__(self, accounts: _Optional[_Iterable[_Union[CreateStoreCreditAccountInput, _Mapping]]] = ...) -> None: ...

class CreateStoreCreditAccountsResponse(_message.Message):
    __slots__ = ("accounts",)
    ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    accounts: _containers.RepeatedCompositeFieldContainer[StoreCreditAccount]
    def __init__(self, accounts: _Optional[_Iterable[_Union[StoreCreditAccount, _Mapping]]] = ...) -> None: ...

class UpdateStoreCreditAccountInput(_message.Message):
    __slots__ = ("id", "customer_id", "code", "currency_code", "metadata", "update_mask")
    ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    id: str
    customer_id: str
    code: str
    currency_code: str
    metadata: _struct_pb2.Struct
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, id: _Optional[str] = ..., customer_id: _Optional[str] = ..., code: _Optional[str] = ..., currency_code: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateStoreCreditAccountsRequest(_message.Message):
    __slots__ = ("accounts",)
    ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    accounts: _containers.RepeatedCompositeFieldContainer[UpdateStoreCreditAccountInput]
    def __init__(self, accounts: _Optional[_Iterable[_Union[UpdateStoreCreditAccountInput, _Mapping]]] = ...) -> None: ...

class UpdateStoreCreditAccountsResponse(_message.Message):
    __slots__ = ("accounts",)
    ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    accounts: _containers.RepeatedCompositeFieldContainer[StoreCreditAccount]
    def __init__(self, accounts: _Optional[_Iterable[_Union[StoreCreditAccount, _Mapping]]] = ...) -> None: ...

class RetrieveStoreCreditAccountRequest(_message.Message):
    __slots__ = ("id", "code")
    ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    id: str
    code: str
    def __init__(self, id: _Optional[str] = ..., code: _Optional[str] = ...) -> None: ...

class ListStoreCreditAccountsRequest(_message.Message):
    __slots__ = ("id", "customer_id", "currency_code", "code", "q", "skip", "take", "order", "with_deleted", "with_count")
    ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    Q_FIELD_NUMBER: _ClassVar[int]
    SKIP_FIELD_NUMBER: _ClassVar[int]
    TAKE_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    WITH_DELETED_FIELD_NUMBER: _ClassVar[int]
    WITH_COUNT_FIELD_NUMBER: _ClassVar[int]
    id: _containers.RepeatedScalarFieldContainer[str]
    customer_id: _containers.RepeatedScalarFieldContainer[str]
    currency_code: _containers.RepeatedScalarFieldContainer[str]
    code: _containers.RepeatedScalarFieldContainer[str]
    q: str
    skip: int
    take: int
    order: str
    with_deleted: bool
    with_count: bool
    def __init__(self, id: _Optional[_Iterable[str]] = ..., customer_id: _Optional[_Iterable[str]] = ..., currency_code: _Optional[_Iterable[str]] = ..., code: _Optional[_Iterable[str]] = ..., q: _Optional[str] = ..., skip: _Optional[int] = ..., take: _Optional[int] = ..., order: _Optional[str] = ..., with_deleted: _Optional[bool] = ..., with_count: _Optional[bool] = ...) -> None: ...

class ListStoreCreditAccountsResponse(_message.Message):
    __slots__ = ("accounts", "count")
    ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    accounts: _containers.RepeatedCompositeFieldContainer[StoreCreditAccount]
    count: int
    def __init__(self, accounts: _Optional[_Iterable[_Union[StoreCreditAccount, _Mapping]]] = ..., count: _Optional[int] = ...) -> None: ...

class DeleteStoreCreditAccountsRequest(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ...) -> None: ...

class DeleteStoreCreditAccountsResponse(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ...) -> None: ...

class SoftDeleteStoreCreditAccountsRequest(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ...) -> None: ...

class SoftDeleteStoreCreditAccountsResponse(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ...) -> None: ...

class RestoreStoreCreditAccountsRequest(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ...) -> None: ...

class RestoreStoreCreditAccountsResponse(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ...) -> None: ...

class AccountTransaction(_message.Message):
    __slots__ = ("id", "account_id", "type", "amount", "note", "reference", "reference_id", "metadata", "created_at", "deleted_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_ID_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    DELETED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    account_id: str
    type: AccountTransactionType
    amount: str
    note: str
    reference: str
    reference_id: str
    metadata: _struct_pb2.Struct
    created_at: _timestamp_pb2.Timestamp
    deleted_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., account_id: _Optional[str] = ..., type: _Optional[_Union[AccountTransactionType, str]] = ..., amount: _Optional[str] = ..., note: _Optional[str] = ..., reference: _Optional[str] = ..., reference_id: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deleted_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AccountEntryInput(_message.Message):
    __slots__ = ("account_id", "amount", "note", "reference", "reference_id", "metadata", "idempotency_key")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_ID_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    amount: str
    note: str
    reference: str
    reference_id: str
    metadata: _struct_pb2.Struct
    idempotency_key: str
    def __init__(self, account_id: _Optional[str] = ..., amount: _Optional[str] = ..., note: _Optional[str] = ..., reference: _Optional[str] = ..., reference_id: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class CreditAccountsRequest(_message.Message):
    __slots__ = ("credits",)
    CREDITS_FIELD_NUMBER: _ClassVar[int]
    credits: _containers.RepeatedCompositeFieldContainer[AccountEntryInput]
    def __init__(self, credits: _Optional[_Iterable[_Union[AccountEntryInput, _Mapping]]] = ...) -> None: ...

class CreditAccountsResponse(_message.Message):
    __slots__ = ("transactions", "replayed")
    TRANSACTIONS_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    transactions: _containers.RepeatedCompositeFieldContainer[AccountTransaction]
    replayed: bool
    def __init__(self, transactions: _Optional[_Iterable[_Union[AccountTransaction, _Mapping]]] = ..., replayed: _Optional[bool] = ...) -> None: ...

class DebitAccountsRequest(_message.Message):
    __slots__ = ("debits",)
    DEBITS_FIELD_NUMBER: _ClassVar[int]
    debits: _containers.RepeatedCompositeFieldContainer[AccountEntryInput]
    def __init__(self, debits: _Optional[_Iterable[_Union[AccountEntryInput, _Mapping]]] = ...) -> None: ...

class DebitAccountsResponse(_message.Message):
    __slots__ = ("transactions", "replayed")
    TRANSACTIONS_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    transactions: _containers.RepeatedCompositeFieldContainer[AccountTransaction]
    replayed: bool
    def __init__(self, transactions: _Optional[_Iterable[_Union[AccountTransaction, _Mapping]]] = ..., replayed: _Optional[bool] = ...) -> None: ...

class RetrieveAccountStatsRequest(_message.Message):
    __slots__ = ("account_id",)
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    def __init__(self, account_id: _Optional[str] = ...) -> None: ...

class RetrieveAccountStatsResponse(_message.Message):
    __slots__ = ("id", "balance", "credits", "debits")
    ID_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    CREDITS_FIELD_NUMBER: _ClassVar[int]
    DEBITS_FIELD_NUMBER: _ClassVar[int]
    id: str
    balance: str
    credits: str
    debits: str
    def __init__(self, id: _Optional[str] = ..., balance: _Optional[str] = ..., credits: _Optional[str] = ..., debits: _Optional[str] = ...) -> None: ...

class ListAccountTransactionsRequest(_message.Message):
    __slots__ = ("id", "account_id", "type", "reference", "reference_id", "skip", "take", "order", "with_deleted", "with_count")
    ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_ID_FIELD_NUMBER: _ClassVar[int]
    SKIP_FIELD_NUMBER: _ClassVar[int]
    TAKE_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    WITH_DELETED_FIELD_NUMBER: _ClassVar[int]
    WITH_COUNT_FIELD_NUMBER: _ClassVar[int]
    id: _containers.RepeatedScalarFieldContainer[str]
    account_id: _containers.RepeatedScalarFieldContainer[str]
    type: _containers.RepeatedScalarFieldContainer[AccountTransactionType]
    reference: _containers.RepeatedScalarFieldContainer[str]
    reference_id: _containers.RepeatedScalarFieldContainer[str]
    skip: int
    take: int
    order: str
    with_deleted: bool
    with_count: bool
    def __init__(self, id: _Optional[_Iterable[str]] = ..., account_id: _Optional[_Iterable[str]] = ..., type: _Optional[_Iterable[_Union[AccountTransactionType, str]]] = ..., reference: _Optional[_Iterable[str]] = ..., reference_id: _Optional[_Iterable[str]] = ..., skip: _Optional[int] = ..., take: _Optional[int] = ..., order: _Optional[str] = ..., with_deleted: _Optional[bool] = ..., with_count: _Optional[bool] = ...) -> None: ...

class ListAccountTransactionsResponse(_message.Message):
    __slots__ = ("transactions", "count")
    TRANSACTIONS_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    transactions: _containers.RepeatedCompositeFieldContainer[AccountTransaction]
    count: int
    def __init__(self, transactions: _Optional[_Iterable[_Union[AccountTransaction, _Mapping]]] = ..., count: _Optional[int] = ...) -> None: ...

class DeleteAccountTransactionsRequest(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ...) -> None: ...

class DeleteAccountTransactionsResponse(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ...) -> None: ...
