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


class AccountTransactionType(enum.StrEnum):
    """A store-credit transaction adds to (credit) or takes from (debit) an account."""

    CREDIT = "credit"
    DEBIT = "debit"


class _Unset(enum.Enum):
    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


#: Default of the fields of :class:`GiftCardUpdate` and :class:`StoreCreditAccountUpdate`:
#: "leave this field alone".
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
    #: In a batch's answer: this item's idempotency key matched an earlier request,
    #: so this is that request's entry and nothing was applied now.
    replayed: bool = False


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
    #: Points reserved by active, unexpired holds (at read time).
    held: Decimal = Decimal(0)
    #: ``balance - held``: what a hold or a negative adjustment may take.
    available: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class PointsAdjustmentInput:
    """One item of :meth:`LoyaltyClient.batch_adjust_points`."""

    customer_id: str
    delta: Amount
    reason: str = ""
    #: None: the client generates one (a uuid4) so that a retry is safe.
    idempotency_key: str | None = None


# ------------------------------------------------------------ points holds


class PointsHoldStatus(enum.StrEnum):
    """Where a hold is: reserving (active), spent, given back, or past its expiry."""

    ACTIVE = "active"
    CAPTURED = "captured"
    RELEASED = "released"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class PointsHold:
    """Points of a customer reserved for a purpose (a cart) until ``expires_at``."""

    id: str
    customer_id: str
    points: Decimal
    status: PointsHoldStatus | None
    #: What the hold is for, e.g. "cart", and its id ("" when not given).
    reference: str
    reference_id: str
    expires_at: datetime | None
    #: Once captured: the points spent and the ledger debit's id (else None).
    captured_points: Decimal | None
    adjustment_id: str | None
    created_at: datetime | None
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class HoldPointsResult:
    """What :meth:`LoyaltyClient.hold_points` returns."""

    hold: PointsHold
    #: The customer's available points after this hold.
    available: Decimal
    #: True when the idempotency key matched an earlier request: that hold, as it is
    #: now, and nothing reserved twice.
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class CapturePointsHoldResult:
    """What :meth:`LoyaltyClient.capture_points_hold` returns."""

    hold: PointsHold
    #: The ledger debit of the captured points.
    adjustment: PointAdjustment
    #: True when the hold had been captured before: that capture, nothing applied now.
    replayed: bool = False


# ----------------------------------------------------------- order points


@dataclass(frozen=True, slots=True)
class OrderPoints:
    """What one order earned for its customer, and what was taken back of it."""

    customer_id: str
    order_id: str
    earned: Decimal
    reversed: Decimal
    created_at: datetime | None
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class EarnOrderPointsResult:
    """What :meth:`LoyaltyClient.earn_order_points` returns."""

    adjustment: PointAdjustment
    order: OrderPoints
    #: True when this order had earned before: that result, nothing applied now.
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class ReverseOrderPointsResult:
    """What :meth:`LoyaltyClient.reverse_order_points` returns."""

    #: The points this call took back (0 when nothing was left or available).
    reversed: Decimal
    #: The ledger debit; None when nothing was taken back.
    adjustment: PointAdjustment | None
    order: OrderPoints
    replayed: bool = False


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


# ---------------------------------------------------------- store credit


@dataclass(frozen=True, slots=True)
class StoreCreditAccount:
    """A store-credit account (a customer's, or anonymous with a code) and its totals.

    ``balance = credits - debits >= 0``; voided transactions count in neither total.
    """

    id: str
    customer_id: str | None
    code: str | None
    currency_code: str
    metadata: dict[str, Any] | None
    balance: Decimal
    credits: Decimal
    debits: Decimal
    #: The gift card this account funds (its first credit referenced the card), if any.
    gift_card_id: str | None
    created_at: datetime | None
    updated_at: datetime | None
    deleted_at: datetime | None


