"""Python values <-> protobuf messages, shared by the sync and the async client.

Each public builder here returns an :class:`Op`: the RPC name, the request message,
whether the call may be retried, and the function that turns the response into client
types. The clients only run ops; they never touch a message themselves.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Generic, Required, TypedDict, TypeVar, Unpack

from google.protobuf import json_format, struct_pb2, timestamp_pb2
from google.protobuf.message import Message

from loyalty.v1 import loyalty_pb2 as pb

from .errors import InvalidResponse
from .types import (
    UNSET,
    AccountEntry,
    AccountMovementResult,
    AccountStats,
    AccountTransaction,
    AccountTransactionList,
    AccountTransactionResult,
    AccountTransactionType,
    AdjustPointsResult,
    Amount,
    CapturePointsHoldResult,
    EarnOrderPointsResult,
    GiftCard,
    GiftCardList,
    GiftCardOptions,
    GiftCardStatus,
    GiftCardTransaction,
    GiftCardTransactionResult,
    GiftCardUpdate,
    HoldPointsResult,
    NewGiftCard,
    NewStoreCreditAccount,
    OrderPoints,
    Page,
    PointAdjustment,
    PointsAdjustmentInput,
    PointsBalance,
    PointsHold,
    PointsHoldStatus,
    ReverseOrderPointsResult,
    StoreCreditAccount,
    StoreCreditAccountList,
    StoreCreditAccountUpdate,
    TransactionType,
)

T = TypeVar("T")
L = TypeVar("L")
Item = TypeVar("Item")

#: Status and transaction type enums, both ways.
_STATUS_TO_PB: dict[GiftCardStatus, pb.GiftCardStatus] = {
    GiftCardStatus.PENDING: pb.GIFT_CARD_STATUS_PENDING,
    GiftCardStatus.REDEEMED: pb.GIFT_CARD_STATUS_REDEEMED,
}
_STATUS_FROM_PB = {v: k for k, v in _STATUS_TO_PB.items()}
_TX_TYPE_FROM_PB: dict[pb.GiftCardTransactionType, TransactionType] = {
    pb.GIFT_CARD_TRANSACTION_TYPE_DEBIT: TransactionType.DEBIT,
    pb.GIFT_CARD_TRANSACTION_TYPE_CREDIT: TransactionType.CREDIT,
}
_ACCOUNT_TX_TO_PB: dict[AccountTransactionType, pb.AccountTransactionType] = {
    AccountTransactionType.CREDIT: pb.ACCOUNT_TRANSACTION_TYPE_CREDIT,
    AccountTransactionType.DEBIT: pb.ACCOUNT_TRANSACTION_TYPE_DEBIT,
}
_ACCOUNT_TX_FROM_PB = {v: k for k, v in _ACCOUNT_TX_TO_PB.items()}
_HOLD_STATUS_FROM_PB: dict[pb.PointsHoldStatus, PointsHoldStatus] = {
    pb.POINTS_HOLD_STATUS_ACTIVE: PointsHoldStatus.ACTIVE,
    pb.POINTS_HOLD_STATUS_CAPTURED: PointsHoldStatus.CAPTURED,
    pb.POINTS_HOLD_STATUS_RELEASED: PointsHoldStatus.RELEASED,
    pb.POINTS_HOLD_STATUS_EXPIRED: PointsHoldStatus.EXPIRED,
}


@dataclass(frozen=True, slots=True)
class Op(Generic[T]):
    """One RPC to run: what to send, whether a retry is safe, how to read the answer."""

    #: The RPC's name in loyalty.v1.LoyaltyService, e.g. "AdjustPoints".
    method: str
    request: Message
    #: Reads, and writes carrying an idempotency key.
    retryable: bool
    parse: Callable[[Any], T]


# ---------------------------------------------------------------- scalars


def amount_to_str(value: Amount, name: str = "amount") -> str:
    """An exact decimal string for the wire. Floats (and bools) raise TypeError.

    Strings are sent as given: the server validates them and answers InvalidData
    with a field violation, the same as for any other bad input.
    """
    if isinstance(value, bool) or not isinstance(value, int | str | Decimal):
        kind = type(value).__name__
        hint = " (floats are not exact: pass a str or a Decimal)" if kind == "float" else ""
        raise TypeError(f"{name} must be int, str or Decimal, not {kind}{hint}")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{name} must be finite, got {value}")
        return format(value, "f")
    return str(value)


def str_to_decimal(value: str, name: str = "amount") -> Decimal:
    """A required decimal string from the server, as a finite Decimal.

    Every money field of the API is required: an empty string, a non-decimal, NaN or
    Infinity raises :class:`~loyalty_client.errors.InvalidResponse` (a ValueError),
    never reads as 0.
    """
    if not value:
        raise InvalidResponse(f"the server sent an empty {name}")
    try:
        result = Decimal(value)
    except InvalidOperation:
        raise InvalidResponse(f"the server sent an invalid {name}: {value!r}") from None
    if not result.is_finite():
        raise InvalidResponse(f"the server sent a non-finite {name}: {value!r}")
    return result


def datetime_to_pb(value: datetime, name: str = "timestamp") -> timestamp_pb2.Timestamp:
    """An aware datetime as a Timestamp; a naive one raises ValueError."""
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (e.g. tzinfo=timezone.utc)")
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(value.astimezone(UTC))
    return ts


def pb_to_datetime(message: Message, field: str) -> datetime | None:
    """The aware UTC datetime of a Timestamp field, or None when it is unset."""
    if not message.HasField(field):
        return None
    ts: timestamp_pb2.Timestamp = getattr(message, field)
    return ts.ToDatetime(tzinfo=UTC)


def _tidy_number(value: Any) -> Any:
    # Struct numbers are doubles; give back ints where the JSON had them.
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, dict):
        return {k: _tidy_number(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_tidy_number(v) for v in value]
    return value


#: Struct numbers are doubles: larger ints would be silently rounded.
_MAX_SAFE_INT = 2**53


def _check_json(value: Any, where: str) -> None:
    # Walks the whole structure: Struct.update would round big ints, turn Decimals
    # into doubles or fail late on NaN; refuse them here with a clear message.
    if value is None or isinstance(value, bool | str):
        return
    if isinstance(value, Decimal):
        raise TypeError(
            f"{where} is a Decimal, which metadata would store as an inexact double: "
            "put amounts in metadata as strings, e.g. str(amount)"
        )
    if isinstance(value, int):
        if abs(value) > _MAX_SAFE_INT:
            raise ValueError(
                f"{where} = {value} exceeds 2**53 and would be rounded as a double: "
                "store it as a string"
            )
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where} must be finite, not {value!r} (JSON has no NaN/Infinity)")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where} keys must be str, not {type(key).__name__}")
            _check_json(item, f"{where}[{key!r}]")
        return
    if isinstance(value, list | tuple):
        for n, item in enumerate(value):
            _check_json(item, f"{where}[{n}]")
        return
    raise TypeError(
        f"{where} must be JSON-like (str, int, float, bool, None, list, dict), "
        f"not {type(value).__name__}"
    )


def dict_to_struct(value: Mapping[str, Any], name: str = "metadata") -> struct_pb2.Struct:
    """A JSON-like mapping as a Struct (numbers become doubles on the wire).

    The whole structure is checked first: NaN/Infinity, ints beyond 2**53 (they would
    be rounded) raise ValueError, Decimals (store amounts as strings) and other
    non-JSON values raise TypeError.
    """
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a mapping, not {type(value).__name__}")
    _check_json(value, name)
    struct = struct_pb2.Struct()
    struct.update(dict(value))
    return struct


def struct_to_dict(message: Message, field: str) -> dict[str, Any] | None:
    """The dict of a Struct field, or None when it is unset."""
    if not message.HasField(field):
        return None
    result: dict[str, Any] = _tidy_number(json_format.MessageToDict(getattr(message, field)))
    return result


def status_to_pb(value: GiftCardStatus | str, name: str = "status") -> pb.GiftCardStatus:
    try:
        return _STATUS_TO_PB[GiftCardStatus(value)]
    except ValueError:
        allowed = ", ".join(s.value for s in GiftCardStatus)
        raise ValueError(f"{name} must be one of {allowed}, not {value!r}") from None


def _status_from_pb(value: pb.GiftCardStatus) -> GiftCardStatus | None:
    return _STATUS_FROM_PB.get(value)


def _key(idempotency_key: str | None) -> str:
    """None: a fresh uuid4, so a retry cannot apply twice; "": no key at all."""
    return str(uuid.uuid4()) if idempotency_key is None else idempotency_key


def _strings(value: str | Iterable[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)


def _one_of(id: str | None, code: str | None) -> dict[str, str]:
    if (id is None) == (code is None):
        raise ValueError("pass exactly one of id= or code=")
    return {"id": id} if id is not None else {"code": code}  # type: ignore[dict-item]


# ---------------------------------------------------------------- parsing


def point_adjustment(m: pb.PointAdjustment, *, replayed: bool = False) -> PointAdjustment:
    return PointAdjustment(
        id=m.id,
        customer_id=m.customer_id,
        delta=str_to_decimal(m.delta, "delta"),
        reason=m.reason,
        balance_after=str_to_decimal(m.balance_after, "balance_after"),
        created_at=pb_to_datetime(m, "created_at"),
        replayed=replayed,
    )


def gift_card(m: pb.GiftCard) -> GiftCard:
    def opt(name: str) -> str | None:
        return _optional_str(m, name)

    return GiftCard(
        id=m.id,
        code=m.code,
        status=_status_from_pb(m.status),
        value=str_to_decimal(m.value, "value"),
        balance=str_to_decimal(m.balance, "balance"),
        currency_code=m.currency_code,
        customer_id=opt("customer_id"),
        reference_id=opt("reference_id"),
        reference=opt("reference"),
        line_item_id=opt("line_item_id"),
        note=opt("note"),
        expires_at=pb_to_datetime(m, "expires_at"),
        metadata=struct_to_dict(m, "metadata"),
        created_at=pb_to_datetime(m, "created_at"),
        updated_at=pb_to_datetime(m, "updated_at"),
        deleted_at=pb_to_datetime(m, "deleted_at"),
    )


def gift_card_transaction(m: pb.GiftCardTransaction) -> GiftCardTransaction:
    return GiftCardTransaction(
        id=m.id,
        gift_card_id=m.gift_card_id,
        type=_TX_TYPE_FROM_PB.get(m.type),
        amount=str_to_decimal(m.amount, "amount"),
        currency_code=m.currency_code,
        balance_after=str_to_decimal(m.balance_after, "balance_after"),
        reference=m.reference,
        reference_id=m.reference_id,
        created_at=pb_to_datetime(m, "created_at"),
    )


def _optional_str(m: Message, name: str) -> str | None:
    value: str | None = getattr(m, name) if m.HasField(name) else None
    return value


def store_credit_account(m: pb.StoreCreditAccount) -> StoreCreditAccount:
    return StoreCreditAccount(
        id=m.id,
        customer_id=_optional_str(m, "customer_id"),
        code=_optional_str(m, "code"),
        currency_code=m.currency_code,
        metadata=struct_to_dict(m, "metadata"),
        balance=str_to_decimal(m.balance, "balance"),
        credits=str_to_decimal(m.credits, "credits"),
        debits=str_to_decimal(m.debits, "debits"),
        gift_card_id=_optional_str(m, "gift_card_id"),
        created_at=pb_to_datetime(m, "created_at"),
        updated_at=pb_to_datetime(m, "updated_at"),
        deleted_at=pb_to_datetime(m, "deleted_at"),
    )


def account_transaction(m: pb.AccountTransaction) -> AccountTransaction:
    return AccountTransaction(
        id=m.id,
        account_id=m.account_id,
        type=_ACCOUNT_TX_FROM_PB.get(m.type),
        amount=str_to_decimal(m.amount, "amount"),
        note=_optional_str(m, "note"),
        reference=m.reference,
        reference_id=m.reference_id,
        metadata=struct_to_dict(m, "metadata"),
        created_at=pb_to_datetime(m, "created_at"),
        deleted_at=pb_to_datetime(m, "deleted_at"),
    )


def _adjust_points_result(m: pb.AdjustPointsResponse) -> AdjustPointsResult:
    return AdjustPointsResult(
        id=m.id,
        customer_id=m.customer_id,
        balance_after=str_to_decimal(m.balance_after, "balance_after"),
        updated_at=pb_to_datetime(m, "updated_at"),
        history=tuple(point_adjustment(a) for a in m.history),
        replayed=m.replayed,
    )


def _points_balance(m: pb.GetPointsBalanceResponse) -> PointsBalance:
    balance = str_to_decimal(m.balance, "balance")
    # A server before holds (0.2.0) sends neither: nothing is held then.
    held = str_to_decimal(m.held, "held") if m.held else Decimal(0)
    return PointsBalance(
        customer_id=m.customer_id,
        balance=balance,
        updated_at=pb_to_datetime(m, "updated_at"),
        history=tuple(point_adjustment(a) for a in m.history),
        held=held,
        available=str_to_decimal(m.available, "available") if m.available else balance - held,
    )


def points_hold(m: pb.PointsHold) -> PointsHold:
    return PointsHold(
        id=m.id,
        customer_id=m.customer_id,
        points=str_to_decimal(m.points, "points"),
        status=_HOLD_STATUS_FROM_PB.get(m.status),
        reference=m.reference,
        reference_id=m.reference_id,
        expires_at=pb_to_datetime(m, "expires_at"),
        captured_points=(
            str_to_decimal(m.captured_points, "captured_points") if m.captured_points else None
        ),
        adjustment_id=m.adjustment_id or None,
        created_at=pb_to_datetime(m, "created_at"),
        updated_at=pb_to_datetime(m, "updated_at"),
    )


def order_points(m: pb.OrderPoints) -> OrderPoints:
    return OrderPoints(
        customer_id=m.customer_id,
        order_id=m.order_id,
        earned=str_to_decimal(m.earned, "earned"),
        reversed=str_to_decimal(m.reversed, "reversed"),
        created_at=pb_to_datetime(m, "created_at"),
        updated_at=pb_to_datetime(m, "updated_at"),
    )


def _transaction_result(
    m: pb.DebitGiftCardResponse | pb.CreditGiftCardResponse,
) -> GiftCardTransactionResult:
    return GiftCardTransactionResult(
        transaction=gift_card_transaction(m.transaction),
        balance=str_to_decimal(m.balance, "balance"),
        status=_status_from_pb(m.status),
        replayed=m.replayed,
    )


def _ids(m: Any) -> tuple[str, ...]:
    return tuple(m.ids)


# ---------------------------------------------------------------- points


def adjust_points(
    customer_id: str,
    delta: Amount,
    *,
    reason: str = "",
    history: bool = False,
    idempotency_key: str | None = None,
) -> Op[AdjustPointsResult]:
    key = _key(idempotency_key)
    request = pb.AdjustPointsRequest(
        customer_id=customer_id,
        delta=amount_to_str(delta, "delta"),
        reason=reason,
        include_history=history,
        idempotency_key=key,
    )
    return Op("AdjustPoints", request, bool(key), _adjust_points_result)


def batch_adjust_points(
    adjustments: Iterable[PointsAdjustmentInput],
) -> Op[tuple[PointAdjustment, ...]]:
    items = []
    for n, a in enumerate(adjustments):
        if not isinstance(a, PointsAdjustmentInput):
            raise TypeError(
                f"adjustments[{n}] must be a PointsAdjustmentInput, not {type(a).__name__}"
            )
        items.append(
            pb.BatchAdjustPointsItem(
                customer_id=a.customer_id,
                delta=amount_to_str(a.delta, f"adjustments[{n}].delta"),
                reason=a.reason,
                idempotency_key=_key(a.idempotency_key),
            )
        )
    request = pb.BatchAdjustPointsRequest(adjustments=items)
    retryable = bool(items) and all(i.idempotency_key for i in items)

    def parse(m: pb.BatchAdjustPointsResponse) -> tuple[PointAdjustment, ...]:
        # A server before 0.3 sends no `replayed`: every item reads as applied now.
        replayed = list(m.replayed) or [False] * len(m.adjustments)
        return tuple(
            point_adjustment(a, replayed=r) for a, r in zip(m.adjustments, replayed, strict=True)
        )

    return Op("BatchAdjustPoints", request, retryable, parse)


def get_points_balance(customer_id: str, *, history: bool = False) -> Op[PointsBalance]:
    request = pb.GetPointsBalanceRequest(customer_id=customer_id, include_history=history)
    return Op("GetPointsBalance", request, True, _points_balance)


def list_point_adjustments(
    customer_id: str, *, page_size: int = 0, page_token: str = ""
) -> Op[Page[PointAdjustment]]:
    request = pb.ListPointAdjustmentsRequest(
        customer_id=customer_id, page_size=page_size, page_token=page_token
    )

    def parse(m: pb.ListPointAdjustmentsResponse) -> Page[PointAdjustment]:
        return Page(tuple(point_adjustment(a) for a in m.point_adjustments), m.next_page_token)

    return Op("ListPointAdjustments", request, True, parse)


# ------------------------------------------------------------ points holds


def hold_points(
    customer_id: str,
    points: Amount,
    *,
    reference: str = "",
    reference_id: str = "",
    expires_at: datetime | None = None,
    idempotency_key: str | None = None,
) -> Op[HoldPointsResult]:
    key = _key(idempotency_key)
    request = pb.HoldPointsRequest(
        customer_id=customer_id,
        points=amount_to_str(points, "points"),
        reference=reference,
        reference_id=reference_id,
        idempotency_key=key,
    )
    if expires_at is not None:
        request.expires_at.CopyFrom(datetime_to_pb(expires_at, "expires_at"))

    def parse(m: pb.HoldPointsResponse) -> HoldPointsResult:
        return HoldPointsResult(
            hold=points_hold(m.hold),
            available=str_to_decimal(m.available, "available"),
            replayed=m.replayed,
        )

    return Op("HoldPoints", request, bool(key), parse)


def capture_points_hold(
    hold_id: str, *, points: Amount | None = None, reason: str = ""
) -> Op[CapturePointsHoldResult]:
    request = pb.CapturePointsHoldRequest(hold_id=hold_id, reason=reason)
    if points is not None:
        request.points = amount_to_str(points, "points")

    def parse(m: pb.CapturePointsHoldResponse) -> CapturePointsHoldResult:
        return CapturePointsHoldResult(
            hold=points_hold(m.hold), adjustment=point_adjustment(m.adjustment), replayed=m.replayed
        )

    # A hold is captured once: a second capture (a retry) answers with the first.
    return Op("CapturePointsHold", request, True, parse)


def release_points_hold(hold_id: str) -> Op[PointsHold]:
    # Releasing a released hold returns it unchanged: safe to retry.
    return Op("ReleasePointsHold", pb.ReleasePointsHoldRequest(hold_id=hold_id), True, points_hold)


def get_points_hold(hold_id: str) -> Op[PointsHold]:
    return Op("GetPointsHold", pb.GetPointsHoldRequest(hold_id=hold_id), True, points_hold)


def list_points_holds(
    customer_id: str,
    *,
    reference_id: str = "",
    active_only: bool = False,
    page_size: int = 0,
    page_token: str = "",
) -> Op[Page[PointsHold]]:
    request = pb.ListPointsHoldsRequest(
        customer_id=customer_id,
        reference_id=reference_id,
        active_only=active_only,
        page_size=page_size,
        page_token=page_token,
    )

    def parse(m: pb.ListPointsHoldsResponse) -> Page[PointsHold]:
        return Page(tuple(points_hold(h) for h in m.holds), m.next_page_token)

    return Op("ListPointsHolds", request, True, parse)


# ----------------------------------------------------------- order points


def earn_order_points(
    customer_id: str, order_id: str, points: Amount, *, reason: str = ""
) -> Op[EarnOrderPointsResult]:
    request = pb.EarnOrderPointsRequest(
        customer_id=customer_id,
        order_id=order_id,
        points=amount_to_str(points, "points"),
        reason=reason,
    )

    def parse(m: pb.EarnOrderPointsResponse) -> EarnOrderPointsResult:
        return EarnOrderPointsResult(
            adjustment=point_adjustment(m.adjustment),
            order=order_points(m.order),
            replayed=m.replayed,
        )

    # An order earns once: a retry answers with the first result.
    return Op("EarnOrderPoints", request, True, parse)


def reverse_order_points(
    customer_id: str,
    order_id: str,
    *,
    idempotency_key: str,
    points: Amount | None = None,
    reason: str = "",
) -> Op[ReverseOrderPointsResult]:
    if not isinstance(idempotency_key, str):
        raise TypeError("idempotency_key must be a str naming the reversal (e.g. a refund id)")
    request = pb.ReverseOrderPointsRequest(
        customer_id=customer_id,
        order_id=order_id,
        reason=reason,
        idempotency_key=idempotency_key,
    )
    if points is not None:
        request.points = amount_to_str(points, "points")

    def parse(m: pb.ReverseOrderPointsResponse) -> ReverseOrderPointsResult:
        return ReverseOrderPointsResult(
            reversed=str_to_decimal(m.reversed, "reversed"),
            adjustment=point_adjustment(m.adjustment) if m.HasField("adjustment") else None,
            order=order_points(m.order),
            replayed=m.replayed,
        )

    return Op("ReverseOrderPoints", request, bool(idempotency_key), parse)


def get_order_points(customer_id: str, order_id: str) -> Op[OrderPoints]:
    request = pb.GetOrderPointsRequest(customer_id=customer_id, order_id=order_id)
    return Op("GetOrderPoints", request, True, order_points)


# ------------------------------------------------------------ gift cards


def _new_gift_card(card: NewGiftCard, n: int) -> pb.CreateGiftCardInput:
    if not isinstance(card, NewGiftCard):
        raise TypeError(f"gift_cards[{n}] must be a NewGiftCard, not {type(card).__name__}")
    m = pb.CreateGiftCardInput(
        value=amount_to_str(card.value, "value"), currency_code=card.currency_code
    )
    for name in ("code", "customer_id", "reference_id", "reference", "line_item_id", "note"):
        value = getattr(card, name)
        if value is not None:
            setattr(m, name, value)
    if card.status is not None:
        m.status = status_to_pb(card.status)
    if card.expires_at is not None:
        m.expires_at.CopyFrom(datetime_to_pb(card.expires_at, "expires_at"))
    if card.metadata is not None:
        m.metadata.CopyFrom(dict_to_struct(card.metadata))
    return m


def _gift_cards(m: Any) -> tuple[GiftCard, ...]:
    return tuple(gift_card(c) for c in m.gift_cards)


def create_gift_cards(cards: Iterable[NewGiftCard]) -> Op[tuple[GiftCard, ...]]:
    request = pb.CreateGiftCardsRequest(
        gift_cards=[_new_gift_card(c, n) for n, c in enumerate(cards)]
    )
    return Op("CreateGiftCards", request, False, _gift_cards)


_STRING_UPDATE_FIELDS = (
    "currency_code",
    "note",
    "customer_id",
    "reference_id",
    "reference",
    "line_item_id",
)


def _gift_card_update(u: GiftCardUpdate, n: int) -> pb.UpdateGiftCardInput:
    if not isinstance(u, GiftCardUpdate):
        raise TypeError(f"gift_cards[{n}] must be a GiftCardUpdate, not {type(u).__name__}")
    m = pb.UpdateGiftCardInput(id=u.id)
    named: list[str] = []
    clears = False
    for name in ("value", "status", *_STRING_UPDATE_FIELDS, "expires_at", "metadata"):
        value = getattr(u, name)
        if value is UNSET:
            continue
        named.append(name)
        if value is None:
            clears = True
        elif name == "value":
            m.value = amount_to_str(value, "value")
        elif name == "status":
            m.status = status_to_pb(value)
        elif name == "expires_at":
            m.expires_at.CopyFrom(datetime_to_pb(value, "expires_at"))
        elif name == "metadata":
            m.metadata.CopyFrom(dict_to_struct(value))
        else:
            setattr(m, name, value)
    if clears:
        # With a mask, a named field that is absent is cleared (AIP-134).
        m.update_mask.paths.extend(named)
    return m


def update_gift_cards(updates: Iterable[GiftCardUpdate]) -> Op[tuple[GiftCard, ...]]:
    request = pb.UpdateGiftCardsRequest(
        gift_cards=[_gift_card_update(u, n) for n, u in enumerate(updates)]
    )
    return Op("UpdateGiftCards", request, False, _gift_cards)


def retrieve_gift_card(*, id: str | None = None, code: str | None = None) -> Op[GiftCard]:
    request = pb.RetrieveGiftCardRequest(**_one_of(id, code))
    return Op("RetrieveGiftCard", request, True, gift_card)


class GiftCardFilters(TypedDict, total=False):
    """Filters of the gift card list: each matches any of its values; they AND."""

    id: str | Sequence[str]
    code: str | Sequence[str]
    status: GiftCardStatus | str | Sequence[GiftCardStatus | str]
    currency_code: str | Sequence[str]
    reference: str | Sequence[str]
    reference_id: str | Sequence[str]
    customer_id: str | Sequence[str]
    #: Case-insensitive search in code and note.
    q: str
    #: E.g. "created_at DESC" or "value ASC, code ASC".
    order: str
    with_deleted: bool


class GiftCardQuery(GiftCardFilters, total=False):
    """Filters plus Medusa's skip/take, and whether to count all matches."""

    skip: int
    #: None: the server's default (15). At most 1,000.
    take: int | None
    with_count: bool


