"""Proto <-> domain values. No rules here beyond what the wire format itself forces."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from google.protobuf import struct_pb2, timestamp_pb2
from google.protobuf.message import Message

from loyalty.v1 import loyalty_pb2 as pb

from ..domain import gift_card_records, order_points, point_holds, points
from ..domain import store_credit_records as store_credit
from ..domain.errors import InvalidData
from ..domain.money import format_decimal

_STATUS_TO_PB = {
    gift_card_records.PENDING: pb.GIFT_CARD_STATUS_PENDING,
    gift_card_records.REDEEMED: pb.GIFT_CARD_STATUS_REDEEMED,
}
_STATUS_FROM_PB: dict[int, str] = {v: k for k, v in _STATUS_TO_PB.items()}
_TX_TYPE_TO_PB = {
    gift_card_records.DEBIT: pb.GIFT_CARD_TRANSACTION_TYPE_DEBIT,
    gift_card_records.CREDIT: pb.GIFT_CARD_TRANSACTION_TYPE_CREDIT,
}
# Timestamp.ToDatetime accepts 0001-01-01 .. 9999-12-31.
_MIN_SECONDS = -62135596800
_MAX_SECONDS = 253402300799


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def timestamp(value: datetime | None) -> timestamp_pb2.Timestamp | None:
    """An aware datetime (a naive one is taken as UTC, as Timestamp.FromDatetime
    does) as a Timestamp. Integer arithmetic on the difference from the epoch: the
    same result as FromDatetime (a property test checks it) without its Python-level
    checks, which showed in the profile of ListGiftCards (four timestamps a card)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    delta = value - _EPOCH
    return timestamp_pb2.Timestamp(
        seconds=delta.days * 86_400 + delta.seconds, nanos=delta.microseconds * 1000
    )


def to_datetime(message: Message, name: str, field: str) -> datetime | None:
    """A Timestamp field as an aware datetime, or None when unset."""
    if not message.HasField(name):
        return None
    ts: timestamp_pb2.Timestamp = getattr(message, name)
    if not (_MIN_SECONDS <= ts.seconds <= _MAX_SECONDS and 0 <= ts.nanos < 1_000_000_000):
        raise InvalidData.field(field, f"{field} must be a timestamp between year 1 and 9999")
    return ts.ToDatetime(tzinfo=UTC)


def to_dict(message: Message, name: str) -> dict[str, Any] | None:
    """A Struct field as plain Python values, or None when unset. Unlike
    json_format, this never raises: NaN, Infinity and NUL come through as they
    are, for the domain to refuse with a field violation naming their path."""
    if not message.HasField(name):
        return None
    return _struct(getattr(message, name))


def _struct(value: struct_pb2.Struct) -> dict[str, Any]:
    return {key: _value(item) for key, item in value.fields.items()}


def _value(value: struct_pb2.Value) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "struct_value":
        return _struct(value.struct_value)
    if kind == "list_value":
        return [_value(item) for item in value.list_value.values]
    if kind in ("number_value", "string_value", "bool_value"):
        return getattr(value, kind)
    return None  # null_value, or a Value with no kind set: JSON null


def struct(value: dict[str, Any] | None) -> struct_pb2.Struct | None:
    if value is None:
        return None
    result = struct_pb2.Struct()
    result.update(value)
    return result


def optional(message: Message, name: str) -> Any:
    """A proto3 `optional` field's value, or None when absent."""
    return getattr(message, name) if message.HasField(name) else None


def status_from_pb(value: int, field: str) -> str | None:
    if value == pb.GIFT_CARD_STATUS_UNSPECIFIED:
        return None
    if value not in _STATUS_FROM_PB:
        raise InvalidData.field(field, f"{field} must be pending or redeemed")
    return _STATUS_FROM_PB[value]


def adjustment(a: points.Adjustment) -> pb.PointAdjustment:
    return pb.PointAdjustment(
        id=a.id,
        customer_id=a.customer_id,
        delta=format_decimal(a.delta),
        reason=a.reason,
        balance_after=format_decimal(a.balance_after),
        created_at=timestamp(a.created_at),
    )


_HOLD_STATUS_TO_PB = {
    point_holds.HoldStatus.ACTIVE: pb.POINTS_HOLD_STATUS_ACTIVE,
    point_holds.HoldStatus.CAPTURED: pb.POINTS_HOLD_STATUS_CAPTURED,
    point_holds.HoldStatus.RELEASED: pb.POINTS_HOLD_STATUS_RELEASED,
    point_holds.HoldStatus.EXPIRED: pb.POINTS_HOLD_STATUS_EXPIRED,
}


