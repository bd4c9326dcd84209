"""Plain values the client returns and accepts: frozen dataclasses, no protobuf.

Amounts are :class:`decimal.Decimal`, timestamps are aware :class:`datetime.datetime`
in UTC, metadata is a ``dict``. Nothing here imports grpc or the generated code.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, Generic, TypeVar

T = TypeVar("T")

#: What the client accepts wherever the API takes an amount or a delta. Floats are
#: refused with a TypeError because they are not exact ("0.1" is not 0.1).
Amount = int | str | Decimal


class GiftCardStatus(enum.StrEnum):
    """Medusa's gift card status."""

    PENDING = "pending"
    REDEEMED = "redeemed"


class TransactionType(enum.StrEnum):
    """A gift card transaction spends (debit) or refunds (credit)."""

    DEBIT = "debit"
    CREDIT = "credit"


class _Unset(enum.Enum):
    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


#: Default of the fields of :class:`GiftCardUpdate`: "leave this field alone".
UNSET: Final = _Unset.UNSET
Unset = _Unset


# ---------------------------------------------------------------- points


@dataclass(frozen=True, slots=True)
class PointAdjustment:
    """One immutable entry of a customer's points ledger."""

    id: str
    customer_id: str
    delta: Decimal
    reason: str
    balance_after: Decimal
    created_at: datetime | None


@dataclass(frozen=True, slots=True)
class AdjustPointsResult:
    """What :meth:`LoyaltyClient.adjust_points` returns."""

    id: str
    customer_id: str
    balance_after: Decimal
    updated_at: datetime | None
    #: The last 20 adjustments (this one first); empty unless ``history=True``.
    history: tuple[PointAdjustment, ...] = ()
    #: True when the idempotency key matched an earlier request: this is that
    #: request's result and nothing was applied now (emit no second event).
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class PointsBalance:
    """A customer's balance; an unknown customer has balance 0."""

    customer_id: str
    balance: Decimal
    #: Time of the last adjustment; None when there was none.
    updated_at: datetime | None
    history: tuple[PointAdjustment, ...] = ()


@dataclass(frozen=True, slots=True)
class PointsAdjustmentInput:
    """One item of :meth:`LoyaltyClient.batch_adjust_points`."""

    customer_id: str
    delta: Amount
    reason: str = ""
    #: None: the client generates one (a uuid4) so that a retry is safe.
    idempotency_key: str | None = None


# ------------------------------------------------------------ gift cards


@dataclass(frozen=True, slots=True)
class GiftCard:
    """A gift card, as Medusa's Loyalty Module defines it, plus its balance."""

    id: str
    code: str
    status: GiftCardStatus | None
    value: Decimal
    balance: Decimal
    currency_code: str
    customer_id: str | None
    reference_id: str | None
    reference: str | None
    line_item_id: str | None
    note: str | None
    expires_at: datetime | None
    metadata: dict[str, Any] | None
    created_at: datetime | None
    updated_at: datetime | None
    deleted_at: datetime | None


@dataclass(frozen=True, slots=True)
class NewGiftCard:
    """The fields of a gift card to create. ``code=None``: the server generates one."""

    value: Amount
    currency_code: str
    code: str | None = None
    status: GiftCardStatus | str | None = None
    customer_id: str | None = None
    reference_id: str | None = None
    reference: str | None = None
    line_item_id: str | None = None
    note: str | None = None
    expires_at: datetime | None = None
    metadata: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class GiftCardUpdate:
    """A partial update of one gift card.

    Fields left :data:`UNSET` are not touched; a value sets the field; ``None`` clears
    it (note, customer_id, expires_at, metadata, reference, reference_id,
    line_item_id).
    """

    id: str
    value: Amount | Unset = UNSET
    status: GiftCardStatus | str | Unset = UNSET
    currency_code: str | Unset = UNSET
    note: str | Unset | None = UNSET
    customer_id: str | Unset | None = UNSET
    reference_id: str | Unset | None = UNSET
    reference: str | Unset | None = UNSET
    line_item_id: str | Unset | None = UNSET
    expires_at: datetime | Unset | None = UNSET
    metadata: Mapping[str, Any] | Unset | None = UNSET


@dataclass(frozen=True, slots=True)
class GiftCardList:
    """One page of :meth:`LoyaltyClient.list_gift_cards`."""

    gift_cards: tuple[GiftCard, ...]
    #: Number of matches ignoring skip/take; only when ``with_count=True``.
    count: int | None = None


@dataclass(frozen=True, slots=True)
class GiftCardTransaction:
    """One immutable entry of a gift card's ledger."""

    id: str
    gift_card_id: str
    type: TransactionType | None
    amount: Decimal
    currency_code: str
    balance_after: Decimal
    reference: str
    reference_id: str
    created_at: datetime | None


@dataclass(frozen=True, slots=True)
class GiftCardTransactionResult:
    """What a debit or a credit returns."""

    transaction: GiftCardTransaction
    #: The card's balance after the transaction.
    balance: Decimal
    status: GiftCardStatus | None
    #: True when the idempotency key matched an earlier request: this is that
    #: request's result and nothing was applied now (compensate nothing).
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class GiftCardOptions:
    """The server's gift card code settings: codes look like PREFIX-XXXX-XXXX-..."""

    prefix: str
    sections: int


# ---------------------------------------------------------------- common


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a token-paginated list (AIP-158)."""

    items: tuple[T, ...]
    #: Empty when there are no more pages.
    next_page_token: str = ""


@dataclass(frozen=True, slots=True)
class TLSConfig:
    """TLS settings: PEM file paths or PEM bytes.

    ``TLSConfig()`` uses the system trust store; ``ca_cert`` pins a CA;
    ``client_cert`` and ``client_key`` (both or neither) enable mutual TLS.
    """

    ca_cert: Path | str | bytes | None = None
    client_cert: Path | str | bytes | None = None
    client_key: Path | str | bytes | None = None
    #: Overrides the host name checked against the server certificate.
    server_name: str | None = None

    def __post_init__(self) -> None:
        if (self.client_cert is None) != (self.client_key is None):
            raise ValueError("TLSConfig: client_cert and client_key go together")


@dataclass(frozen=True, slots=True)
class FieldViolation:
    """One bad input field, from google.rpc.BadRequest."""

    field: str
    description: str
    reason: str = ""


__all__ = [
    "UNSET",
    "AdjustPointsResult",
    "Amount",
    "FieldViolation",
    "GiftCard",
    "GiftCardList",
    "GiftCardOptions",
    "GiftCardStatus",
    "GiftCardTransaction",
    "GiftCardTransactionResult",
    "GiftCardUpdate",
    "NewGiftCard",
    "Page",
    "PointAdjustment",
    "PointsAdjustmentInput",
    "PointsBalance",
    "TLSConfig",
    "TransactionType",
    "Unset",
]