def _list_gift_cards_request(
    *, skip: int = 0, take: int | None = None, with_count: bool = False, **f: Any
) -> pb.ListGiftCardsRequest:
    unknown = set(f) - set(GiftCardFilters.__annotations__)
    if unknown:
        raise TypeError(f"unknown gift card filter(s): {', '.join(sorted(unknown))}")
    status = f.get("status")
    statuses = [status] if isinstance(status, str) else list(status or [])
    request = pb.ListGiftCardsRequest(
        id=_strings(f.get("id")),
        code=_strings(f.get("code")),
        status=[status_to_pb(s) for s in statuses],
        currency_code=_strings(f.get("currency_code")),
        reference=_strings(f.get("reference")),
        reference_id=_strings(f.get("reference_id")),
        customer_id=_strings(f.get("customer_id")),
        q=f.get("q", ""),
        skip=skip,
        order=f.get("order", ""),
        with_deleted=f.get("with_deleted", False),
        with_count=with_count,
    )
    if take is not None:
        request.take = take
    return request


def _listed(
    rpc: str,
    request: Any,
    items: Callable[[Any], tuple[Item, ...]],
    make: Callable[[tuple[Item, ...], int | None], L],
) -> Op[L]:
    """A Medusa-style skip/take list call; `count` only when the request asked for it.
    The one shape of ListGiftCards, ListStoreCreditAccounts and ListAccountTransactions."""
    with_count = request.with_count

    def parse(m: Any) -> L:
        return make(items(m), m.count if with_count else None)

    return Op(rpc, request, True, parse)


