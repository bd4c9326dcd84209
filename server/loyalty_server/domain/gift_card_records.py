"""Gift card records: what a card, its transactions and the requests on them are.

Values only; the rules that check them are in gift_card_rules.py and the use
cases in gift_cards.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from .records import ColumnFilters

PENDING = "pending"
REDEEMED = "redeemed"
STATUSES = (PENDING, REDEEMED)
DEBIT = "debit"
CREDIT = "credit"
# What UpdateGiftCards may change, in the order the API documents them.
UPDATABLE = (
    "value",
    "status",
    "note",
    "currency_code",
    "expires_at",
    "customer_id",
    "metadata",
    "reference_id",
    "reference",
    "line_item_id",
)


@dataclass(frozen=True)
class GiftCard:
    id: str
    code: str
    status: str
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
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None


@dataclass(frozen=True)
class NewGiftCard:
    value: str
    currency_code: str
    code: str | None = None
    status: str | None = None
    customer_id: str | None = None
    reference_id: str | None = None
    reference: str | None = None
    line_item_id: str | None = None
    note: str | None = None
    expires_at: datetime | None = None
    metadata: dict[str, Any] | None = None


@dataclass(frozen=True)
class GiftCardChanges:
    """A partial update: only the keys in `changes` move; a None value clears a field."""

    id: str
    changes: Mapping[str, Any]


@dataclass(frozen=True)
class Transaction:
    id: str
    gift_card_id: str
    type: str
    amount: Decimal
    currency_code: str
    balance_after: Decimal
    reference: str
    reference_id: str
    created_at: datetime


@dataclass(frozen=True)
class Spend:
    """A debit or credit, by card id or code."""

    amount: str
    currency_code: str
    id: str | None = None
    code: str | None = None
    reference: str = ""
    reference_id: str = ""
    idempotency_key: str = ""


@dataclass(frozen=True)
class SpendResult:
    transaction: Transaction
    balance: Decimal
    status: str
    # The idempotency key matched an earlier request: its result, nothing applied now.
    replayed: bool = False


@dataclass(frozen=True)
class CardFilters(ColumnFilters):
    """Filters of ListGiftCards; an empty tuple means "no filter on this field"."""

    id: Sequence[str] = ()
    code: Sequence[str] = ()
    status: Sequence[str] = ()
    currency_code: Sequence[str] = ()
    reference: Sequence[str] = ()
    reference_id: Sequence[str] = ()
    customer_id: Sequence[str] = ()
    q: str = ""
    with_deleted: bool = False


#: The columns ListGiftCards filters on (each: any of the values given).
FILTERS = CardFilters.names()


@dataclass(frozen=True)
class ListQuery:
    filters: CardFilters = field(default_factory=CardFilters)
    skip: int = 0
    take: int | None = None
    order: str = ""
    with_count: bool = False


@dataclass(frozen=True)
class TransactionPage:
    transactions: list[Transaction]
    next_page_token: str


@dataclass(frozen=True)
class Options:
    prefix: str
    sections: int