@dataclass(frozen=True, slots=True)
class NewStoreCreditAccount:
    """The fields of an account to create: at most one live account per
    (customer_id, currency_code); ``code`` (unique) is for anonymous accounts."""

    currency_code: str
    customer_id: str | None = None
    code: str | None = None
    metadata: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class StoreCreditAccountUpdate:
    """A partial update of one store-credit account.

    Fields left :data:`UNSET` are not touched; a value sets the field; ``None`` clears
    it (customer_id, code, metadata). currency_code may change only while the
    account has no transactions.
    """

    id: str
    customer_id: str | Unset | None = UNSET
    code: str | Unset | None = UNSET
    currency_code: str | Unset = UNSET
    metadata: Mapping[str, Any] | Unset | None = UNSET


@dataclass(frozen=True, slots=True)
class StoreCreditAccountList:
    """One page of :meth:`LoyaltyClient.list_store_credit_accounts`."""

    accounts: tuple[StoreCreditAccount, ...]
    #: Number of matches ignoring skip/take; only when ``with_count=True``.
    count: int | None = None


@dataclass(frozen=True, slots=True)
class AccountTransaction:
    """One entry of a store-credit account's ledger; immutable but for voiding."""

    id: str
    account_id: str
    type: AccountTransactionType | None
    #: Always positive: ``type`` says which way it moved the balance.
    amount: Decimal
    note: str | None
    reference: str
    reference_id: str
    metadata: dict[str, Any] | None
    created_at: datetime | None
    #: Set when the transaction was voided (:meth:`LoyaltyClient.delete_account_transactions`).
    deleted_at: datetime | None


@dataclass(frozen=True, slots=True)
class AccountEntry:
    """One credit or debit of :meth:`LoyaltyClient.credit_accounts` /
    :meth:`LoyaltyClient.debit_accounts`."""

    account_id: str
    #: Positive.
    amount: Amount
    note: str | None = None
    reference: str = ""
    reference_id: str = ""
    metadata: Mapping[str, Any] | None = None
    #: Scoped to the account. None: the client generates one (a uuid4) so that a
    #: retry is safe; "": no key (and the call is then never retried).
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class AccountMovementResult:
    """What :meth:`LoyaltyClient.credit_accounts` and ``debit_accounts`` return."""

    #: One per entry, in request order.
    transactions: tuple[AccountTransaction, ...]
    #: True when every entry's idempotency key matched an earlier request: these are
    #: those requests' transactions and nothing was applied now (emit no second event).
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class AccountTransactionResult:
    """What :meth:`LoyaltyClient.credit_account` and ``debit_account`` return."""

    transaction: AccountTransaction
    #: True when the idempotency key matched an earlier request: this is that
    #: request's transaction and nothing was applied now.
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class AccountStats:
    """An account's balance and its credit and debit totals."""

    id: str
    balance: Decimal
    credits: Decimal
    debits: Decimal


@dataclass(frozen=True, slots=True)
class AccountTransactionList:
    """One page of :meth:`LoyaltyClient.list_account_transactions`."""

    transactions: tuple[AccountTransaction, ...]
    #: Number of matches ignoring skip/take; only when ``with_count=True``.
    count: int | None = None


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
    "AccountEntry",
    "AccountMovementResult",
    "AccountStats",
    "AccountTransaction",
    "AccountTransactionList",
    "AccountTransactionResult",
    "AccountTransactionType",
    "AdjustPointsResult",
    "Amount",
    "CapturePointsHoldResult",
    "EarnOrderPointsResult",
    "FieldViolation",
    "GiftCard",
    "GiftCardList",
    "GiftCardOptions",
    "GiftCardStatus",
    "GiftCardTransaction",
    "GiftCardTransactionResult",
    "GiftCardUpdate",
    "HoldPointsResult",
    "NewGiftCard",
    "NewStoreCreditAccount",
    "OrderPoints",
    "Page",
    "PointAdjustment",
    "PointsAdjustmentInput",
    "PointsBalance",
    "PointsHold",
    "PointsHoldStatus",
    "ReverseOrderPointsResult",
    "StoreCreditAccount",
    "StoreCreditAccountList",
    "StoreCreditAccountUpdate",
    "TLSConfig",
    "TransactionType",
    "Unset",
]