def _skip_page(
    rpc: str,
    build: Callable[..., Any],
    items: Callable[[Any], tuple[Item, ...]],
    page_size: int,
    page_token: str,
    filters: dict[str, Any],
) -> Op[Page[Item]]:
    """A skip/take page dressed as a token page, for the iterators: the token is the
    next skip, empty after a short page."""
    if page_size < 1:
        raise ValueError("page_size must be at least 1")
    skip = int(page_token or 0)
    request = build(skip=skip, take=page_size, **filters)

    def parse(m: Any) -> Page[Item]:
        got = items(m)
        return Page(got, str(skip + len(got)) if len(got) >= page_size else "")

    return Op(rpc, request, True, parse)


def list_gift_cards(**query: Any) -> Op[GiftCardList]:
    """One page by skip/take; see :class:`GiftCardQuery` for the arguments."""
    return _listed("ListGiftCards", _list_gift_cards_request(**query), _gift_cards, GiftCardList)


def gift_cards_page(page_size: int, page_token: str, **filters: Any) -> Op[Page[GiftCard]]:
    """A skip/take page dressed as a token page, for the iterators. The token is
    the next skip; it is empty after a short page."""
    return _skip_page(
        "ListGiftCards", _list_gift_cards_request, _gift_cards, page_size, page_token, filters
    )