def hold(h: point_holds.Hold) -> pb.PointsHold:
    return pb.PointsHold(
        id=h.id,
        customer_id=h.customer_id,
        points=format_decimal(h.points),
        status=_HOLD_STATUS_TO_PB[h.status],
        reference=h.reference,
        reference_id=h.reference_id,
        expires_at=timestamp(h.expires_at),
        captured_points="" if h.captured_points is None else format_decimal(h.captured_points),
        adjustment_id=h.adjustment_id or "",
        created_at=timestamp(h.created_at),
        updated_at=timestamp(h.updated_at),
    )


def order_points_(o: order_points.OrderPoints) -> pb.OrderPoints:
    return pb.OrderPoints(
        customer_id=o.customer_id,
        order_id=o.order_id,
        earned=format_decimal(o.earned),
        reversed=format_decimal(o.reversed),
        created_at=timestamp(o.created_at),
        updated_at=timestamp(o.updated_at),
    )


def gift_card(card: gift_card_records.GiftCard) -> pb.GiftCard:
    return pb.GiftCard(
        id=card.id,
        code=card.code,
        status=_STATUS_TO_PB[card.status],
        value=format_decimal(card.value),
        balance=format_decimal(card.balance),
        currency_code=card.currency_code,
        customer_id=card.customer_id,
        reference_id=card.reference_id,
        reference=card.reference,
        line_item_id=card.line_item_id,
        note=card.note,
        expires_at=timestamp(card.expires_at),
        metadata=struct(card.metadata),
        created_at=timestamp(card.created_at),
        updated_at=timestamp(card.updated_at),
        deleted_at=timestamp(card.deleted_at),
    )


def transaction(tx: gift_card_records.Transaction) -> pb.GiftCardTransaction:
    return pb.GiftCardTransaction(
        id=tx.id,
        gift_card_id=tx.gift_card_id,
        type=_TX_TYPE_TO_PB[tx.type],
        amount=format_decimal(tx.amount),
        currency_code=tx.currency_code,
        balance_after=format_decimal(tx.balance_after),
        reference=tx.reference,
        reference_id=tx.reference_id,
        created_at=timestamp(tx.created_at),
    )


def new_gift_card(message: pb.CreateGiftCardInput, prefix: str) -> gift_card_records.NewGiftCard:
    return gift_card_records.NewGiftCard(
        value=message.value,
        currency_code=message.currency_code,
        code=optional(message, "code") or None,
        status=status_from_pb(message.status, f"{prefix}status"),
        customer_id=optional(message, "customer_id"),
        reference_id=optional(message, "reference_id"),
        reference=optional(message, "reference"),
        line_item_id=optional(message, "line_item_id"),
        note=optional(message, "note"),
        expires_at=to_datetime(message, "expires_at", f"{prefix}expires_at"),
        metadata=to_dict(message, "metadata"),
    )


def _changes(
    message: pb.UpdateGiftCardInput | pb.UpdateStoreCreditAccountInput,
    updatable: Sequence[str],
    prefix: str,
    value: Callable[[str], Any],
) -> dict[str, Any]:
    """AIP-134, for every partial update: the update mask names the fields to write
    (a named field that is absent is cleared: None); without a mask, the fields
    present in the message are written. `value` reads one present field."""
    if message.HasField("update_mask"):
        names = list(message.update_mask.paths)
        unknown = [n for n in names if n not in updatable]
        if unknown:
            raise InvalidData.field(
                f"{prefix}update_mask", f"update_mask names unknown fields: {', '.join(unknown)}"
            )
    else:
        names = [n for n in updatable if message.HasField(n)]
    return {name: value(name) if message.HasField(name) else None for name in names}


def gift_card_changes(
    message: pb.UpdateGiftCardInput, prefix: str
) -> gift_card_records.GiftCardChanges:
    def value(name: str) -> Any:
        if name == "status":
            return status_from_pb(message.status, f"{prefix}status")
        if name == "expires_at":
            return to_datetime(message, name, f"{prefix}{name}")
        if name == "metadata":
            return to_dict(message, name)
        return getattr(message, name)

    return gift_card_records.GiftCardChanges(
        id=message.id, changes=_changes(message, gift_card_records.UPDATABLE, prefix, value)
    )


def spend(message: pb.DebitGiftCardRequest | pb.CreditGiftCardRequest) -> gift_card_records.Spend:
    which = message.WhichOneof("gift_card")
    return gift_card_records.Spend(
        id=message.id if which == "id" else None,
        code=message.code if which == "code" else None,
        amount=message.amount,
        currency_code=message.currency_code,
        reference=message.reference,
        reference_id=message.reference_id,
        idempotency_key=message.idempotency_key,
    )