def delete_gift_cards(ids: Iterable[str]) -> Op[tuple[str, ...]]:
    return Op("DeleteGiftCards", pb.DeleteGiftCardsRequest(ids=_strings(ids)), False, _ids)


def soft_delete_gift_cards(ids: Iterable[str]) -> Op[tuple[str, ...]]:
    request = pb.SoftDeleteGiftCardsRequest(ids=_strings(ids))
    return Op("SoftDeleteGiftCards", request, False, _ids)


def restore_gift_cards(ids: Iterable[str]) -> Op[tuple[str, ...]]:
    return Op("RestoreGiftCards", pb.RestoreGiftCardsRequest(ids=_strings(ids)), False, _ids)


class MoneyMove(TypedDict, total=False):
    """The keyword arguments of a debit or a credit.

    The card by ``id`` or by ``code`` (exactly one); ``amount`` and ``currency_code``
    are required. Without ``idempotency_key`` the client generates one (``""``: none,
    and the call is never retried).
    """

    id: str | None
    code: str | None
    amount: Required[Amount]
    currency_code: Required[str]
    reference: str
    reference_id: str
    idempotency_key: str | None


_MONEY_MOVE_KEYS = frozenset(MoneyMove.__annotations__)
# Not MoneyMove.__required_keys__: with postponed annotations it does not see Required.
_MONEY_MOVE_REQUIRED = frozenset({"amount", "currency_code"})


def _money_move(kind: str, args: MoneyMove) -> Op[GiftCardTransactionResult]:
    # The signature is a TypedDict, so check what a def would: unknown and missing keys.
    unknown = set(args) - _MONEY_MOVE_KEYS
    if unknown:
        raise TypeError(f"unexpected keyword argument(s): {', '.join(sorted(unknown))}")
    missing = _MONEY_MOVE_REQUIRED - set(args)
    if missing:
        raise TypeError(f"missing keyword argument(s): {', '.join(sorted(missing))}")
    key = _key(args.get("idempotency_key"))
    request_type = pb.DebitGiftCardRequest if kind == "Debit" else pb.CreditGiftCardRequest
    request = request_type(
        **_one_of(args.get("id"), args.get("code")),
        amount=amount_to_str(args["amount"], "amount"),
        currency_code=args["currency_code"],
        reference=args.get("reference", ""),
        reference_id=args.get("reference_id", ""),
        idempotency_key=key,
    )
    return Op(f"{kind}GiftCard", request, bool(key), _transaction_result)


def debit_gift_card(**args: Unpack[MoneyMove]) -> Op[GiftCardTransactionResult]:
    return _money_move("Debit", args)


def credit_gift_card(**args: Unpack[MoneyMove]) -> Op[GiftCardTransactionResult]:
    return _money_move("Credit", args)