def list_query(message: pb.ListGiftCardsRequest) -> gift_card_records.ListQuery:
    filters: dict[str, Any] = {
        name: list(getattr(message, name)) for name in gift_card_records.FILTERS
    }
    filters["status"] = [status_from_pb(s, "status") or "unspecified" for s in message.status]
    return gift_card_records.ListQuery(
        filters=gift_card_records.CardFilters(
            **filters, q=message.q, with_deleted=message.with_deleted
        ),
        skip=message.skip,
        take=optional(message, "take"),
        order=message.order,
        with_count=message.with_count,
    )


def spend_response(result: gift_card_records.SpendResult, response_type: type[Any]) -> Any:
    return response_type(
        transaction=transaction(result.transaction),
        balance=format_decimal(result.balance),
        status=_STATUS_TO_PB[result.status],
        replayed=result.replayed,
    )


# ---------------------------------------------------------------- store credit

_ACCOUNT_TX_TO_PB = {
    store_credit.CREDIT: pb.ACCOUNT_TRANSACTION_TYPE_CREDIT,
    store_credit.DEBIT: pb.ACCOUNT_TRANSACTION_TYPE_DEBIT,
}
_ACCOUNT_TX_FROM_PB: dict[int, str] = {v: k for k, v in _ACCOUNT_TX_TO_PB.items()}


def store_credit_account(account: store_credit.Account) -> pb.StoreCreditAccount:
    return pb.StoreCreditAccount(
        id=account.id,
        customer_id=account.customer_id,
        code=account.code,
        currency_code=account.currency_code,
        metadata=struct(account.metadata),
        balance=format_decimal(account.balance),
        credits=format_decimal(account.credits),
        debits=format_decimal(account.debits),
        created_at=timestamp(account.created_at),
        updated_at=timestamp(account.updated_at),
        deleted_at=timestamp(account.deleted_at),
        gift_card_id=account.gift_card_id,
    )


def account_transaction(tx: store_credit.AccountTransaction) -> pb.AccountTransaction:
    return pb.AccountTransaction(
        id=tx.id,
        account_id=tx.account_id,
        type=_ACCOUNT_TX_TO_PB[tx.type],
        amount=format_decimal(tx.amount),
        note=tx.note,
        reference=tx.reference,
        reference_id=tx.reference_id,
        metadata=struct(tx.metadata),
        created_at=timestamp(tx.created_at),
        deleted_at=timestamp(tx.deleted_at),
    )


def new_account(message: pb.CreateStoreCreditAccountInput) -> store_credit.NewAccount:
    return store_credit.NewAccount(
        currency_code=message.currency_code,
        customer_id=optional(message, "customer_id"),
        code=optional(message, "code"),
        metadata=to_dict(message, "metadata"),
    )


def account_changes(
    message: pb.UpdateStoreCreditAccountInput, prefix: str
) -> store_credit.AccountChanges:
    def value(name: str) -> Any:
        return to_dict(message, name) if name == "metadata" else getattr(message, name)

    return store_credit.AccountChanges(
        id=message.id, changes=_changes(message, store_credit.UPDATABLE, prefix, value)
    )


def entry(message: pb.AccountEntryInput) -> store_credit.Entry:
    return store_credit.Entry(
        account_id=message.account_id,
        amount=message.amount,
        note=optional(message, "note"),
        reference=message.reference,
        reference_id=message.reference_id,
        metadata=to_dict(message, "metadata"),
        idempotency_key=message.idempotency_key,
    )


def account_query(message: pb.ListStoreCreditAccountsRequest) -> store_credit.AccountQuery:
    return store_credit.AccountQuery(
        filters=store_credit.AccountFilters(
            id=list(message.id),
            customer_id=list(message.customer_id),
            currency_code=list(message.currency_code),
            code=list(message.code),
            q=message.q,
            with_deleted=message.with_deleted,
        ),
        skip=message.skip,
        take=optional(message, "take"),
        order=message.order,
        with_count=message.with_count,
    )


def transaction_query(
    message: pb.ListAccountTransactionsRequest,
) -> store_credit.TransactionQuery:
    types = []
    for value in message.type:
        if value not in _ACCOUNT_TX_FROM_PB:
            raise InvalidData.field("type", "type must be credit or debit")
        types.append(_ACCOUNT_TX_FROM_PB[value])
    return store_credit.TransactionQuery(
        filters=store_credit.TransactionFilters(
            id=list(message.id),
            account_id=list(message.account_id),
            type=types,
            reference=list(message.reference),
            reference_id=list(message.reference_id),
            with_deleted=message.with_deleted,
        ),
        skip=message.skip,
        take=optional(message, "take"),
        order=message.order,
        with_count=message.with_count,
    )