def list_gift_card_transactions(
    gift_card_id: str, *, page_size: int = 0, page_token: str = ""
) -> Op[Page[GiftCardTransaction]]:
    request = pb.ListGiftCardTransactionsRequest(
        gift_card_id=gift_card_id, page_size=page_size, page_token=page_token
    )

    def parse(m: pb.ListGiftCardTransactionsResponse) -> Page[GiftCardTransaction]:
        items = tuple(gift_card_transaction(t) for t in m.gift_card_transactions)
        return Page(items, m.next_page_token)

    return Op("ListGiftCardTransactions", request, True, parse)


def get_options() -> Op[GiftCardOptions]:
    def parse(m: pb.GetOptionsResponse) -> GiftCardOptions:
        return GiftCardOptions(prefix=m.prefix, sections=m.sections)

    return Op("GetOptions", pb.GetOptionsRequest(), True, parse)


# ---------------------------------------------------------- store credit


def _new_account(account: NewStoreCreditAccount, n: int) -> pb.CreateStoreCreditAccountInput:
    if not isinstance(account, NewStoreCreditAccount):
        raise TypeError(
            f"accounts[{n}] must be a NewStoreCreditAccount, not {type(account).__name__}"
        )
    m = pb.CreateStoreCreditAccountInput(currency_code=account.currency_code)
    for name in ("customer_id", "code"):
        value = getattr(account, name)
        if value is not None:
            setattr(m, name, value)
    if account.metadata is not None:
        m.metadata.CopyFrom(dict_to_struct(account.metadata))
    return m


def _accounts(m: Any) -> tuple[StoreCreditAccount, ...]:
    return tuple(store_credit_account(a) for a in m.accounts)


def create_store_credit_accounts(
    accounts: Iterable[NewStoreCreditAccount],
) -> Op[tuple[StoreCreditAccount, ...]]:
    request = pb.CreateStoreCreditAccountsRequest(
        accounts=[_new_account(a, n) for n, a in enumerate(accounts)]
    )
    return Op("CreateStoreCreditAccounts", request, False, _accounts)


def _account_update(u: StoreCreditAccountUpdate, n: int) -> pb.UpdateStoreCreditAccountInput:
    if not isinstance(u, StoreCreditAccountUpdate):
        raise TypeError(f"accounts[{n}] must be a StoreCreditAccountUpdate, not {type(u).__name__}")
    m = pb.UpdateStoreCreditAccountInput(id=u.id)
    named: list[str] = []
    clears = False
    for name in ("customer_id", "code", "currency_code", "metadata"):
        value = getattr(u, name)
        if value is UNSET:
            continue
        named.append(name)
        if value is None:
            clears = True
        elif name == "metadata":
            m.metadata.CopyFrom(dict_to_struct(value))
        else:
            setattr(m, name, value)
    if clears:
        # With a mask, a named field that is absent is cleared (AIP-134).
        m.update_mask.paths.extend(named)
    return m


def update_store_credit_accounts(
    updates: Iterable[StoreCreditAccountUpdate],
) -> Op[tuple[StoreCreditAccount, ...]]:
    request = pb.UpdateStoreCreditAccountsRequest(
        accounts=[_account_update(u, n) for n, u in enumerate(updates)]
    )
    return Op("UpdateStoreCreditAccounts", request, False, _accounts)


def retrieve_store_credit_account(
    *, id: str | None = None, code: str | None = None
) -> Op[StoreCreditAccount]:
    request = pb.RetrieveStoreCreditAccountRequest(**_one_of(id, code))
    return Op("RetrieveStoreCreditAccount", request, True, store_credit_account)


class StoreCreditAccountFilters(TypedDict, total=False):
    """Filters of the account list: each matches any of its values; they AND."""

    id: str | Sequence[str]
    customer_id: str | Sequence[str]
    #: Any case.
    currency_code: str | Sequence[str]
    code: str | Sequence[str]
    #: Case-insensitive search in code, customer_id and id.
    q: str
    #: E.g. "created_at DESC" or "balance DESC". Default "created_at ASC".
    order: str
    with_deleted: bool


class StoreCreditAccountQuery(StoreCreditAccountFilters, total=False):
    """Filters plus Medusa's skip/take, and whether to count all matches."""

    skip: int
    #: None: the server's default (15). At most 1,000.
    take: int | None
    with_count: bool


def _list_accounts_request(
    *, skip: int = 0, take: int | None = None, with_count: bool = False, **f: Any
) -> pb.ListStoreCreditAccountsRequest:
    unknown = set(f) - set(StoreCreditAccountFilters.__annotations__)
    if unknown:
        raise TypeError(f"unknown store credit account filter(s): {', '.join(sorted(unknown))}")
    request = pb.ListStoreCreditAccountsRequest(
        id=_strings(f.get("id")),
        customer_id=_strings(f.get("customer_id")),
        currency_code=_strings(f.get("currency_code")),
        code=_strings(f.get("code")),
        q=f.get("q", ""),
        skip=skip,
        order=f.get("order", ""),
        with_deleted=f.get("with_deleted", False),
        with_count=with_count,
    )
    if take is not None:
        request.take = take
    return request


def list_store_credit_accounts(**query: Any) -> Op[StoreCreditAccountList]:
    """One page by skip/take; see :class:`StoreCreditAccountQuery` for the arguments."""
    request = _list_accounts_request(**query)
    return _listed("ListStoreCreditAccounts", request, _accounts, StoreCreditAccountList)


def store_credit_accounts_page(
    page_size: int, page_token: str, **filters: Any
) -> Op[Page[StoreCreditAccount]]:
    """A skip/take page dressed as a token page, for the iterators (as gift_cards_page)."""
    return _skip_page(
        "ListStoreCreditAccounts", _list_accounts_request, _accounts, page_size, page_token, filters
    )


def delete_store_credit_accounts(ids: Iterable[str]) -> Op[tuple[str, ...]]:
    request = pb.DeleteStoreCreditAccountsRequest(ids=_strings(ids))
    return Op("DeleteStoreCreditAccounts", request, False, _ids)


def soft_delete_store_credit_accounts(ids: Iterable[str]) -> Op[tuple[str, ...]]:
    request = pb.SoftDeleteStoreCreditAccountsRequest(ids=_strings(ids))
    return Op("SoftDeleteStoreCreditAccounts", request, False, _ids)


def restore_store_credit_accounts(ids: Iterable[str]) -> Op[tuple[str, ...]]:
    request = pb.RestoreStoreCreditAccountsRequest(ids=_strings(ids))
    return Op("RestoreStoreCreditAccounts", request, False, _ids)


def _entry(entry: AccountEntry, where: str) -> pb.AccountEntryInput:
    if not isinstance(entry, AccountEntry):
        raise TypeError(f"{where} must be an AccountEntry, not {type(entry).__name__}")
    m = pb.AccountEntryInput(
        account_id=entry.account_id,
        amount=amount_to_str(entry.amount, f"{where}.amount"),
        reference=entry.reference,
        reference_id=entry.reference_id,
        idempotency_key=_key(entry.idempotency_key),
    )
    if entry.note is not None:
        m.note = entry.note
    if entry.metadata is not None:
        m.metadata.CopyFrom(dict_to_struct(entry.metadata, f"{where}.metadata"))
    return m


def _movement_result(
    m: pb.CreditAccountsResponse | pb.DebitAccountsResponse,
) -> AccountMovementResult:
    return AccountMovementResult(
        transactions=tuple(account_transaction(t) for t in m.transactions),
        replayed=m.replayed,
    )


def _movement(kind: str, entries: Iterable[AccountEntry]) -> Op[AccountMovementResult]:
    name = "credits" if kind == "Credit" else "debits"
    items = [_entry(e, f"{name}[{n}]") for n, e in enumerate(entries)]
    # Retried only when no item could apply twice: every one carries a key.
    retryable = bool(items) and all(i.idempotency_key for i in items)
    if kind == "Credit":
        request: Message = pb.CreditAccountsRequest(credits=items)
    else:
        request = pb.DebitAccountsRequest(debits=items)
    return Op(f"{kind}Accounts", request, retryable, _movement_result)


def credit_accounts(entries: Iterable[AccountEntry]) -> Op[AccountMovementResult]:
    return _movement("Credit", entries)


def debit_accounts(entries: Iterable[AccountEntry]) -> Op[AccountMovementResult]:
    return _movement("Debit", entries)


def _one_transaction(op: Op[AccountMovementResult]) -> Op[AccountTransactionResult]:
    """The op of a one-entry movement, answering that entry's transaction."""

    def parse(m: Any) -> AccountTransactionResult:
        result = op.parse(m)
        if len(result.transactions) != 1:
            raise InvalidResponse(
                f"the server sent {len(result.transactions)} transactions for one entry"
            )
        return AccountTransactionResult(result.transactions[0], result.replayed)

    return Op(op.method, op.request, op.retryable, parse)


def credit_account(entry: AccountEntry) -> Op[AccountTransactionResult]:
    return _one_transaction(credit_accounts([entry]))


def debit_account(entry: AccountEntry) -> Op[AccountTransactionResult]:
    return _one_transaction(debit_accounts([entry]))


def retrieve_account_stats(account_id: str) -> Op[AccountStats]:
    def parse(m: pb.RetrieveAccountStatsResponse) -> AccountStats:
        return AccountStats(
            id=m.id,
            balance=str_to_decimal(m.balance, "balance"),
            credits=str_to_decimal(m.credits, "credits"),
            debits=str_to_decimal(m.debits, "debits"),
        )

    request = pb.RetrieveAccountStatsRequest(account_id=account_id)
    return Op("RetrieveAccountStats", request, True, parse)


def account_transaction_type_to_pb(
    value: AccountTransactionType | str, name: str = "type"
) -> pb.AccountTransactionType:
    try:
        return _ACCOUNT_TX_TO_PB[AccountTransactionType(value)]
    except ValueError:
        allowed = ", ".join(t.value for t in AccountTransactionType)
        raise ValueError(f"{name} must be one of {allowed}, not {value!r}") from None


class AccountTransactionFilters(TypedDict, total=False):
    """Filters of the transaction list: each matches any of its values; they AND."""

    id: str | Sequence[str]
    account_id: str | Sequence[str]
    type: AccountTransactionType | str | Sequence[AccountTransactionType | str]
    reference: str | Sequence[str]
    reference_id: str | Sequence[str]
    #: E.g. "created_at DESC" (the default) or "amount ASC".
    order: str
    #: Include voided transactions.
    with_deleted: bool


class AccountTransactionQuery(AccountTransactionFilters, total=False):
    """Filters plus Medusa's skip/take, and whether to count all matches."""

    skip: int
    #: None: the server's default (15). At most 1,000.
    take: int | None
    with_count: bool


def _list_transactions_request(
    *, skip: int = 0, take: int | None = None, with_count: bool = False, **f: Any
) -> pb.ListAccountTransactionsRequest:
    unknown = set(f) - set(AccountTransactionFilters.__annotations__)
    if unknown:
        raise TypeError(f"unknown account transaction filter(s): {', '.join(sorted(unknown))}")
    kind = f.get("type")
    kinds = [kind] if isinstance(kind, str) else list(kind or [])
    request = pb.ListAccountTransactionsRequest(
        id=_strings(f.get("id")),
        account_id=_strings(f.get("account_id")),
        type=[account_transaction_type_to_pb(k) for k in kinds],
        reference=_strings(f.get("reference")),
        reference_id=_strings(f.get("reference_id")),
        skip=skip,
        order=f.get("order", ""),
        with_deleted=f.get("with_deleted", False),
        with_count=with_count,
    )
    if take is not None:
        request.take = take
    return request


def _transactions(m: Any) -> tuple[AccountTransaction, ...]:
    return tuple(account_transaction(t) for t in m.transactions)


def list_account_transactions(**query: Any) -> Op[AccountTransactionList]:
    """One page by skip/take; see :class:`AccountTransactionQuery` for the arguments."""
    request = _list_transactions_request(**query)
    return _listed("ListAccountTransactions", request, _transactions, AccountTransactionList)


def account_transactions_page(
    page_size: int, page_token: str, **filters: Any
) -> Op[Page[AccountTransaction]]:
    """A skip/take page dressed as a token page, for the iterators (as gift_cards_page)."""
    return _skip_page(
        "ListAccountTransactions",
        _list_transactions_request,
        _transactions,
        page_size,
        page_token,
        filters,
    )


def delete_account_transactions(ids: Iterable[str]) -> Op[tuple[str, ...]]:
    request = pb.DeleteAccountTransactionsRequest(ids=_strings(ids))
    return Op("DeleteAccountTransactions", request, False, _ids)
